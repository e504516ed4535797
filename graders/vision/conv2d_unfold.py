"""Hidden graders of vision/conv2d_unfold: agreement with torch.nn.functional.conv2d on random
configurations (plain, non-square and asymmetric, grouped and depthwise), gradients, dtype,
non-contiguous and empty inputs, the degenerate kernel sizes, large values, and the errors."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, StudentError, check, expect, expect_close, visible_module

V = visible_module("vision/conv2d_unfold")


def _pick(g, lo, hi):
    return int(torch.randint(lo, hi + 1, (1,), generator=g))


def _maybe_pair(g, a, b):
    """An int when both axes agree (half of the time), else the (H, W) tuple."""
    return a if a == b and _pick(g, 0, 1) else (a, b)


def random_case(seed, kind, dtype=torch.float32):
    """A random valid configuration. kind: 'plain' (square, int params, groups=1), 'asym'
    (non-square kernel, asymmetric stride/padding/dilation), 'grouped' (2-3 groups) or 'depthwise'."""
    g = torch.Generator().manual_seed(seed)
    if kind == "plain":
        G, k = 1, _pick(g, 1, 4)
        kh = kw = k
        sh = sw = _pick(g, 1, 2)
        ph = pw = _pick(g, 0, min(2, k))
        dh = dw = 1
    else:
        G = {"asym": 1, "grouped": _pick(g, 2, 3), "depthwise": 0}[kind]
        kh, kw = _pick(g, 1, 4), _pick(g, 1, 4)
        if kh == kw:
            kw = kh % 4 + 1
        sh, sw = _pick(g, 1, 3), _pick(g, 1, 3)
        ph, pw = _pick(g, 0, 2), _pick(g, 0, 2)
        dh, dw = _pick(g, 1, 2), _pick(g, 1, 3)
    if G == 0:                         # depthwise: one group per input channel
        c_in = _pick(g, 2, 4)
        G, c_g, c_out = c_in, 1, c_in * _pick(g, 1, 2)
    else:
        c_g = _pick(g, 1, 3)
        c_in, c_out = G * c_g, G * _pick(g, 1, 3)
    n = _pick(g, 1, 3)
    H = max(_pick(g, 4, 9), dh * (kh - 1) + 1 - 2 * ph)
    W = max(_pick(g, 4, 9), dw * (kw - 1) + 1 - 2 * pw)
    x = torch.randn(n, c_in, H, W, generator=g, dtype=dtype)
    w = torch.randn(c_out, c_g, kh, kw, generator=g, dtype=dtype)
    b = torch.randn(c_out, generator=g, dtype=dtype) if _pick(g, 0, 3) else None
    kwargs = dict(stride=_maybe_pair(g, sh, sw), padding=_maybe_pair(g, ph, pw),
                  dilation=_maybe_pair(g, dh, dw), groups=G)
    return x, w, b, kwargs


def label(x, w, b, kwargs):
    return (f"x {list(x.shape)}, weight {list(w.shape)}, bias {'None' if b is None else 'given'}, "
            + ", ".join(f"{k}={v}" for k, v in kwargs.items()))


def call(run, what, rule, context, *args, **kwargs):
    """``run(what, ...)``, but an exception raised by the learner's code names the configuration."""
    try:
        return run(what, *args, **kwargs)
    except StudentError as e:
        if e.kind != "raised":
            raise
        raise Fail(rule, f"on {context}: your code raised {e.message}" + (f" ({e.where})" if e.where else ""))


def agree(run, seeds, kind, rule):
    for seed in seeds:
        x, w, b, kw = random_case(seed, kind)
        want = F.conv2d(x, w, b, **kw)
        got = call(run, V.conv, rule, label(x, w, b, kw), x, w, b, **kw)
        expect_close(got["out"], want, rule, atol=1e-4, rtol=1e-4, what=f"output ({label(x, w, b, kw)})")


