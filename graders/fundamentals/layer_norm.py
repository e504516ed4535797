"""Hidden graders of fundamentals/layer_norm: agreement with torch.nn.functional.layer_norm and
torch.nn.LayerNorm on random inputs (values and gradients), gradcheck in float64, large offsets
where E[x^2] - E[x]^2 fails, constant slices, eps, shape checks, and the module's parameters."""
import torch
import torch.nn.functional as F
from torch import nn

from mlkata.checks import Fail, check, expect, expect_close, probe, visible_module

V = visible_module("fundamentals/layer_norm")


def rand(seed, *shape, dtype=torch.float32, scale=1.0, offset=0.0):
    return (torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * scale
            + offset).to(dtype)


def as_tuple(ns):
    return (ns,) if isinstance(ns, int) else tuple(ns)


def torch_functional(x, normalized_shape, weight=None, bias=None, eps=None, grad_out=None):
    track = grad_out is not None
    x = x.clone().requires_grad_(track)
    weight = None if weight is None else weight.clone().requires_grad_(track)
    bias = None if bias is None else bias.clone().requires_grad_(track)
    out = F.layer_norm(x, as_tuple(normalized_shape), weight, bias, 1e-5 if eps is None else eps)
    report = {"out": out.detach()}
    if track:
        (out * grad_out).sum().backward()
        report.update(x_grad=x.grad, weight_grad=None if weight is None else weight.grad,
                      bias_grad=None if bias is None else bias.grad)
    return report


RULES = {
    "out": "y = (x - mean) / sqrt(var + eps) * weight + bias, mean and biased var over the last "
           "len(normalized_shape) dimensions",
    "x_grad": "the gradient w.r.t. x flows through the mean and the variance too (they are not constants)",
    "weight_grad": "d loss / d weight = sum over the leading dimensions of grad_out * x_hat",
    "bias_grad": "d loss / d bias = sum over the leading dimensions of grad_out",
}


def agree(run, x, normalized_shape, weight=None, bias=None, eps=None, grad_out=None, atol=1e-5, rtol=1e-4,
          label=""):
    got = run(V.functional, x, normalized_shape, weight, bias, eps, grad_out)
    want = torch_functional(x, normalized_shape, weight, bias, eps, grad_out)
    call = (f"layer_norm(x {list(x.shape)}, {normalized_shape!r}{', weight, bias' if weight is not None else ''}"
            f"{'' if eps is None else f', eps={eps}'}){label}")
    for key, value in want.items():
        expect_close(got.get(key), value, RULES[key], atol=atol, rtol=rtol, check_dtype=True,
                     what=f"{key} of {call}")
    expect_close(got["x"], x, "layer_norm must not modify its input", atol=0, rtol=0, what=f"x after {call}")
    return got


CASES = [((4, 7, 16), 16), ((4, 7, 16), (7, 16)), ((3, 5), 5), ((2, 3, 4, 5), (3, 4, 5)), ((6, 1), 1),
         ((2, 3, 4, 5), [5])]


@check("layer_norm agrees with torch.nn.functional.layer_norm on random inputs (k = 1, 2, 3; no affine)", points=2)
def agrees_plain(run):
    for i, (shape, ns) in enumerate(CASES):
        agree(run, rand(i, *shape, scale=3.0, offset=1.0), ns)


@check("layer_norm with weight and bias agrees with torch (float32 and float64)", points=2)
def agrees_affine(run):
    for i, (shape, ns) in enumerate(CASES[:4]):
        for dtype, tol in ((torch.float32, 1e-5), (torch.float64, 1e-12)):
            k = len(as_tuple(ns))
            w, b = rand(50 + i, *shape[-k:], dtype=dtype), rand(60 + i, *shape[-k:], dtype=dtype)
            agree(run, rand(10 + i, *shape, dtype=dtype, scale=2.0), ns, w, b, atol=tol, rtol=tol * 10)


@check("eps is added to the variance inside the square root (eps = 0.5 on small-variance rows)")
def eps_inside(run):
    agree(run, rand(20, 5, 8, scale=0.3), 8, eps=0.5)
    agree(run, rand(21, 3, 2, 4, scale=0.2), (2, 4), rand(22, 2, 4), rand(23, 2, 4), eps=0.1)


