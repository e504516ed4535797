"""Visible checks: the basic rules of conv2d on small hand-computed cases."""
import torch

from mlkata.checks import check, expect_close, probe


@probe
def conv(sub, x, weight, bias=None, stride=None, padding=None, dilation=None, groups=None, transpose_input=False):
    """Call conv2d; report the output and the inputs afterwards (to see in-place changes).
    With ``transpose_input`` the learner receives ``x.transpose(2, 3)`` (a non-contiguous view).
    An option left at None is left out of the call, so its default is what is checked."""
    if transpose_input:
        x = x.transpose(2, 3)
    options = {k: v for k, v in dict(stride=stride, padding=padding, dilation=dilation, groups=groups).items()
               if v is not None}
    out = sub.conv2d(x, weight, bias, **options)
    return {"out": out, "x_after": x, "weight_after": weight}


@probe
def conv_grads(sub, x, weight, bias, grad_out, **kwargs):
    """Forward, then backward of sum(out * grad_out); report the gradients of x, weight and bias."""
    x = x.clone().requires_grad_(True)
    weight = weight.clone().requires_grad_(True)
    bias = None if bias is None else bias.clone().requires_grad_(True)
    out = sub.conv2d(x, weight, bias, **kwargs)
    if not isinstance(out, torch.Tensor) or out.shape != grad_out.shape:
        return {"out": out, "x": None, "weight": None, "bias": None}   # the check reports the output first
    (out * grad_out).sum().backward()
    return {"out": out.detach(), "x": x.grad, "weight": weight.grad, "bias": None if bias is None else bias.grad}


@probe
def conv_error(sub, x, weight, **kwargs):
    """Call conv2d expecting an error; report the exception's type name (None if nothing was raised)."""
    try:
        out = sub.conv2d(x, weight, **kwargs)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - the check decides whether this was the right error
        return {"raised": type(e).__name__, "message": str(e)[:200]}
    return {"raised": None, "message": f"returned {out.shape if isinstance(out, torch.Tensor) else type(out)}"}


@check("the kernel slides without flipping (cross-correlation): 2x2 kernel on a 3x3 image")
def no_flip(run):
    x = torch.arange(9.0).view(1, 1, 3, 3)
    w = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 1, 2, 2)
    got = run(conv, x, w)
    expect_close(got["out"], torch.tensor([[27.0, 37.0], [57.0, 67.0]]).view(1, 1, 2, 2),
                 "out[i, j] = sum_{u,v} w[u, v] * x[i + u, j + v] -- the kernel is not flipped", what="output")


@check("padding=1 with a 3x3 kernel keeps the size, and the padded border holds zeros")
def zero_padding(run):
    got = run(conv, torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), padding=1)
    want = torch.tensor([[4.0, 6.0, 4.0], [6.0, 9.0, 6.0], [4.0, 6.0, 4.0]]).view(1, 1, 3, 3)
    expect_close(got["out"], want, "padding adds zeros on every side; a 3x3 window at a corner covers 4 ones",
                 what="output")


@check("stride 2 moves the window two pixels at a time, and bias is added to every position")
def stride_and_bias(run):
    x = torch.arange(16.0).view(1, 1, 4, 4)
    got = run(conv, x, torch.ones(1, 1, 2, 2), torch.tensor([10.0]), stride=2)
    expect_close(got["out"], torch.tensor([[20.0, 28.0], [52.0, 60.0]]).view(1, 1, 2, 2),
                 "with stride 2 the 2x2 windows do not overlap; bias[o] is added to output channel o",
                 what="output")


@check("groups=2: output channels 0-1 see input channel 0 only, channels 2-3 see input channel 1 only")
def groups_split(run):
    x = torch.tensor([1.0, 10.0]).view(1, 2, 1, 1)
    w = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(4, 1, 1, 1)
    got = run(conv, x, w, groups=2)
    expect_close(got["out"], torch.tensor([1.0, 2.0, 30.0, 40.0]).view(1, 4, 1, 1),
                 "with groups=G, output block g (C_out/G consecutive channels) uses input block g only",
                 what="output")
