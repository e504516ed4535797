"""Hidden graders of llm/int8_quantization: parameters against PyTorch's observer formulas
(tests/test_twins_* runs MinMaxObserver / PerChannelMinMaxObserver themselves) for random
tensors, both dtypes, both schemes, per tensor and along every axis, and for all-zero and
one-sided data; codes and dequantized values against torch.quantize_per_tensor /
quantize_per_channel (transcribed: 2.13 deprecates them); the integer linear layer against the dequantized one, and its integer
accumulation on large values."""
import torch
import torch.nn.functional as F

from mlkata.checks import check, expect, expect_close, expect_equal, expect_tensor, probe, visible_module

V = visible_module("llm/int8_quantization")
RANGES = {torch.int8: (-128, 127), torch.uint8: (0, 255)}
EPS = torch.finfo(torch.float32).eps


@probe
def qparams_each(sub, cases):
    return [V.qparams.fn(sub, *c) for c in cases]


@probe
def codes_each(sub, cases):
    """(quantize, dequantize of those codes) for each (x, scale, zero_point, dtype, axis)."""
    out = []
    for x, scale, zp, dtype, axis in cases:
        q = sub.quantize(x, scale, zp, dtype, axis=axis)
        out.append([q, sub.dequantize(q, scale, zp, axis=axis)])
    return out


@probe
def linear_each(sub, cases):
    return [sub.int8_linear(*c) for c in cases]


def oracle_qparams(x, symmetric, dtype=torch.int8, axis=None):
    qmin, qmax = RANGES[dtype]
    if axis is None:
        lo, hi = x.min(), x.max()
    else:
        dims = [d for d in range(x.dim()) if d != axis]
        lo, hi = x.amin(dim=dims), x.amax(dim=dims)
    lo, hi = lo.clamp(max=0).float(), hi.clamp(min=0).float()
    if symmetric:
        scale = (torch.maximum(-lo, hi) / ((qmax - qmin) / 2)).clamp(min=EPS)
        return scale, torch.zeros_like(scale, dtype=torch.int64)
    scale = ((hi - lo) / (qmax - qmin)).clamp(min=EPS)
    return scale, (qmin - torch.round(lo / scale)).clamp(qmin, qmax).long()


def torch_codes(x, scale, zp, dtype, axis=None):
    """torch.quantize_per_tensor / quantize_per_channel transcribed (their int_repr and dequantize;
    tests/test_twins_* compares with torch's own, which 2.13 deprecates): float32 reciprocal,
    zero point added before rounding half to even, saturation."""
    qmin, qmax = RANGES[dtype]
    if axis is not None:
        shape = [1] * x.dim()
        shape[axis] = -1
        scale, zp = scale.reshape(shape), zp.reshape(shape)
    inv = 1.0 / scale.float()
    q = torch.clamp(torch.round(x * inv + zp), qmin, qmax)
    return q.to(dtype), ((q - zp) * scale.double()).float()