@check("gradients w.r.t. x, weight and bias agree with torch's (float64)", points=2)
def gradients(run):
    for i, (shape, ns) in enumerate([((3, 4, 6), 6), ((2, 3, 5), (3, 5))]):
        k = len(as_tuple(ns))
        dt = torch.float64
        agree(run, rand(30 + i, *shape, dtype=dt, scale=2.0), ns, rand(32 + i, *shape[-k:], dtype=dt),
              rand(34 + i, *shape[-k:], dtype=dt), grad_out=rand(36 + i, *shape, dtype=dt), atol=1e-10, rtol=1e-8)
    agree(run, rand(38, 4, 5, dtype=torch.float64), 5, grad_out=rand(39, 4, 5, dtype=torch.float64),
          atol=1e-10, rtol=1e-8, label=" without weight and bias")


@probe
def gradcheck(sub, x, normalized_shape, weight, bias):
    """torch.autograd.gradcheck of layer_norm w.r.t. x, weight and bias (float64)."""
    inputs = tuple(t.clone().requires_grad_(True) for t in (x, weight, bias))
    out = sub.layer_norm(x.clone(), normalized_shape, weight.clone(), bias.clone())
    try:
        ok = torch.autograd.gradcheck(lambda a, w, b: sub.layer_norm(a, normalized_shape, w, b), inputs,
                                      eps=1e-6, atol=1e-5, raise_exception=True)
        return {"ok": bool(ok), "error": "", "out": out}
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - reported, the check decides
        return {"ok": False, "error": f"{type(e).__name__}: {e}"[:600], "out": out}


@check("gradcheck (float64): analytical gradients w.r.t. x, weight and bias match finite differences")
def passes_gradcheck(run):
    dt = torch.float64
    x, w, b = rand(40, 3, 2, 4, dtype=dt), rand(41, 2, 4, dtype=dt), rand(42, 2, 4, dtype=dt)
    got = run(gradcheck, x, (2, 4), w, b)
    expect_close(got["out"], torch.nn.functional.layer_norm(x, (2, 4), w, b),
                 "y = (x - mean) / sqrt(var + eps) * weight + bias over the last dims", atol=1e-10, rtol=1e-8,
                 what="output (float64)")
    expect(got["ok"], "layer_norm must be differentiable end to end: keep the mean and variance in the "
                      "autograd graph (no .detach(), no .item(), no torch.no_grad())", got["error"])


@check("stable for large offsets: x + 1e4 in float32 and x + 1e8 in float64 still normalize correctly", points=2)
def large_offset(run):
    for dtype, offset, atol in ((torch.float32, 1e4, 1e-2), (torch.float64, 1e8, 1e-6)):
        x = rand(43, 16, 64, dtype=dtype, offset=offset)
        got = run(V.functional, x, 64)
        want = F.layer_norm(x.double(), (64,))
        out = got["out"]
        rule = ("compute the variance as mean((x - mean)^2): E[x^2] - E[x]^2 subtracts two nearly equal numbers "
                "around offset^2, whose rounding error dwarfs the true variance (often going negative: NaN)")
        if isinstance(out, torch.Tensor) and out.shape == x.shape and not torch.isfinite(out).all():
            raise Fail(rule, f"x = N(0, 1) + {offset:g} in {str(dtype).replace('torch.', '')}: "
                             f"{int((~torch.isfinite(out)).sum())} of {out.numel()} outputs are NaN or inf")
        expect_close(out, want, rule, atol=atol, rtol=0,
                     what=f"output for x = N(0, 1) + {offset:g} in {str(dtype).replace('torch.', '')} "
                          f"(vs a float64 reference)")


@check("a constant slice normalizes to 0 (then bias): finite output and finite gradients")
def constant_slice(run):
    x = rand(44, 3, 6, dtype=torch.float64)
    x[1] = 7.0
    b = rand(45, 6, dtype=torch.float64)
    got = agree(run, x, 6, rand(46, 6, dtype=torch.float64), b, grad_out=rand(47, 3, 6, dtype=torch.float64),
                atol=1e-9, rtol=1e-7, label=" with a constant row")
    expect_close(got["out"][1], b, "a constant row has x - mean = 0, so its output is exactly the bias",
                 atol=1e-12, what="output of the constant row")


