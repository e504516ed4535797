"""Hidden graders of vision/max_pool2d: values and indices against torch.nn.functional.max_pool2d
on random tie-free inputs (square and asymmetric windows, dilation, padding, ceil mode, all-negative
inputs where zero padding would show), gradients, dtype, non-contiguous and empty inputs, +-inf and
huge values, and the errors torch raises."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, StudentError, check, expect, expect_close, expect_equal, expect_tensor, visible_module

V = visible_module("vision/max_pool2d")


def _pick(g, lo, hi):
    return int(torch.randint(lo, hi + 1, (1,), generator=g))


def distinct(shape, g, negative=False, dtype=torch.float32):
    """Values without ties (so the argmax is unique); all negative when asked."""
    n = 1
    for s in shape:
        n *= s
    v = torch.randperm(n, generator=g).to(dtype)
    v = -(v + 1) * 0.5 if negative else (v - n / 2) * 0.37
    return v.view(shape)


def random_case(seed, kind, negative=None, dtype=torch.float32):
    """kind: 'plain' (square, ints, no dilation), 'asym' (pairs, dilation), 'ceil' (ceil_mode=True)."""
    g = torch.Generator().manual_seed(seed)
    if kind == "plain":
        k = _pick(g, 1, 4)
        kh = kw = k
        sh = sw = _pick(g, 1, 3)
        ph = pw = _pick(g, 0, k // 2)
        dh = dw = 1
    else:
        kh, kw = _pick(g, 1, 4), _pick(g, 1, 4)
        sh, sw = _pick(g, 1, 3), _pick(g, 1, 3)
        ph, pw = _pick(g, 0, kh // 2), _pick(g, 0, kw // 2)
        dh, dw = _pick(g, 1, 2), _pick(g, 1, 3)
    H = max(_pick(g, 3, 9), dh * (kh - 1) + 1 - 2 * ph)
    W = max(_pick(g, 3, 9), dw * (kw - 1) + 1 - 2 * pw)
    shape = (_pick(g, 1, 2), _pick(g, 1, 3), H, W)
    negative = bool(_pick(g, 0, 1)) if negative is None else negative
    x = distinct(shape, g, negative, dtype)
    kwargs = dict(kernel_size=kh if kh == kw and kind == "plain" else (kh, kw), padding=ph if ph == pw else (ph, pw),
                  dilation=dh if dh == dw else (dh, dw), ceil_mode=kind == "ceil")
    if kind == "plain" and _pick(g, 0, 1):               # stride left out: it defaults to kernel_size
        x = distinct((x.shape[0], x.shape[1], max(x.shape[2], kh), max(x.shape[3], kw)), g, negative, dtype)
    else:
        kwargs["stride"] = sh if sh == sw else (sh, sw)
    return x, kwargs


def label(x, kwargs):
    return f"x {list(x.shape)}, " + ", ".join(f"{k}={v}" for k, v in kwargs.items())


def call(run, what, rule, context, *args, **kwargs):
    """``run(what, ...)``, but an exception raised by the learner's code names the configuration."""
    try:
        return run(what, *args, **kwargs)
    except StudentError as e:
        if e.kind != "raised":
            raise
        raise Fail(rule, f"on {context}: your code raised {e.message}" + (f" ({e.where})" if e.where else ""))


def agree(run, seeds, kind, rule, indices=True, negative=None, int64=False):
    for seed in seeds:
        x, kw = random_case(seed, kind, negative)
        want, want_idx = F.max_pool2d(x, return_indices=True, **kw)
        if indices:
            got = call(run, V.pool, rule, label(x, kw), x, return_indices=True, **kw)
            out, idx = V.values_and_indices(got, rule)
            if int64:
                expect_tensor(idx, "indices are an int64 tensor, as torch returns them", dtype=torch.int64)
        else:
            got = call(run, V.pool, rule, label(x, kw), x, **kw)
            out = V.values(got, rule)
        expect_close(out, want, rule, what=f"output ({label(x, kw)})")
        if indices:
            expect_equal(idx, want_idx, "indices are h * W + w of the winning pixel in the unpadded input plane",
                         what=f"indices ({label(x, kw)})")


@check("values agree with F.max_pool2d on random inputs (square windows, int stride/padding)", points=2)
def values_plain(run):
    agree(run, range(0, 10), "plain", "out = max over each kH x kW window of the -inf padded input", indices=False)


@check("indices agree with F.max_pool2d's return_indices on random inputs", points=2)
def indices_plain(run):
    agree(run, range(10, 20), "plain", "with return_indices=True return (out, indices)", int64=True)


@check("values and indices agree for non-square windows, per-axis stride/padding and dilation", points=2)
def asymmetric_dilated(run):
    agree(run, range(20, 32), "asym", "a (H, W) pair applies per axis; dilation spaces the window's taps apart")


@check("values and indices agree in ceil_mode, where the last window may hang over the edge", points=2)
def ceil_mode_random(run):
    agree(run, range(40, 52), "ceil", "ceil_mode keeps a last partial window only if it starts inside the input "
          "or its left padding")


@check("all-negative inputs with padding: the -inf padding never wins (zero padding would)")
def all_negative(run):
    agree(run, range(60, 66), "asym", "the implicit padding is -inf, so every output is a real input value",
          negative=True)


@check("gradients agree with F.max_pool2d's: each output's gradient goes to its argmax, summed over windows",
       points=2)
