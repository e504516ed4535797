"""Hidden graders of llm/rms_norm.

Oracles: ``torch.nn.functional.rms_norm`` (float32/float64) and the float32-statistics formula of
Hugging Face's ``LlamaRMSNorm``, written out here (half precision); tests/test_twins_llm_rms_norm.py
shows that the reference and both oracles agree with ``LlamaRMSNorm`` and ``torch.nn.RMSNorm``.
Checks: random agreement, the default eps, eps inside the square root, no centring, the last
dimension only, gradients, float16 overflow and bfloat16, zero rows, the module, dtype and shape,
inputs untouched.
"""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import check, expect, expect_close, expect_tensor, visible_module

V = visible_module("llm/rms_norm")

RULE = "y = x / sqrt(mean(x^2 over the last dimension) + eps) * weight"


def torch_rms(x, weight, eps=1e-6):
    return F.rms_norm(x, (x.shape[-1],), weight, eps)


def llama_rms(x, weight, eps=1e-6):
    """LlamaRMSNorm's arithmetic: statistics in float32, back to x's dtype, then the weight."""
    h = x.to(torch.float32)
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return weight * h.to(x.dtype)


def inputs(seed, shape, dtype=torch.float32, scale=1.0, shift=0.0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=torch.float64) * scale + shift
    weight = 1 + 0.5 * torch.randn(shape[-1], generator=g, dtype=torch.float64)
    return x.to(dtype), weight.to(dtype)


@check("agrees with torch.nn.functional.rms_norm on random inputs (shapes, weights, eps)", points=2)
def agrees_with_torch(run):
    cases = [(0, (5, 16), 1e-6), (1, (2, 3, 8), 1e-5), (2, (7,), 1e-6), (3, (1, 1, 64), 1e-3), (4, (4, 5, 3), 0.1)]
    for seed, shape, eps in cases:
        x, weight = inputs(seed, shape, scale=3.0)
        got = run(V.norm, x, weight, eps)
        y = expect_tensor(got["y"], "rms_norm returns a tensor of x's shape", shape=shape)
        expect_close(y, torch_rms(x, weight, eps), RULE, what=f"output (shape {list(shape)}, eps {eps})")


@check("the default eps is 1e-6 (LLaMA's), not torch.nn.RMSNorm's finfo(dtype).eps")
def default_eps(run):
    x, weight = inputs(10, (3, 8), scale=1e-3)           # mean(x^2) ~ 1e-6: eps matters here
    got = run(V.norm, x, weight)
    expect_close(got["y"], torch_rms(x, weight, 1e-6), "rms_norm(x, weight) uses eps = 1e-6", what="output")


@check("eps goes inside the square root: x / sqrt(mean(x^2) + eps), not x / (sqrt(mean(x^2)) + eps)")
def eps_inside(run):
    x, weight = inputs(11, (4, 6), scale=1e-3)
    got = run(V.norm, x, weight, 1e-4)
    expect_close(got["y"], torch_rms(x, weight, 1e-4), "add eps to the mean square, then take the square root "
                 "(x around 1e-3, eps 1e-4: here the two places give very different results)", what="output")


@check("RMSNorm neither centres nor divides by the standard deviation (inputs with a large mean)")
def no_centring(run):
    x, weight = inputs(12, (5, 10), shift=4.0)
    got = run(V.norm, x, weight, 1e-6)
    expect_close(got["y"], torch_rms(x, weight, 1e-6), "divide x itself by its root mean square: no mean is "
                 "subtracted (that would be LayerNorm)", what="output (x with mean about 4)")


@check("the mean is over the last dimension of each row: not a sum, not over the whole tensor")
def last_dim_mean(run):
    x, weight = inputs(13, (3, 4, 12), scale=2.0)
    x[0] *= 100.0                                          # rows of very different scales
    got = run(V.norm, x, weight, 1e-6)
    want = torch_rms(x, weight, 1e-6)
    expect_close(got["y"], want, "mean(x^2) is taken over the last dimension only, separately for every row, and "
                 "it is a mean (divide the sum by d)", what="output")
    y = got["y"]
    if isinstance(y, torch.Tensor) and y.shape == want.shape:
        rms_out = (y / weight).double().pow(2).mean(-1).sqrt()
        expect_close(rms_out, torch.ones(3, 4, dtype=torch.float64), "after normalisation every row has RMS 1 "
                     "(before the weight)", rtol=1e-4, what="RMS of each output row divided by the weight")


@check("gradients w.r.t. x and weight agree with torch's rms_norm (the RMS depends on x too)", points=2)
def gradients(run):
    for seed, shape in ((20, (4, 8)), (21, (2, 3, 5))):
        x, weight = inputs(seed, shape, torch.float64, scale=2.0)
        g = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        xr, wr = x.clone().requires_grad_(True), weight.clone().requires_grad_(True)
        (torch_rms(xr, wr, 1e-6) * g).sum().backward()
        got = run(V.norm, x, weight, 1e-6, grad=True, grad_out=g)
        expect(got["differentiable"], "rms_norm is differentiable with respect to x and weight (stay in torch, do not "
               "detach)", "your output does not require grad")
        for name, want in (("x_grad", xr.grad), ("weight_grad", wr.grad)):
            expect_tensor(got[name], f"a gradient reaches {name[:-5]}", shape=want.shape)
            expect_close(got[name], want, "backpropagate through the whole formula, the mean square included: "
                         "dy/dx = (weight / rms) * (g - x * mean(g * weight * x / rms) / rms) -- do not treat the "
                         "RMS as a constant", rtol=1e-5, atol=1e-7, what=f"{name.replace('_', '.')} (shape {list(shape)})")


