"""Visible checks: symmetric and affine parameters of a small tensor worked out by hand, the
codes with rounding and saturation, and the integer linear layer against the dequantized one."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect_close, expect_equal, probe


def pair(got, name):
    if not (isinstance(got, (list, tuple)) and len(got) == 2):
        raise Fail(f"{name} returns a pair (scale, zero_point)", f"your code returned {type(got).__name__}")
    return list(got)


@probe
def qparams(sub, x, symmetric, dtype=torch.int8, axis=None):
    return sub.compute_qparams(x, symmetric, dtype=dtype, axis=axis)


X = torch.tensor([-1.0, 0.5, 2.0, 3.0])


@check("compute_qparams by hand: symmetric scale = max|x| / 127.5, zero point 0")
def symmetric_by_hand(run):
    scale, zp = pair(run(qparams, X, True), "compute_qparams")
    expect_close([scale, zp], [torch.tensor(3.0 / 127.5), torch.tensor(0)], "max(-lo, hi) = 3 spread over "
                 "(127 - (-128)) / 2 = 127.5 codes; zero point 0", rtol=1e-6, atol=0, what="(scale, zero_point)")


@check("compute_qparams by hand: affine uint8 maps [-1, 3] onto [0, 255] with zero point 64")
def affine_by_hand(run):
    scale, zp = pair(run(qparams, X, False, torch.uint8), "compute_qparams")
    expect_close([scale, zp], [torch.tensor(4.0 / 255), torch.tensor(64)], "scale = (hi - lo) / 255 = 4/255; "
                 "zero_point = 0 - round(-1 / scale) = round(63.75) = 64", rtol=1e-6, atol=0,
                 what="(scale, zero_point)")


@check("quantize adds the zero point, rounds halves to even, and saturates at the ends of the range")
def quantize_by_hand(run):
    x = torch.tensor([0.25, 0.75, -0.25, 100.0, -100.0, 1.0])
    got = run("quantize", x, torch.tensor(0.5), torch.tensor(3), torch.int8)
    expect_equal(got, torch.tensor([4, 4, 2, 127, -128, 5], dtype=torch.int8),
                 "q = clamp(round(x * (1 / 0.5) + 3), -128, 127), torch.round halving to even: 3.5 -> 4, 4.5 -> 4, "
                 "2.5 -> 2 (the zero point is added before rounding); 203 saturates at 127",
                 what="quantize(x, scale=0.5, zero_point=3)")


@check("int8_linear equals the linear layer on the dequantized activations and weight")
def int8_linear_small(run):
    g = torch.Generator().manual_seed(0)
    x, w, b = torch.randn(3, 5, generator=g), torch.randn(4, 5, generator=g), torch.randn(4, generator=g)
    w[:, 0] = w.abs().amax(dim=1) + 0.1        # each row's largest magnitude is positive (127.5 -> 127 either way)
    got = run("int8_linear", x, w, b)
    s_x = (x.max() - x.min()) / 255                      # x has both signs here
    z_x = torch.clamp(0 - torch.round(x.min() / s_x), 0, 255)
    x_hat = (torch.clamp(torch.round(x / s_x) + z_x, 0, 255) - z_x) * s_x
    s_w = w.abs().amax(dim=1, keepdim=True) / 127.5
    w_hat = torch.clamp(torch.round(w / s_w), -128, 127) * s_w
    expect_close(got, F.linear(x_hat, w_hat, b), "activations affine uint8 per tensor, weight symmetric int8 per row; "
                 "integer accumulation of (q_x - z_x) q_w, rescaled by s_x s_w[j], plus bias", rtol=1e-5, atol=1e-5,
                 what="int8_linear(x [3, 5], w [4, 5], b)")