def rand(seed, *shape, scale=2.0, shift=0.0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * scale + shift


RULE_PARAMS = ("range [min(x, 0), max(x, 0)]; symmetric: scale = max(-lo, hi) / 127.5, zero point 0; affine: "
               "scale = (hi - lo) / (qmax - qmin), zero point = clamp(qmin - round(lo / scale)); scale >= EPS first")


@check("compute_qparams per tensor agrees with PyTorch's observers: symmetric int8, affine int8 and uint8", points=2)
def qparams_per_tensor(run):
    cases = [(rand(s, 5, 7, shift=shift), sym, dt) for s, (shift, sym, dt) in
             enumerate([(0.0, True, torch.int8), (0.0, False, torch.uint8), (0.0, False, torch.int8),
                        (9.0, False, torch.uint8), (-4.0, True, torch.int8), (-9.0, False, torch.int8)])]
    gots = run(qparams_each, cases)
    for (x, sym, dt), got in zip(cases, gots):
        label = f"{'symmetric' if sym else 'affine'} {str(dt).replace('torch.', '')}, x in [{x.min():.2f}, {x.max():.2f}]"
        got = V.pair(got, "compute_qparams")
        expect_tensor(got[0], "scale is a 0-d float tensor per tensor", shape=())
        expect_close(got, list(oracle_qparams(x, sym, dt)), RULE_PARAMS, rtol=1e-6, atol=0,
                     what=f"(scale, zero_point) ({label})")


@check("compute_qparams per channel, along axis 0, 1 and the last", points=2)
def qparams_per_channel(run):
    x = rand(10, 4, 3, 6)
    x[1] = x[1].abs() + 1                         # a channel of positive values only
    x[2] = 0.0                                    # and an all-zero channel
    cases = [(x, sym, dt, axis) for axis in (0, 1, 2) for sym, dt in ((True, torch.int8), (False, torch.uint8))]
    gots = run(qparams_each, cases)
    for (x_, sym, dt, axis), got in zip(cases, gots):
        got = V.pair(got, "compute_qparams")
        expect_close(got, list(oracle_qparams(x_, sym, dt, axis)), RULE_PARAMS + "; per channel: min and max over "
                     "every other dim", rtol=1e-6, atol=0,
                     what=f"(scale, zero_point) per channel along axis {axis} ({'symmetric' if sym else 'affine'})")


@check("all-zero data: scale EPS (no division by zero), zero point by the formula; symmetric uint8 is refused")
def qparams_edges(run):
    zeros = torch.zeros(3, 4)
    gots = run(qparams_each, [(zeros, True), (zeros, False, torch.uint8), (zeros, False, torch.int8)])
    for (sym, dt), got in zip([(True, torch.int8), (False, torch.uint8), (False, torch.int8)], gots):
        expect_close(V.pair(got, "compute_qparams"), list(oracle_qparams(zeros, sym, dt)), "an all-zero tensor gets "
                     "scale = EPS (clamped before the zero point), zero point qmin - round(0) = qmin for affine",
                     rtol=0, atol=0, what=f"(scale, zero_point) of zeros ({'symmetric' if sym else 'affine'} {dt})")
    raised = run(refuses, zeros)
    expect_equal(raised, "ValueError", "symmetric quantization is defined here for int8 only", what="what "
                 "compute_qparams(x, symmetric=True, dtype=torch.uint8) raised")


@probe
def refuses(sub, x):
    try:
        sub.compute_qparams(x, True, dtype=torch.uint8)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - the check decides which exception is right
        return type(e).__name__
    return None


@check("quantize and dequantize agree with torch.quantize_per_tensor / quantize_per_channel (rounding, "
       "saturation, both dtypes)", points=2)
def codes_agree(run):
    cases = []
    x = rand(20, 6, 5, scale=3.0)
    x[0, :4] = torch.tensor([0.5, 1.5, -2.5, 2.5]) * 0.25           # exact halves of 0.25: ties to even
    for dt, zp in ((torch.int8, 5), (torch.uint8, 120)):
        cases.append((x, torch.tensor(0.25), torch.tensor(zp), dt, None))
    cases.append((x, torch.tensor(0.1), torch.tensor(-3), torch.int8, None))
    scales = torch.tensor([0.05, 0.2, 0.01, 0.1, 0.3])
    cases.append((x, scales, torch.tensor([0, 3, -7, 10, 0]), torch.int8, 1))
    cases.append((x, scales[:4].repeat(2)[:6], torch.tensor([128, 100, 0, 255, 30, 7]), torch.uint8, 0))
    gots = run(codes_each, cases)
    for (x_, s, z, dt, axis), got in zip(cases, gots):
        want_q, want_x = torch_codes(x_, s, z, dt, axis)
        label = f"{str(dt).replace('torch.', '')}, {'per tensor' if axis is None else f'per channel along axis {axis}'}"
        expect_tensor(got[0], f"quantize returns {dt} codes of x's shape", shape=x_.shape, dtype=dt)
        expect_equal(got[0], want_q, "q = clamp(round(x * inv_scale + zero_point), qmin, qmax) with inv_scale = "
                     "1 / scale in float32, zero point added before torch.round (halves to even), saturating",
                     what=f"codes ({label})")
        expect_close(got[1], want_x, "dequantize = (q - zero_point) * scale", rtol=1e-6, atol=1e-7,
                     what=f"dequantized values ({label})")


@check("int8_linear equals the linear layer on the dequantized operands (several sizes, one-sided inputs)", points=2)
def linear_agrees(run):
    cases = []
    for s, (N, I, O, shift, bias) in enumerate([(4, 8, 3, 0.0, True), (2, 16, 5, 2.0, False), (6, 5, 7, -1.0, True)]):
        x, w = rand(30 + s, N, I, shift=shift), rand(40 + s, O, I)
        w[:, 0] = w.abs().amax(dim=1) + 0.1         # each row's extreme is positive: its 127.5 saturates to 127
        cases.append((x, w, rand(50 + s, O) if bias else None))                 # however a 1-ulp scale rounds
    gots = run(linear_each, cases)
    for (x, w, b), got in zip(cases, gots):
        s_x, z_x = oracle_qparams(x, False, torch.uint8)
        s_w, z_w = oracle_qparams(w, True, torch.int8, axis=0)
        x_hat = torch_codes(x, s_x, z_x, torch.uint8)[1]
        w_hat = torch_codes(w, s_w, z_w, torch.int8, axis=0)[1]
        expect_close(got, F.linear(x_hat, w_hat, b), "x: affine uint8 per tensor; w: symmetric int8 per output row; "
                     "y = s_x s_w[j] sum_k (q_x - z_x) q_w + bias", rtol=1e-5, atol=1e-4,
                     what=f"int8_linear (x {list(x.shape)}, w {list(w.shape)}, bias {'yes' if b is not None else 'no'})")


@check("int8_linear accumulates in integers wide enough: 512 products of size ~16000 do not overflow")
def linear_accumulates(run):
    x = torch.full((2, 512), 10.0)
    x[1] = -10.0
    x[0, 0] = -10.0                                 # both signs: z_x sits in the middle of the range
    w = torch.full((3, 512), 5.0)
    w[1] = -4.9
    w[1, 0] = 5.0
    w[2, ::2] = -4.9
    [got] = run(linear_each, [(x, w, None)])
    s_x, z_x = oracle_qparams(x, False, torch.uint8)
    s_w, z_w = oracle_qparams(w, True, torch.int8, axis=0)
    want = torch_codes(x, s_x, z_x, torch.uint8)[1].double() @ torch_codes(w, s_w, z_w, torch.int8, axis=0)[1].double().T
    expect_close(got, want.float(), "accumulate (q_x - z_x) q_w in int32/int64: in int8 or int16 the sum of 512 "
                 "products near 128 * 127 overflows", rtol=1e-5, atol=1e-2, what="int8_linear on +-10 x +-5, 512 inputs")
