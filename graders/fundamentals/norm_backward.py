"""Hidden graders of fundamentals/norm_backward: every gradient against torch's autograd through
F.layer_norm / F.rms_norm on random shapes (1-D to 4-D), float64 agreement to 1e-10 and central
finite differences, eps inside the square root (tiny-variance and constant rows, non-default eps),
rows far from the origin in float32 (the two-pass variance), dtypes and untouched inputs."""
import torch
import torch.nn.functional as F

from mlkata.checks import check, expect, expect_close, expect_equal, visible_module

V = visible_module("fundamentals/norm_backward")

SHAPES = ((7,), (5, 16), (2, 3, 8), (2, 2, 3, 5))


def data(seed, shape, dtype=torch.float32, scale=1.0, offset=0.0):
    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(shape, generator=g, dtype=torch.float64) * scale + offset).to(dtype)
    w = (1 + 0.5 * torch.randn(shape[-1], generator=g, dtype=torch.float64)).to(dtype)
    grad_out = torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)
    return x, w, grad_out


def ln(run, x, w, grad_out, **kwargs):
    return V.unpack(run(V.ln_backward, x, w, grad_out, **kwargs), x, V.LN_NAMES, "layer_norm_backward")


def rms(run, x, w, grad_out, **kwargs):
    return V.unpack(run(V.rms_backward, x, w, grad_out, **kwargs), x, V.RMS_NAMES, "rms_norm_backward")


@check("layer_norm_backward: dx agrees with autograd on random 1-D to 4-D inputs", points=2)
def ln_dx_random(run):
    for i, shape in enumerate(SHAPES):
        x, w, grad_out = data(i, shape, scale=2.0, offset=0.5)
        V.expect_agrees(ln(run, x, w, grad_out), V.ln_oracle(x, w, grad_out), V.LN_NAMES, "ln", f"shape {list(shape)}",
                        only=("dx",))


@check("layer_norm_backward: dweight and dbias agree with autograd on random 1-D to 4-D inputs", points=2)
def ln_params_random(run):
    for i, shape in enumerate(SHAPES):
        x, w, grad_out = data(10 + i, shape)
        V.expect_agrees(ln(run, x, w, grad_out), V.ln_oracle(x, w, grad_out), V.LN_NAMES, "ln", f"shape {list(shape)}",
                        only=("dweight", "dbias"))


@check("rms_norm_backward: dx agrees with autograd on random 1-D to 4-D inputs", points=2)
def rms_dx_random(run):
    for i, shape in enumerate(SHAPES):
        x, w, grad_out = data(20 + i, shape, scale=2.0, offset=0.5)
        V.expect_agrees(rms(run, x, w, grad_out), V.rms_oracle(x, w, grad_out), V.RMS_NAMES, "rms",
                        f"shape {list(shape)}", only=("dx",))


@check("rms_norm_backward: dweight agrees with autograd on random 1-D to 4-D inputs")
def rms_dweight_random(run):
    for i, shape in enumerate(SHAPES):
        x, w, grad_out = data(30 + i, shape)
        V.expect_agrees(rms(run, x, w, grad_out), V.rms_oracle(x, w, grad_out), V.RMS_NAMES, "rms",
                        f"shape {list(shape)}", only=("dweight",))


def finite_difference(f, x, grad_out, h=1e-6):
    """d sum(f(x) * grad_out) / dx by central differences (float64)."""
    numeric = torch.zeros_like(x)
    for j in range(x.numel()):
        plus, minus = x.clone(), x.clone()
        plus.view(-1)[j] += h
        minus.view(-1)[j] -= h
        numeric.view(-1)[j] = ((f(plus) - f(minus)) * grad_out).sum() / (2 * h)
    return numeric


@check("float64: both backward passes agree with autograd to 1e-10 and with central finite differences")
def float64_exact(run):
    x, w, grad_out = data(40, (3, 6), dtype=torch.float64, scale=1.5)
    got = ln(run, x, w, grad_out, eps=1e-3)
    V.expect_agrees(got, V.ln_oracle(x, w, grad_out, eps=1e-3), V.LN_NAMES, "ln", "float64, eps=1e-3",
                    rtol=1e-10, atol=1e-12)
    numeric = finite_difference(lambda t: F.layer_norm(t, (6,), w, None, 1e-3), x, grad_out)
    expect_close(got[0], numeric, V.RULES["ln dx"] + " (checked by central finite differences)", rtol=1e-6,
                 atol=1e-8, what="dx (float64)")
    got = rms(run, x, w, grad_out, eps=1e-3)
    V.expect_agrees(got, V.rms_oracle(x, w, grad_out, eps=1e-3), V.RMS_NAMES, "rms", "float64, eps=1e-3",
                    rtol=1e-10, atol=1e-12)
    numeric = finite_difference(lambda t: F.rms_norm(t, (6,), w, 1e-3), x, grad_out)
    expect_close(got[0], numeric, V.RULES["rms dx"] + " (checked by central finite differences)", rtol=1e-6,
                 atol=1e-8, what="dx (float64)")


