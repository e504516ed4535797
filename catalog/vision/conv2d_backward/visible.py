"""Visible checks: the three gradients of small convolutions against torch's autograd through
F.conv2d -- a 4x4 image with a 2x2 kernel, then stride 2 with padding 1."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, describe, expect_close, expect_tensor, probe


@probe
def part(sub, name, x, weight, grad_out, conv):
    """Call one gradient function ("dbias", "dweight", "dx", or "all" for conv2d_backward); report
    its result and the inputs afterwards."""
    calls = {"dbias": lambda: sub.conv2d_grad_bias(grad_out),
             "dweight": lambda: sub.conv2d_grad_weight(x, tuple(weight.shape), grad_out, **conv),
             "dx": lambda: sub.conv2d_grad_input(tuple(x.shape), weight, grad_out, **conv),
             "all": lambda: sub.conv2d_backward(x, weight, grad_out, **conv)}
    return {name: calls[name](), "after": [x, weight, grad_out]}


def oracle(x, weight, grad_out, conv):
    """(dx, dweight, dbias) from autograd through F.conv2d."""
    x, weight = (t.detach().clone().requires_grad_(True) for t in (x, weight))
    bias = torch.zeros(weight.shape[0], dtype=weight.dtype, requires_grad=True)
    F.conv2d(x, weight, bias, **conv).backward(grad_out)
    return {"dx": x.grad, "dweight": weight.grad, "dbias": bias.grad}


def case(seed, N, C_in, C_out, H, W, k, dtype=torch.float32, **conv):
    """Random x, weight and a grad_out shaped like the convolution's output."""
    g = torch.Generator().manual_seed(seed)
    kH, kW = (k, k) if isinstance(k, int) else k
    x = torch.randn(N, C_in, H, W, generator=g, dtype=torch.float64).to(dtype)
    weight = torch.randn(C_out, C_in, kH, kW, generator=g, dtype=torch.float64).to(dtype)
    out_shape = F.conv2d(x, weight, **conv).shape
    grad_out = torch.randn(out_shape, generator=g, dtype=torch.float64).to(dtype)
    return x, weight, grad_out, conv


RULES = {
    "dbias": "dbias[o] = sum of grad_out[:, o] over the batch and every position",
    "dweight": "dweight[o, c, u, v] = sum over n, i, j of grad_out[n, o, i, j] * x_pad[n, c, i*sH + u*dH, j*sW + v*dW] "
               "(summed over the batch)",
    "dx": "dx: every window sends grad_out * weight back to the pixels it read (same offsets as the forward pass, "
          "overlaps add up, pixels no window read get 0, padding cropped away)",
    "all": "conv2d_backward returns (dx, dweight, dbias) from the three functions",
}


def describe_case(x, weight, conv):
    return (f"x {list(x.shape)}, weight {list(weight.shape)}"
            + "".join(f", {k}={v}" for k, v in conv.items()))


def expect_part(got, name, want, what, rtol=1e-4, atol=1e-5):
    """Judge side: one gradient (dx, dweight or dbias) of a ``part`` report equals autograd's."""
    value = got[name]
    expect_tensor(value, f"{name} is a tensor shaped like {'the input' if name == 'dx' else name[1:]}: "
                  + RULES[name], shape=want[name].shape, dtype=want[name].dtype)
    expect_close(value, want[name], RULES[name], rtol=rtol, atol=atol, what=f"{name} ({what})")


def expect_all(got, want, what, rtol=1e-4, atol=1e-5):
    """Judge side: conv2d_backward's (dx, dweight, dbias) equal autograd's."""
    value = got["all"]
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise Fail(RULES["all"], f"{what}: expected a tuple of 3 tensors, your code returned {describe(value)}")
    for name, v in zip(("dx", "dweight", "dbias"), value):
        expect_part({name: v}, name, want, what + ", from conv2d_backward", rtol=rtol, atol=atol)


@check("conv2d_grad_bias: the sum of grad_out over batch and positions")
def bias_small(run):
    x, w, go, conv = case(0, 2, 1, 3, 4, 4, 2)
    expect_part(run(part, "dbias", x, w, go, conv), "dbias", oracle(x, w, go, conv), describe_case(x, w, conv))


@check("conv2d_grad_weight on a 4x4 image, 2x2 kernel, stride 1")
def weight_small(run):
    x, w, go, conv = case(1, 1, 2, 1, 4, 4, 2)
    expect_part(run(part, "dweight", x, w, go, conv), "dweight", oracle(x, w, go, conv), describe_case(x, w, conv))


@check("conv2d_grad_input on a 4x4 image, 2x2 kernel, stride 1 (overlapping windows add up)")
def input_small(run):
    x, w, go, conv = case(2, 1, 2, 1, 4, 4, 2)
    expect_part(run(part, "dx", x, w, go, conv), "dx", oracle(x, w, go, conv), describe_case(x, w, conv))


@check("stride 2 and padding 1 on a 5x5 image: all three gradients, and conv2d_backward")
def strided_padded(run):
    x, w, go, conv = case(3, 2, 2, 3, 5, 5, 3, stride=2, padding=1)
    want = oracle(x, w, go, conv)
    for name in ("dbias", "dweight", "dx"):
        expect_part(run(part, name, x, w, go, conv), name, want, describe_case(x, w, conv))
    expect_all(run(part, "all", x, w, go, conv), want, describe_case(x, w, conv))