@check("float16 with |x| in the hundreds: statistics in float32 (x^2 overflows float16 beyond 256)", points=2)
def float16_overflow(run):
    x, weight = inputs(30, (3, 32), scale=600.0)
    x, weight = x.to(torch.float16), weight.to(torch.float16)
    got = run(V.norm, x, weight, 1e-6)
    y = expect_tensor(got["y"], "float16 in, float16 out (cast the normalised x back before the weight)",
                      shape=(3, 32), dtype=torch.float16)
    want = llama_rms(x, weight)
    expect(bool(torch.isfinite(y).all()) and float(y.float().abs().max()) > 0.1,
           "compute mean(x^2) in float32: in float16, 600^2 = 360000 overflows to inf and every output becomes 0",
           f"your output: {y.flatten()[:6].tolist()} ..., expected {want.flatten()[:6].tolist()} ...")
    expect_close(y, want, "y = weight * (x_fp32 / sqrt(mean(x_fp32^2) + eps)).to(float16)", rtol=2e-3, atol=1e-3,
                 what="output (float16)")


@check("bfloat16 in, bfloat16 out, as accurate as float32 statistics give (d = 2048)")
def bfloat16(run):
    x, weight = inputs(31, (4, 2048), scale=5.0)
    x, weight = x.to(torch.bfloat16), weight.to(torch.bfloat16)
    got = run(V.norm, x, weight, 1e-6)
    y = expect_tensor(got["y"], "bfloat16 in, bfloat16 out: cast the float32 result back to the input's dtype",
                      shape=(4, 2048), dtype=torch.bfloat16)
    expect_close(y, llama_rms(x, weight), "compute the statistics in float32, then cast back to bfloat16",
                 rtol=8e-3, atol=1e-3, what="output (bfloat16)")


@check("float64 in, float64 out (values to float32 accuracy at least)")
def float64(run):
    x, weight = inputs(32, (3, 9), torch.float64, scale=2.0)
    got = run(V.norm, x, weight, 1e-6)
    expect_close(got["y"], torch_rms(x, weight, 1e-6), RULE + " -- in x's dtype", rtol=1e-5, atol=1e-7,
                 check_dtype=True, what="output (float64)")


@check("stability: an all-zero row gives zeros (not NaN), huge (1e18) and tiny (1e-20) rows stay finite and right")
def stability(run):
    x = torch.zeros(3, 8)
    x[1] = torch.linspace(-1e18, 1e18, 8)
    x[2] = torch.linspace(-1e-20, 3e-20, 8)
    weight = torch.ones(8)
    got = run(V.norm, x, weight, 1e-6)
    y = expect_tensor(got["y"], "rms_norm returns a tensor of x's shape", shape=(3, 8))
    expect(bool(torch.isfinite(y).all()), "eps inside the square root keeps an all-zero row at 0 (not 0 / 0 = NaN); "
           "huge rows must not overflow", f"your output: {[f'{v:.4g}' for v in y.reshape(-1).tolist()[:8]]} ...")
    expect_close(y, torch_rms(x, weight, 1e-6), RULE, rtol=1e-4, atol=1e-30,
                 what="output (rows: zeros, +-1e18, +-1e-20)")


@check("the RMSNorm module: custom eps, a learned weight that receives gradients, forward = rms_norm", points=2)
def the_module(run):
    x, weight = inputs(40, (2, 3, 6), scale=1e-2)
    g = torch.randn(2, 3, 6, generator=torch.Generator().manual_seed(40))
    got = run(V.module, 6, x, 1e-3, weight, g)
    expect_close(got["eps"], 1e-3, "RMSNorm(hidden_size, eps=...) stores eps", rtol=0, atol=1e-12, what="eps")
    expect_close(got["y"], torch_rms(x, weight, 1e-3), "forward(x) = rms_norm(x, self.weight, self.eps) with the "
                 "layer's own eps", what="output (eps 1e-3, custom weight)")
    wr = weight.clone().requires_grad_(True)
    (torch_rms(x, wr, 1e-3) * g).sum().backward()
    expect_tensor(got["weight_grad"], "RMSNorm.weight is a trainable nn.Parameter: it receives a gradient",
                  shape=(6,))
    expect_close(got["weight_grad"], wr.grad, "d loss / d weight = sum over rows of g * x / rms", what="weight.grad")
    got = run(V.module, 11)
    expect_tensor(got["weight"], "RMSNorm.weight has shape (hidden_size,)", shape=(11,))
    expect_close(got["weight"], torch.ones(11), "RMSNorm.weight starts at ones", what="weight")


@check("rms_norm does not modify x in place")
def x_untouched(run):
    x, weight = inputs(50, (4, 7))
    got = run(V.norm, x, weight, 1e-6)
    expect_close(got["y"], torch_rms(x, weight, 1e-6), RULE, what="output")
    expect(got["x_unchanged"], "rms_norm must not modify its input in place (no x.mul_ / x /= ...): return a new tensor",
           "x was changed by the call")
