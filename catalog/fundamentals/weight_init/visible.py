"""Visible checks: fans of a Linear and a Conv2d weight, three gains, and the scale of each init."""
import math

import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_tensor, probe


@probe
def fans(sub, shapes):
    """``calculate_fan_in_and_fan_out`` of an uninitialised tensor of each shape in ``shapes``."""
    return [sub.calculate_fan_in_and_fan_out(torch.empty(shape)) for shape in shapes]


@probe
def gains(sub, cases):
    """``calculate_gain(name)`` or ``calculate_gain(name, param)`` for each ``(name, param)``."""
    return [sub.calculate_gain(name) if param is None else sub.calculate_gain(name, param) for name, param in cases]


def _fill_one(sub, fn, shape, kwargs=None, dtype=torch.float32, seed=None, global_seed=0):
    torch.manual_seed(global_seed)
    t = torch.full(shape, float("nan"), dtype=dtype)
    kwargs = dict(kwargs or {})
    if seed is not None:
        kwargs["generator"] = torch.Generator().manual_seed(seed)
    out = getattr(sub, fn)(t, **kwargs)
    return {"tensor": t, "same_object": out is t, "returned": None if out is t else out, "after": torch.rand(4)}


@probe
def fill(sub, fn, shape, kwargs=None, dtype=torch.float32, seed=None, global_seed=0):
    """Call ``fn`` (``"xavier_uniform_"`` or ``"kaiming_normal_"``) on a NaN-filled tensor of ``shape``.

    The global RNG is seeded with ``global_seed``; with ``seed``, a ``torch.Generator`` seeded with
    it is passed as ``generator``.  Reports the tensor after the call, whether the same object came
    back, and the next 4 draws of the global RNG (``after``: was it consumed?).
    """
    return _fill_one(sub, fn, shape, kwargs, dtype, seed, global_seed)


@probe
def fill_many(sub, fn, cases):
    """``fill`` for each dict of its keyword arguments in ``cases``."""
    return [_fill_one(sub, fn, **case) for case in cases]


def filled(got, shape, fn):
    """The filled tensor of a ``fill`` report, after the basic rules of an in-place init."""
    t = expect_tensor(got["tensor"], f"{fn} fills the tensor it is given, keeping its shape", shape=shape)
    if torch.isnan(t).any():
        raise Fail(f"{fn} fills the given tensor in place (tensor.uniform_ / tensor.normal_), it does not only "
                   f"return a new one", f"{int(torch.isnan(t).sum())} of {t.numel()} entries of the tensor passed "
                                        f"in were never written (they still hold the NaN the check put there)")
    return t


def fan_pair(got, shape):
    """A ``(fan_in, fan_out)`` pair of Python ints from what the learner returned for ``shape``."""
    rule = "calculate_fan_in_and_fan_out returns a pair of Python ints (fan_in, fan_out)"
    if not isinstance(got, (tuple, list)) or len(got) != 2 or not all(type(v) is int for v in got):
        raise Fail(rule, f"for shape {list(shape)} your code returned {got!r}"[:300])
    return tuple(got)


@check("fans: a Linear weight [out=3, in=5] has fan_in 5 and fan_out 3")
def linear_fans(run):
    got = fan_pair(run(fans, [(3, 5)])[0], (3, 5))
    expect(got == (5, 3), "a Linear weight is stored as [out, in]: fan_in = shape[1], fan_out = shape[0]",
           f"expected (fan_in, fan_out) = (5, 3), your code returned {got}")


@check("fans: a Conv2d weight [out=4, in=2, 3, 3] has fan_in 2*9 = 18 and fan_out 4*9 = 36")
def conv_fans(run):
    got = fan_pair(run(fans, [(4, 2, 3, 3)])[0], (4, 2, 3, 3))
    expect(got == (18, 36), "each fan is multiplied by the receptive field: fan_in = in * 3 * 3, fan_out = out * 3 * 3",
           f"expected (fan_in, fan_out) = (18, 36), your code returned {got}")


@check("gains: relu -> sqrt(2), tanh -> 5/3, linear -> 1")
def three_gains(run):
    cases = [("relu", math.sqrt(2)), ("tanh", 5 / 3), ("linear", 1.0)]
    got = run(gains, [(name, None) for name, _ in cases])
    for (name, want), value in zip(cases, got):
        expect_close(value, want, f"the gain for {name} is {want:.6g}", rtol=1e-6, what=f"calculate_gain({name!r})")


@check("xavier_uniform_ on [200, 300]: every entry lies in [-a, a], a = sqrt(6 / 500), and some come close to a")
def xavier_bound(run):
    t = filled(run(fill, "xavier_uniform_", (200, 300)), (200, 300), "xavier_uniform_")
    a = math.sqrt(6 / 500)
    peak = t.abs().max().item()
    expect(peak <= a * (1 + 1e-6), "draw from U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))",
           f"the largest |entry| is {peak:.6g}, above the bound a = {a:.6g}")
    expect(peak >= 0.99 * a, "draw from U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))",
           f"the largest |entry| of 60000 draws is only {peak:.6g}; U(-a, a) with a = {a:.6g} comes within 1% of a")


@check("kaiming_normal_ on [400, 250] with the defaults has std close to sqrt(2 / fan_in) = sqrt(2 / 250)")
def kaiming_scale(run):
    t = filled(run(fill, "kaiming_normal_", (400, 250)), (400, 250), "kaiming_normal_")
    want = math.sqrt(2 / 250)
    std = t.double().std().item()
    expect(abs(std / want - 1) < 0.02, "std = gain / sqrt(fan_in), with gain sqrt(2) for the default a = 0",
           f"expected a standard deviation of {want:.6g} (within 2%), your code produced {std:.6g}")