def gradients(run):
    for seed, kind in [(70, "plain"), (71, "asym"), (72, "ceil"), (73, "asym")]:
        x, kw = random_case(seed, kind)
        kw = dict(kw, stride=1) if seed == 73 else kw        # heavily overlapping windows
        xr = x.clone().requires_grad_(True)
        out = F.max_pool2d(xr, **kw)
        grad_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed))
        (out * grad_out).sum().backward()
        got = call(run, V.pool_grad, "max_pool2d must run forward and backward", label(x, kw), x, grad_out, **kw)
        expect_close(got["out"], out.detach(), "forward output of max_pool2d", what=f"output ({label(x, kw)})")
        expect(got["grad"] is not None, "max_pool2d must be differentiable (keep it in autograd)",
               f"x.grad is None after backward ({label(x, kw)})")
        expect_close(got["grad"], xr.grad, "the gradient of each output flows to the input pixel that won its window; "
                     "a pixel that wins several windows gets the sum", what=f"d loss / d x ({label(x, kw)})")


@check("float64 stays float64; a non-contiguous input works and is not modified")
def dtype_and_strides(run):
    x, kw = random_case(80, "asym", dtype=torch.float64)
    got = call(run, V.pool, "max_pool2d works for float64 inputs", label(x, kw), x, **kw)
    expect_close(V.values(got, "max pooling"), F.max_pool2d(x, **kw), "the output keeps the input's dtype (float64)",
                 check_dtype=True, atol=0, rtol=0, what=f"output ({label(x, kw)})")
    x, kw = random_case(81, "asym")
    xt = x.transpose(2, 3)
    got = call(run, V.pool, "accept inputs of any strides", f"a transposed view, {label(xt, kw)}", x,
               transpose_input=True, return_indices=True, **kw)
    out, idx = V.values_and_indices(got, "max pooling with indices")
    want, want_idx = F.max_pool2d(xt, return_indices=True, **kw)
    expect_close(out, want, "accept inputs of any strides (a transposed view here)", what="output")
    expect_equal(idx, want_idx, "indices use the logical H x W layout, whatever the memory strides", what="indices")
    expect_close(got["x_after"], xt, "max_pool2d must not modify its input", atol=0, rtol=0, what="x after the call")


@check("an empty batch (N = 0) gives empty outputs of shape [0, C, H_out, W_out]")
def empty_batch(run):
    x = torch.randn(0, 3, 7, 6)
    kw = dict(kernel_size=(3, 2), stride=2, padding=1, return_indices=True)
    one = torch.randn(1, 3, 7, 6, generator=torch.Generator().manual_seed(149))
    out, idx = V.values_and_indices(call(run, V.pool, "a batch of one image", label(one, kw), one, **kw),
                                    "max_pool2d returns (values, indices)")
    want, want_idx = F.max_pool2d(one, **kw)
    expect_close(out, want, "the same pooling on one image agrees with F.max_pool2d", what="output for x [1, 3, 7, 6]")
    expect_equal(idx, want_idx, "indices are flat positions in each unpadded H * W input plane", what="indices")
    got = call(run, V.pool, "N = 0 is a valid batch", label(x, kw), x, **kw)
    out, idx = V.values_and_indices(got, "N = 0 is a valid batch")
    want, want_idx = F.max_pool2d(x, **kw)
    expect_close(out, want, "N = 0 is a valid batch: give reshapes explicit sizes", what="output")
    expect_equal(idx, want_idx, "N = 0 is a valid batch", what="indices")


@check("infinities and huge values (+-inf, +-3e38) give the same values as torch")
def extreme_values(run):
    g = torch.Generator().manual_seed(90)
    x = distinct((2, 2, 6, 7), g) * 1e36
    x[0, 0, 0, :3] = float("inf")
    x[0, 1, 2:5, 2:5] = float("-inf")
    x[1, 0, :, 0] = -3e38
    x[1, 1, 3, 3] = 3e38
    for kw in (dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=(2, 3), ceil_mode=True, padding=(1, 0))):
        got = call(run, V.pool, "+inf and -inf are valid input values", label(x, kw), x, **kw)
        expect_close(V.values(got, "max pooling"), F.max_pool2d(x, **kw),
                     "+inf wins its windows; a window of only -inf gives -inf; no overflow for huge values",
                     what=f"output ({label(x, kw)})")


@check("raises ValueError when padding exceeds half the kernel or the output would be empty")
def errors(run):
    cases = [(torch.randn(1, 1, 6, 6), dict(kernel_size=2, padding=2), "padding 2 > kernel_size // 2 = 1"),
             (torch.randn(1, 1, 6, 6), dict(kernel_size=(4, 3), padding=(1, 2)), "padding 2 > kernel width 3 // 2 = 1"),
             (torch.randn(1, 1, 2, 6), dict(kernel_size=3), "a 3x3 window does not fit a 2-pixel-high input"),
             (torch.randn(1, 1, 6, 6), dict(kernel_size=3, dilation=3), "a dilated 3x3 window spans 7 > 6 pixels")]
    for x, kw, why in cases:
        got = run(V.pool_error, x, **kw)
        expect(got["raised"] == "ValueError", "invalid configurations raise ValueError",
               f"{why}: expected ValueError, your code "
               + (f"raised {got['raised']}" if got["raised"] else got["message"]))