@probe
def shape_error(sub, x, normalized_shape):
    try:
        sub.layer_norm(x, normalized_shape)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - reported, the check decides
        return {"raised": [c.__name__ for c in type(e).__mro__], "message": f"{type(e).__name__}: {e}"[:300]}
    return {"raised": None}


@check("raises ValueError when the last dimensions of x are not normalized_shape")
def shape_mismatch(run):
    for shape, ns in [((4, 6), 5), ((2, 3, 4), (4, 3)), ((4,), (2, 4))]:
        got = run(shape_error, torch.zeros(shape), ns)
        rule = "x must end with normalized_shape; otherwise raise ValueError instead of normalizing the wrong axes"
        expect(got["raised"] is not None, rule, f"layer_norm(x {list(shape)}, {ns!r}) returned without raising")
        expect("ValueError" in got["raised"], rule, f"layer_norm(x {list(shape)}, {ns!r}) raised {got['message']}")


@check("LayerNorm agrees with torch.nn.LayerNorm: parameters, normalized_shape as a tuple, output, gradients",
       points=2)
def module_agrees(run):
    for i, (ns, shape) in enumerate([(8, (3, 5, 8)), ([2, 3], (4, 2, 3)), ((5,), (2, 5))]):
        ref = nn.LayerNorm(ns).double()
        params = (rand(70 + i, *ref.normalized_shape, dtype=torch.float64),
                  rand(80 + i, *ref.normalized_shape, dtype=torch.float64))
        with torch.no_grad():
            ref.weight.copy_(params[0])
            ref.bias.copy_(params[1])
        x = rand(90 + i, *shape, dtype=torch.float64)
        grad_out = rand(95 + i, *shape, dtype=torch.float64)
        got = run(V.module, [ns], {}, x, params, torch.float64, grad_out)
        expect(got["normalized_shape"] == ref.normalized_shape,
               "LayerNorm stores normalized_shape as a tuple of ints (an int n becomes (n,))",
               f"LayerNorm({ns!r}).normalized_shape is {got['normalized_shape']!r}, expected {ref.normalized_shape}")
        want_params = {n: tuple(p.shape) for n, p in ref.named_parameters()}
        expect(got["parameters"] == want_params, "weight and bias are nn.Parameters of shape normalized_shape",
               f"LayerNorm({ns!r}): named_parameters gave {got['parameters']}, expected {want_params}")
        x_ref = x.clone().requires_grad_(True)
        out = ref(x_ref)
        (out * grad_out).sum().backward()
        what = f"LayerNorm({ns!r}) on x {list(shape)} (float64, module moved with .to())"
        expect_close(got["out"], out.detach(), RULES["out"], atol=1e-10, rtol=1e-8, check_dtype=True,
                     what=f"output of {what}")
        expect_close(got["x_grad"], x_ref.grad, RULES["x_grad"], atol=1e-10, rtol=1e-8, what=f"x.grad of {what}")
        expect_close(got["param_grads"], {"weight": ref.weight.grad, "bias": ref.bias.grad},
                     "weight.grad = sum of grad_out * x_hat, bias.grad = sum of grad_out (over the leading dims)",
                     atol=1e-10, rtol=1e-8, what=f"parameter gradients of {what}")


@check("LayerNorm(elementwise_affine=False) has no parameters (weight = bias = None) and honours eps")
def module_no_affine(run):
    x = rand(99, 4, 6, scale=0.4)
    got = run(V.module, [6], {"eps": 0.3, "elementwise_affine": False}, x)
    expect(got["parameters"] == {} and got["weight"] is None and got["bias"] is None,
           "with elementwise_affine=False there are no learnable parameters and weight = bias = None",
           f"named_parameters: {got['parameters']}, weight: {got['weight']!r}, bias: {got['bias']!r}"[:300])
    want = nn.LayerNorm(6, eps=0.3, elementwise_affine=False)(x)
    expect_close(got["out"], want.detach(), RULES["out"] + " (eps inside the square root)",
                 what="output of LayerNorm(6, eps=0.3, elementwise_affine=False)")