@check("eps is added inside the square root and honoured when given (eps = 0.1 and 1.0; tiny-variance rows)")
def eps_inside(run):
    note = "; eps goes inside the square root: sigma = sqrt(var + eps), r = sqrt(mean(x^2) + eps)"
    for i, eps in enumerate((0.1, 1.0)):
        x, w, grad_out = data(50 + i, (4, 5), dtype=torch.float64, scale=0.3)
        got = ln(run, x, w, grad_out, eps=eps)
        want = V.ln_oracle(x, w, grad_out, eps=eps)
        expect_close(got[0], want[0], V.RULES["ln dx"] + note, rtol=1e-6, atol=1e-9, what=f"LayerNorm dx (eps={eps})")
        got = rms(run, x, w, grad_out, eps=eps)
        want = V.rms_oracle(x, w, grad_out, eps=eps)
        expect_close(got[0], want[0], V.RULES["rms dx"] + note, rtol=1e-6, atol=1e-9, what=f"RMSNorm dx (eps={eps})")
    x, w, grad_out = data(52, (3, 8), dtype=torch.float64, scale=1e-3, offset=2.0)   # std ~ 1e-3: sqrt(eps) matters
    got = ln(run, x, w, grad_out)
    expect_close(got[0], V.ln_oracle(x, w, grad_out)[0], V.RULES["ln dx"] + note, rtol=1e-6, atol=1e-6,
                 what="LayerNorm dx (rows with std 1e-3, default eps 1e-5)")


@check("constant rows (variance 0) and all-zero rows give the finite gradients autograd gives")
def degenerate_rows(run):
    x = torch.tensor([[3.0, 3.0, 3.0, 3.0], [0.0, 0.0, 0.0, 0.0], [1.0, -2.0, 0.5, 4.0]], dtype=torch.float64)
    w = torch.tensor([1.0, 2.0, -1.0, 0.5], dtype=torch.float64)
    grad_out = torch.tensor([[1.0, -1.0, 2.0, 0.5], [0.3, 0.2, -0.1, 1.0], [0.0, 1.0, 0.0, -1.0]], dtype=torch.float64)
    got = ln(run, x, w, grad_out)
    expect(all(bool(t.isfinite().all()) for t in got), "a constant row has var = 0: sigma = sqrt(0 + eps) keeps "
           "every gradient finite", f"your LayerNorm gradients: {[t.tolist() for t in got]}")
    V.expect_agrees(got, V.ln_oracle(x, w, grad_out), V.LN_NAMES, "ln", "constant and zero rows", rtol=1e-8, atol=1e-8)
    got = rms(run, x, w, grad_out)
    expect(all(bool(t.isfinite().all()) for t in got), "an all-zero row has mean(x^2) = 0: r = sqrt(0 + eps) keeps "
           "every gradient finite", f"your RMSNorm gradients: {[t.tolist() for t in got]}")
    V.expect_agrees(got, V.rms_oracle(x, w, grad_out), V.RMS_NAMES, "rms", "constant and zero rows", rtol=1e-8,
                    atol=1e-8)


@check("float32 rows around 1e4 with std 1: LayerNorm gradients stay accurate (two-pass variance)")
def large_offset(run):
    x, w, grad_out = data(60, (6, 32), scale=1.0, offset=1e4)
    got = ln(run, x, w, grad_out)
    want = V.ln_oracle(x.double(), w.double(), grad_out.double())
    rule = ("compute the variance as mean((x - mu)^2): mean(x^2) - mu^2 subtracts two numbers around 1e8 whose "
            "float32 rounding error (~8) exceeds the variance (1)")
    expect(all(bool(t.isfinite().all()) for t in got), rule, "your gradients contain nan or inf")
    for name, g, w_ in zip(V.LN_NAMES, got, want):
        expect_close(g.double(), w_, rule, rtol=2e-2, atol=2e-2, what=f"{name} (float32 rows around 1e4)")


@check("float64 in, float64 out; no input is modified")
def dtype_and_inputs(run):
    x, w, grad_out = data(70, (3, 4), dtype=torch.float64)
    for probe_, names, fn in ((V.ln_backward, V.LN_NAMES, "layer_norm_backward"),
                              (V.rms_backward, V.RMS_NAMES, "rms_norm_backward")):
        got = run(probe_, x, w, grad_out)
        out = V.unpack(got, x, names, fn)
        oracle = V.ln_oracle if fn == "layer_norm_backward" else V.rms_oracle
        expect_close(out[0], oracle(x, w, grad_out)[0], V.RULES[("ln" if names is V.LN_NAMES else "rms") + " dx"],
                     rtol=1e-10, atol=1e-12, what=f"{fn} dx (float64)")
        for name, before, after in zip(("x", "weight", "grad_out"), (x, w, grad_out), got["after"]):
            expect_equal(after, before, f"{fn} does not modify its inputs", what=f"{name} after the call")
