"""Hidden graders of vision/conv2d_backward: each gradient against autograd through F.conv2d on
random configurations (strides, paddings, dilations, rectangular kernels and pairs), input rows
that no window reads (the stride does not divide evenly), strides larger than the kernel, float64
agreement to 1e-10 with a finite-difference check, 1x1 kernels and single-pixel outputs, the
composite conv2d_backward, dtypes and untouched inputs."""
import torch
import torch.nn.functional as F

from mlkata.checks import check, expect_equal, visible_module

V = visible_module("vision/conv2d_backward")

CONFIGS = (  # (N, C_in, C_out, H, W, kernel, conv)
    (2, 3, 4, 8, 8, 3, dict(stride=1, padding=1)),
    (3, 2, 5, 9, 7, (3, 2), dict(stride=(2, 1), padding=(1, 0))),
    (1, 4, 2, 10, 10, 3, dict(stride=2, padding=2, dilation=2)),
    (2, 1, 3, 7, 9, (2, 3), dict(stride=(1, 3), padding=(0, 1), dilation=(2, 1))),
    (2, 3, 3, 6, 6, 1, dict(stride=1, padding=0)),
)


def expect_random(run, name, seed0, points_of=CONFIGS):
    for i, (N, C_in, C_out, H, W, k, conv) in enumerate(points_of):
        x, w, go, conv = V.case(seed0 + i, N, C_in, C_out, H, W, k, **conv)
        V.expect_part(run(V.part, name, x, w, go, conv), name, V.oracle(x, w, go, conv), V.describe_case(x, w, conv))


@check("conv2d_grad_weight agrees with autograd on random strides, paddings, dilations and kernels", points=2)
def weight_random(run):
    expect_random(run, "dweight", 10)


@check("conv2d_grad_input agrees with autograd on random strides, paddings, dilations and kernels", points=2)
def input_random(run):
    expect_random(run, "dx", 20)


@check("conv2d_grad_bias agrees with autograd on random shapes")
def bias_random(run):
    expect_random(run, "dbias", 30)


@check("input rows and columns no window reads get gradient 0, and dx has input_size's shape "
       "(H = 6, k = 3, stride 2: row 5 is never read)", points=2)
def leftover_rows(run):
    for i, (H, W, k, conv) in enumerate(((6, 8, 3, dict(stride=2)), (7, 7, 2, dict(stride=3, padding=1)),
                                         (9, 6, 3, dict(stride=(3, 2), dilation=(2, 1))))):
        x, w, go, conv = V.case(40 + i, 2, 2, 3, H, W, k, **conv)
        want = V.oracle(x, w, go, conv)
        V.expect_part(run(V.part, "dx", x, w, go, conv), "dx", want,
                      V.describe_case(x, w, conv) + " (the stride does not divide evenly)")
        V.expect_part(run(V.part, "dweight", x, w, go, conv), "dweight", want, V.describe_case(x, w, conv))


@check("a stride larger than the kernel: the skipped pixels get gradient exactly 0")
def gaps(run):
    x, w, go, conv = V.case(50, 1, 2, 2, 9, 9, 2, stride=3)
    got = run(V.part, "dx", x, w, go, conv)
    V.expect_part(got, "dx", V.oracle(x, w, go, conv), V.describe_case(x, w, conv))
    read = torch.arange(9) % 3 < 2                              # windows at 0, 3, 6 read 2 of every 3 rows
    skipped = ~(read[:, None] & read[None, :])                  # (9, 9)
    expect_equal(got["dx"][:, :, skipped], torch.zeros(1, 2, int(skipped.sum())),
                 "a pixel no window reads has gradient 0", what="dx at the skipped pixels")


def finite_difference_dx(x, w, go, conv, h=1e-6):
    numeric = torch.zeros_like(x)
    for j in range(x.numel()):
        plus, minus = x.clone(), x.clone()
        plus.view(-1)[j] += h
        minus.view(-1)[j] -= h
        numeric.view(-1)[j] = ((F.conv2d(plus, w, **conv) - F.conv2d(minus, w, **conv)) * go).sum() / (2 * h)
    return numeric


@check("float64: all three gradients to 1e-10, dx also against central finite differences")
def float64_exact(run):
    x, w, go, conv = V.case(60, 2, 2, 3, 5, 6, (2, 3), dtype=torch.float64, stride=(2, 1), padding=1, dilation=(1, 2))
    want = V.oracle(x, w, go, conv)
    for name in ("dx", "dweight", "dbias"):
        V.expect_part(run(V.part, name, x, w, go, conv), name, want, "float64, " + V.describe_case(x, w, conv),
                      rtol=1e-10, atol=1e-12)
    numeric = finite_difference_dx(x, w, go, conv)
    V.expect_part(run(V.part, "dx", x, w, go, conv), "dx", {"dx": numeric}, "float64, against central finite differences", rtol=1e-6, atol=1e-8)


@check("edge shapes: a kernel as large as the padded input (one output pixel), batch of 1, one channel")
def edge_shapes(run):
    for i, (N, C_in, C_out, H, W, k, conv) in enumerate(((1, 1, 1, 3, 3, 3, {}), (1, 2, 1, 4, 3, (6, 5), dict(padding=1)),
                                                         (3, 1, 2, 1, 1, 1, {}))):
        x, w, go, conv = V.case(70 + i, N, C_in, C_out, H, W, k, **conv)
        want = V.oracle(x, w, go, conv)
        for name in ("dx", "dweight", "dbias"):
            V.expect_part(run(V.part, name, x, w, go, conv), name, want, V.describe_case(x, w, conv))


@check("conv2d_backward returns (dx, dweight, dbias) equal to autograd's on random configurations (and with its "
       "defaults: stride 1, no padding, no dilation)")
def composite(run):
    for i, (N, C_in, C_out, H, W, k, conv) in enumerate(CONFIGS[1:4] + ((2, 2, 3, 5, 6, 3, {}),)):
        x, w, go, conv = V.case(80 + i, N, C_in, C_out, H, W, k, **conv)
        V.expect_all(run(V.part, "all", x, w, go, conv), V.oracle(x, w, go, conv), V.describe_case(x, w, conv))


@check("float64 in, float64 out; no input is modified")
def dtype_and_inputs(run):
    x, w, go, conv = V.case(90, 2, 2, 2, 5, 5, 3, dtype=torch.float64, stride=2, padding=1)
    want = V.oracle(x, w, go, conv)
    for name in ("dx", "dweight", "dbias"):
        got = run(V.part, name, x, w, go, conv)
        V.expect_part(got, name, want, "float64", rtol=1e-10, atol=1e-12)
        for arg, before, after in zip(("x", "weight", "grad_out"), (x, w, go), got["after"]):
            expect_equal(after, before, "the gradient functions do not modify their inputs",
                         what=f"{arg} after computing {name}")