@check("agrees with F.conv2d on random inputs: square kernels, int stride/padding, groups=1", points=2)
def agrees_plain(run):
    agree(run, range(0, 8), "plain", "match torch.nn.functional.conv2d (cross-correlation with zero padding)")


@check("agrees with F.conv2d with non-square kernels and different stride/padding/dilation per axis", points=2)
def agrees_asymmetric(run):
    agree(run, range(10, 20), "asym",
          "a (H, W) pair applies its first entry to the height axis and its second to the width axis; "
          "dilation spaces the kernel taps dil apart")


@check("agrees with F.conv2d for grouped convolutions (groups = 2 or 3)", points=2)
def agrees_grouped(run):
    agree(run, range(20, 28), "grouped",
          "with groups=G, output channels [g*C_out/G, (g+1)*C_out/G) see only input channels "
          "[g*C_in/G, (g+1)*C_in/G)")


@check("agrees with F.conv2d for depthwise convolutions (groups = C_in, channel multiplier 1 or 2)")
def agrees_depthwise(run):
    agree(run, range(30, 36), "depthwise",
          "with groups=C_in every input channel is convolved on its own, giving C_out/C_in consecutive "
          "output channels")


@check("gradients with respect to x, weight and bias agree with F.conv2d's", points=2)
def gradients(run):
    for seed, kind in [(40, "plain"), (41, "asym"), (42, "grouped"), (43, "depthwise")]:
        x, w, b, kw = random_case(seed, kind)
        b = torch.randn(w.shape[0], generator=torch.Generator().manual_seed(seed))
        xr, wr, br = (t.clone().requires_grad_(True) for t in (x, w, b))
        out = F.conv2d(xr, wr, br, **kw)
        grad_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed + 100))
        (out * grad_out).sum().backward()
        got = call(run, V.conv_grads, "conv2d must run forward and backward", label(x, w, b, kw),
                   x, w, b, grad_out, **kw)
        expect_close(got["out"], out.detach(), "match torch.nn.functional.conv2d", atol=1e-4,
                     what=f"output ({label(x, w, b, kw)})")
        for key, want in (("x", xr.grad), ("weight", wr.grad), ("bias", br.grad)):
            expect(got[key] is not None, "conv2d must be differentiable in x, weight and bias (keep it in autograd)",
                   f"{key}.grad is None after backward ({label(x, w, b, kw)})")
            expect_close(got[key], want, "the gradient of conv2d flows through the patch matmul back to "
                         "every input pixel, weight and bias", atol=1e-4, rtol=1e-4,
                         what=f"d loss / d {key} ({label(x, w, b, kw)})")


@check("float64 inputs give a float64 output that matches to 1e-12")
def float64(run):
    x, w, b, kw = random_case(50, "grouped", dtype=torch.float64)
    got = call(run, V.conv, "match F.conv2d in float64", label(x, w, b, kw), x, w, b, **kw)
    expect_close(got["out"], F.conv2d(x, w, b, **kw), "the output keeps the input's dtype (float64 here)",
                 check_dtype=True, atol=1e-12, rtol=1e-12, what=f"output ({label(x, w, b, kw)})")


@check("a non-contiguous input (a transposed view) works, and the inputs are not modified")
def non_contiguous(run):
    x, w, b, kw = random_case(60, "asym")
    got = call(run, V.conv, "accept inputs of any strides", f"x = a transposed view, {label(x, w, b, kw)}",
               x, w, b, transpose_input=True, **kw)
    want = F.conv2d(x.transpose(2, 3), w, b, **kw)
    expect_close(got["out"], want, "accept inputs of any strides (use reshape, not view, on tensors you did "
                 "not make contiguous)", atol=1e-4, what=f"output (x = a transposed view of {list(x.shape)})")
    expect_close(got["x_after"], x.transpose(2, 3), "conv2d must not modify its input", atol=0, rtol=0,
                 what="x after the call")
    expect_close(got["weight_after"], w, "conv2d must not modify the weight", atol=0, rtol=0,
                 what="weight after the call")


