"""Visible checks: max pooling values, indices, -inf padding, ceil mode and gradients on small cases."""
import torch

from mlkata.checks import check, expect, expect_close, expect_equal, expect_tensor, probe


@probe
def pool(sub, x, transpose_input=False, **kwargs):
    """Call max_pool2d(x, **kwargs); report what it returned and the input afterwards.
    With ``transpose_input`` the learner receives ``x.transpose(2, 3)`` (a non-contiguous view)."""
    if transpose_input:
        x = x.transpose(2, 3)
    result = sub.max_pool2d(x, **kwargs)
    if isinstance(result, tuple):
        return {"tuple": list(result), "x_after": x}
    return {"result": result, "x_after": x}


@probe
def pool_grad(sub, x, grad_out, **kwargs):
    """Forward, then backward of sum(out * grad_out); report the gradient of x."""
    x = x.clone().requires_grad_(True)
    out = sub.max_pool2d(x, **kwargs)
    if not isinstance(out, torch.Tensor) or out.shape != grad_out.shape:
        return {"out": out, "grad": None}             # the check reports the wrong output first
    (out * grad_out).sum().backward()
    return {"out": out.detach(), "grad": x.grad}


@probe
def pool_error(sub, x, **kwargs):
    """Call max_pool2d expecting an error; report the exception's type name (None if none was raised)."""
    try:
        out = sub.max_pool2d(x, **kwargs)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - the check decides whether this was the right error
        return {"raised": type(e).__name__, "message": str(e)[:200]}
    return {"raised": None, "message": f"returned {type(out).__name__}"}


def values(got, rule):
    """The pooled tensor from a call without return_indices."""
    expect("result" in got, rule + " (without return_indices, return only the pooled tensor)",
           f"your code returned a tuple of {len(got.get('tuple', []))} items")
    return got["result"]


def values_and_indices(got, rule):
    """(out, indices) from a call with return_indices=True."""
    pair = got.get("tuple")
    expect(pair is not None and len(pair) == 2, rule + " (with return_indices=True, return (out, indices))",
           f"your code returned {'a single tensor' if 'result' in got else f'a tuple of {len(pair or [])} items'}")
    return pair[0], pair[1]


@check("2x2 windows on a 4x4 image: stride defaults to the kernel size; indices are h * W + w")
def basic_with_indices(run):
    x = torch.arange(16.0).view(1, 1, 4, 4)
    got = run(pool, x, kernel_size=2, return_indices=True)
    out, idx = values_and_indices(got, "max over non-overlapping 2x2 windows")
    expect_tensor(idx, "indices are an int64 tensor (the format MaxUnpool2d reads)", dtype=torch.int64)
    want = torch.tensor([[5.0, 7.0], [13.0, 15.0]]).view(1, 1, 2, 2)
    expect_close(out, want, "stride=None means stride = kernel_size: the windows do not overlap", what="output")
    expect_equal(idx, want.long(), "indices give the flat position h * W + w of each maximum in the input plane",
                 what="indices")


@check("padding is -inf, not 0: with all-negative input a padded pixel never wins")
def neg_inf_padding(run):
    x = -torch.arange(1.0, 10.0).view(1, 1, 3, 3)
    got = run(pool, x, kernel_size=3, stride=1, padding=1)
    want = torch.tensor([[-1.0, -1.0, -2.0], [-1.0, -1.0, -2.0], [-4.0, -4.0, -5.0]]).view(1, 1, 3, 3)
    expect_close(values(got, "pad with -inf"), want, "the implicit padding is -inf, so the maximum is always a real "
                 "input value (zero padding would give 0 here)", what="output")


@check("ceil_mode keeps the last partial window: a 5x5 image gives 3x3 windows of size 2")
def ceil_mode(run):
    x = torch.arange(25.0).view(1, 1, 5, 5)
    got = run(pool, x, kernel_size=2, ceil_mode=True, return_indices=True)
    out, idx = values_and_indices(got, "ceil_mode rounds the number of windows up")
    want = torch.tensor([[6.0, 8.0, 9.0], [16.0, 18.0, 19.0], [21.0, 23.0, 24.0]]).view(1, 1, 3, 3)
    expect_close(out, want, "ceil_mode adds a last window that only partly overlaps the input", what="output")
    expect_equal(idx, want.long(), "indices of the partial windows point at real input pixels", what="indices")


@check("the gradient goes to the winning pixel, summed over overlapping windows")
def gradient_to_argmax(run):
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 9.0, 5.0], [6.0, 7.0, 8.0]]).view(1, 1, 3, 3)
    got = run(pool_grad, x, torch.ones(1, 1, 2, 2), kernel_size=2, stride=1)
    want = torch.zeros(1, 1, 3, 3)
    want[0, 0, 1, 1] = 4.0
    expect_close(got["grad"], want, "each output's gradient flows only to its argmax; the centre wins all 4 windows",
                 what="d sum(out) / d x")