@check("an empty batch (N = 0) gives an empty output of shape [0, C_out, H_out, W_out]")
def empty_batch(run):
    x = torch.randn(0, 4, 7, 6)
    w = torch.randn(6, 2, 3, 2)
    kw = dict(stride=(2, 1), padding=(1, 0), groups=2)
    one = torch.randn(1, 4, 7, 6, generator=torch.Generator().manual_seed(148))
    got = call(run, V.conv, "a batch of one image", label(one, w, None, kw), one, w, None, **kw)
    expect_close(got["out"], F.conv2d(one, w, None, **kw), "the same layer on one image agrees with F.conv2d",
                 what="output for x [1, 4, 7, 6]")
    got = call(run, V.conv, "N = 0 is a valid batch", label(x, w, None, kw), x, w, None, **kw)
    expect_close(got["out"], F.conv2d(x, w, None, **kw),
                 "N = 0 is a valid batch: give every reshape explicit sizes (a -1 next to a 0 is ambiguous)",
                 what="output for x [0, 4, 7, 6]")


@check("degenerate kernels: a 1x1 kernel with stride 2, and a kernel as large as the padded input")
def degenerate_kernels(run):
    g = torch.Generator().manual_seed(70)
    x = torch.randn(2, 3, 5, 6, generator=g)
    for w, kw in [(torch.randn(4, 3, 1, 1, generator=g), dict(stride=2)),
                  (torch.randn(2, 3, 7, 6, generator=g), dict(padding=(1, 0))),
                  (torch.randn(2, 3, 3, 4, generator=g), dict(dilation=(3, 2), padding=(1, 1)))]:
        got = call(run, V.conv, "H_out = (H + 2*pad - dil*(k - 1) - 1) // stride + 1 also at the extremes",
                   label(x, w, None, kw), x, w, None, **kw)
        expect_close(got["out"], F.conv2d(x, w, None, **kw), "H_out = (H + 2*pad - dil*(k - 1) - 1) // stride + 1 "
                     "also at the extremes", atol=1e-4, what=f"output ({label(x, w, None, kw)})")


@check("large values (|x| ~ 1e15, |w| ~ 1e15) give finite outputs equal to F.conv2d's")
def large_values(run):
    x, w, b, kw = random_case(80, "plain")
    x, w = x * 1e15, w * 1e15
    got = run(V.conv, x, w, None, **kw)
    want = F.conv2d(x, w, None, **kw)
    expect(isinstance(got["out"], torch.Tensor) and bool(torch.isfinite(got["out"]).all()),
           "a convolution of large but representable values stays finite", "the output holds inf or nan")
    expect_close(got["out"], want, "match torch.nn.functional.conv2d for large values", atol=1e27, rtol=1e-4,
                 what="output")


@check("raises ValueError for a weight that does not fit the groups, or a kernel larger than the padded input")
def errors(run):
    cases = [
        (torch.randn(1, 4, 5, 5), torch.randn(6, 3, 3, 3), dict(groups=1), "C_in = 4 but weight expects 3 channels"),
        (torch.randn(1, 4, 5, 5), torch.randn(6, 4, 3, 3), dict(groups=2),
         "groups=2 needs weight.shape[1] = C_in / 2 = 2, got 4"),
        (torch.randn(1, 4, 5, 5), torch.randn(5, 2, 3, 3), dict(groups=2), "C_out = 5 is not divisible by groups=2"),
        (torch.randn(1, 2, 4, 4), torch.randn(3, 2, 3, 3), dict(dilation=2), "a dilated 3x3 kernel spans 5 > 4 pixels"),
    ]
    for x, w, kw, why in cases:
        got = run(V.conv_error, x, w, **kw)
        expect(got["raised"] == "ValueError", "invalid shapes raise ValueError (check them before computing)",
               f"{why}: expected ValueError, your code {'raised ' + got['raised'] if got['raised'] else got['message']}")
