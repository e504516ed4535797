"""Hidden graders of fundamentals/weight_init: exact fans and gains against torch.nn.init, and the
distribution of the filled weights (bounds, mean, standard deviation, shape of the distribution)
on large tensors, with bounds that a correct implementation fails far less than once in 10^6 runs."""
import math

import torch
from torch.nn import init

from mlkata.checks import check, expect, expect_close, expect_equal, expect_rate, probe, visible_module

V = visible_module("fundamentals/weight_init")

Z = 6.0    # two-sided P(|Z| > 6) ~ 2e-9 per moment test

P_WITHIN_1SD = math.erf(1 / math.sqrt(2))      # P(|x| < sigma) for a normal: 0.6827 (0.577 for a uniform)


@probe
def raises(sub, calls):
    """Call each ``(fn, args, kwargs)``; report the exception classes raised (None if it returned)."""
    reports = []
    for fn, args, kwargs in calls:
        try:
            getattr(sub, fn)(*args, **kwargs)
        except NotImplementedError:
            raise
        except Exception as e:  # noqa: BLE001 - reported, the check decides
            reports.append({"raised": [c.__name__ for c in type(e).__mro__],
                            "message": f"{type(e).__name__}: {e}"[:300]})
            continue
        reports.append({"raised": None})
    return reports


@probe
def fill_parameter(sub, fns, shape):
    """Fill an ``nn.Parameter`` (requires grad) with each of ``fns``; report exceptions instead of raising."""
    reports = []
    for fn in fns:
        p = torch.nn.Parameter(torch.full(shape, float("nan")))
        try:
            out = getattr(sub, fn)(p)
        except NotImplementedError:
            raise
        except Exception as e:  # noqa: BLE001 - reported, the check decides
            reports.append({"error": f"{type(e).__name__}: {e}"[:300]})
            continue
        reports.append({"error": None, "tensor": p, "same_object": out is p, "requires_grad": p.requires_grad,
                        "is_leaf": p.is_leaf, "grad_fn": None if p.grad_fn is None else type(p.grad_fn).__name__})
    return reports


def expect_raised(report, exc, rule, call):
    expect(report["raised"] is not None, rule, f"{call} returned without raising")
    expect(exc in report["raised"], rule, f"{call} raised {report['message']}")


# ------------------------------------------------------------------------------------------
# Statistics of a filled tensor
# ------------------------------------------------------------------------------------------

def expect_zero_mean(x: torch.Tensor, std: float, rule: str, what: str):
    n = x.numel()
    mean = x.mean().item()
    tol = Z * std / math.sqrt(n)
    expect(abs(mean) <= tol, rule, f"{what}: the mean of {n} entries is {mean:.4g}; a zero-mean draw with std "
                                   f"{std:.4g} has |mean| below {tol:.3g}")


def expect_std(x: torch.Tensor, std: float, kurtosis: float, rule: str, what: str):
    """The root mean square of ``x`` (its std about the true mean 0) must match ``std``:
    mean(x^2) estimates std^2 with relative standard error sqrt((kurtosis - 1) / n)."""
    n = x.numel()
    ratio = (x.square().mean() / std ** 2).item()
    tol = Z * math.sqrt((kurtosis - 1) / n)
    expect(abs(ratio - 1) <= tol, rule,
           f"{what}: expected a standard deviation of {std:.6g} (within {100 * tol / 2:.2g}%), "
           f"your code produced {math.sqrt(ratio) * std:.6g} ({math.sqrt(ratio):.4g} times the expected)")


def check_uniform(t: torch.Tensor, bound: float, rule: str, what: str):
    """``t`` looks like n independent draws from U(-bound, bound)."""
    x = t.double().reshape(-1)
    n = x.numel()
    peak = x.abs().max().item()
    expect(peak <= bound * (1 + 1e-6), rule,
           f"{what}: the largest |entry| is {peak:.6g}, above the bound a = {bound:.6g}")
    # P(max |x| < a (1 - d)) = (1 - d)^n ~ exp(-n d) = exp(-20) for d = 20 / n
    expect(peak >= bound * (1 - 20 / n), rule,
           f"{what}: the largest |entry| of {n} draws is {peak:.6g}; draws from U(-a, a) with a = {bound:.6g} "
           f"reach at least {bound * (1 - 20 / n):.6g}")
    std = bound / math.sqrt(3)
    expect_zero_mean(x, std, rule, what)
    expect_std(x, std, 9 / 5, rule, what)
    expect_rate(int((x.abs() <= bound / 2).sum()), n, 0.5,
                f"{rule}: a uniform draw lands in [-a/2, a/2] half of the time",
                what=f"{what}: fraction of entries in [-a/2, a/2]")


def check_normal(t: torch.Tensor, std: float, rule: str, what: str, shape_test: bool = True):
    """``t`` looks like n independent draws from N(0, std^2)."""
    x = t.double().reshape(-1)
    expect_zero_mean(x, std, rule, what)
    expect_std(x, std, 3.0, rule, what)
    if shape_test:
        expect_rate(int((x.abs() <= std).sum()), x.numel(), P_WITHIN_1SD,
                    f"{rule}: the weights are normal, so 68.3% of them lie within one std of 0 "
                    f"(57.7% would for a uniform)", what=f"{what}: fraction within one std")


def fill_cases(run, fn, cases, seed):
    """Fill one tensor per ``(shape, kwargs)`` case (one probe call); the filled tensors."""
    got = run(V.fill_many, fn, [{"shape": s, "kwargs": k, "seed": seed + i} for i, (s, k) in enumerate(cases)])
    return [V.filled(g, shape, fn) for g, (shape, _) in zip(got, cases)]


def xavier_bound(shape, gain):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(torch.empty(shape))
    return gain * math.sqrt(6 / (fan_in + fan_out))


def kaiming_std(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(torch.empty(shape))
    return init.calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


# ------------------------------------------------------------------------------------------
# Fans and gains: exact
# ------------------------------------------------------------------------------------------

FAN_SHAPES = [(7, 3), (3, 7), (1, 1), (16, 8, 5), (32, 4, 3, 3), (6, 10, 1, 1), (8, 2, 3, 5, 7), (5, 12, 2, 1)]


@check("calculate_fan_in_and_fan_out agrees with torch for Linear, Conv1d/2d/3d and grouped-conv weights", points=2)
def fans_exact(run):
    for shape, got in zip(FAN_SHAPES, run(V.fans, FAN_SHAPES)):
        got = V.fan_pair(got, shape)
        want = init._calculate_fan_in_and_fan_out(torch.empty(shape))
        kind = "Linear [out, in]" if len(shape) == 2 else f"Conv{len(shape) - 2}d [out, in/groups, *kernel]"
        expect(got == want, f"fan_in = shape[1] * prod(kernel), fan_out = shape[0] * prod(kernel) for a {kind} weight",
               f"for shape {list(shape)}: expected (fan_in, fan_out) = {want}, your code returned {got}")


@check("calculate_fan_in_and_fan_out raises ValueError for a tensor with fewer than 2 dimensions")
def fans_need_two_dims(run):
    shapes = [(5,), ()]
    got = run(raises, [("calculate_fan_in_and_fan_out", (torch.empty(s),), {}) for s in shapes])
    for shape, report in zip(shapes, got):
        expect_raised(report, "ValueError", "fans are only defined for weights of at least 2 dimensions: "
                                            "raise ValueError otherwise", f"for shape {list(shape)} your code")


GAIN_CASES = [("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("sigmoid", None),
              ("tanh", None), ("relu", None), ("relu", 0.5), ("selu", None), ("tanh", 3.0),
              ("leaky_relu", None), ("leaky_relu", 0.0), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)),
              ("leaky_relu", 1.0)]


@check("calculate_gain agrees with torch.nn.init.calculate_gain for every nonlinearity and leaky-ReLU slope",
       points=2)
def gains_exact(run):
    for (name, param), got in zip(GAIN_CASES, run(V.gains, GAIN_CASES)):
        want = init.calculate_gain(name, param)
        call = f"calculate_gain({name!r}{'' if param is None else f', {param:.4g}'})"
        if name == "leaky_relu":
            rule = ("the leaky-ReLU gain is sqrt(2 / (1 + slope^2)); the slope is param, 0.01 when param is None "
                    "(and 0 is a real slope, not 'missing')")
        elif param is not None:
            rule = f"param is only the leaky-ReLU slope; the gain of {name!r} ignores it"
        else:
            rule = f"the gain of {name!r} is {want:.6g}"
        expect_close(got, want, rule, rtol=1e-9, atol=0, what=call)


@check("calculate_gain raises ValueError for a nonlinearity it does not know")
def gain_unknown(run):
    names = ("gelu", "Relu")
    for name, report in zip(names, run(raises, [("calculate_gain", (n,), {}) for n in names])):
        expect_raised(report, "ValueError", "an unsupported nonlinearity name raises ValueError (a silent "
                                            "default gain would hide the typo)", f"calculate_gain({name!r})")


# ------------------------------------------------------------------------------------------
# The distributions
# ------------------------------------------------------------------------------------------

@check("xavier_uniform_ draws from U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)): bounds, mean, std, shape",
       points=3)
def xavier_distribution(run):
    cases = [((256, 1024), {}), ((64, 32, 5, 5), {"gain": 5 / 3}), ((64, 32, 9), {"gain": math.sqrt(2)}),
             ((1000, 30), {"gain": 0.5})]
    for t, (shape, kwargs) in zip(fill_cases(run, "xavier_uniform_", cases, 100), cases):
        gain = kwargs.get("gain", 1.0)
        check_uniform(t, xavier_bound(shape, gain),
                      "xavier_uniform_ draws from U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))",
                      f"shape {list(shape)}, gain {gain:.4g}")


@check("kaiming_normal_ with the defaults is He init: N(0, 2 / fan_in), normal-shaped", points=2)
def kaiming_default(run):
    cases = [((512, 256), {}), ((96, 48, 3, 3), {})]
    for t, (shape, _) in zip(fill_cases(run, "kaiming_normal_", cases, 200), cases):
        check_normal(t, kaiming_std(shape), "kaiming_normal_ draws from N(0, std^2), std = gain / sqrt(fan_in); "
                                            "the defaults (a=0, leaky_relu) give gain sqrt(2)",
                     f"shape {list(shape)}, defaults")


@check("kaiming_normal_ with mode='fan_out' divides by fan_out = shape[0] * prod(kernel)")
def kaiming_fan_out(run):
    cases = [((128, 32, 3, 3), {"mode": "fan_out", "nonlinearity": "relu"}),
             ((100, 400), {"mode": "fan_out", "nonlinearity": "linear"})]
    for t, (shape, kw) in zip(fill_cases(run, "kaiming_normal_", cases, 300), cases):
        check_normal(t, kaiming_std(shape, **kw), "mode='fan_out' keeps the backward variance: std = gain / "
                                                  "sqrt(fan_out)",
                     f"shape {list(shape)}, mode='fan_out', nonlinearity={kw['nonlinearity']!r}", shape_test=False)


@check("kaiming_normal_ passes `a` on as the leaky-ReLU slope (nn.Linear's own init uses a = sqrt(5))")
def kaiming_slope(run):
    cases = [((256, 512), {"a": math.sqrt(5)}), ((200, 400), {"a": 0.5})]
    for t, (shape, kw) in zip(fill_cases(run, "kaiming_normal_", cases, 400), cases):
        check_normal(t, kaiming_std(shape, **kw),
                     "with nonlinearity='leaky_relu' the gain is sqrt(2 / (1 + a^2)): `a` is the slope",
                     f"shape {list(shape)}, a={kw['a']:.4g}", shape_test=False)


@check("kaiming_normal_ uses the gain of the nonlinearity it is given (tanh, linear, relu)")
def kaiming_gains(run):
    cases = [((200, 300), {"nonlinearity": "tanh", "a": 0.3}), ((64, 16, 5, 5), {"nonlinearity": "linear", "a": 0.3}),
             ((100, 400), {"nonlinearity": "relu", "a": 0.3})]
    for t, (shape, kw) in zip(fill_cases(run, "kaiming_normal_", cases, 500), cases):
        nl = kw["nonlinearity"]
        check_normal(t, kaiming_std(shape, **kw),
                     f"std = calculate_gain({nl!r}) / sqrt(fan_in); `a` only matters for leaky_relu",
                     f"shape {list(shape)}, nonlinearity={nl!r}", shape_test=False)


@check("kaiming_normal_ raises ValueError for a mode other than 'fan_in' / 'fan_out'")
def kaiming_bad_mode(run):
    report = run(raises, [("kaiming_normal_", (torch.empty(4, 3),), {"mode": "fan_avg"})])[0]
    expect_raised(report, "ValueError", "mode must be 'fan_in' or 'fan_out': anything else raises ValueError",
                  "kaiming_normal_(w, mode='fan_avg')")


# ------------------------------------------------------------------------------------------
# In place, parameters, dtypes, generators, empty tensors
# ------------------------------------------------------------------------------------------

@check("both functions fill the given tensor in place and return that same tensor")
def in_place(run):
    for fn in ("xavier_uniform_", "kaiming_normal_"):
        got = run(V.fill, fn, (30, 20), None, torch.float32, 7)
        V.filled(got, (30, 20), fn)
        expect(got["same_object"], f"{fn} returns the tensor it was given (the same object), like torch.nn.init",
               f"it returned {'None' if got['returned'] is None else 'a different tensor'}")


@check("an nn.Parameter that requires grad can be filled (no autograd history), and stays a trainable leaf")
def fills_parameters(run):
    fns = ("xavier_uniform_", "kaiming_normal_")
    for fn, got in zip(fns, run(fill_parameter, fns, (40, 20))):
        rule = (f"{fn} must work on nn.Parameter weights: fill them under torch.no_grad(), since autograd "
                f"forbids in-place changes of a leaf that requires grad")
        expect(got["error"] is None, rule, f"filling an nn.Parameter raised {got['error']}")
        expect(got["same_object"] and got["requires_grad"] and got["is_leaf"] and got["grad_fn"] is None, rule,
               f"after the call: same object {got['same_object']}, requires_grad {got['requires_grad']}, "
               f"is_leaf {got['is_leaf']}, grad_fn {got['grad_fn']}")
        expect(bool(torch.isfinite(got["tensor"]).all()), rule, "the parameter was not filled (it still holds NaN)")


@check("float64 weights stay float64 and get the right scale")
def float64(run):
    for fn, kwargs, shape in [("xavier_uniform_", {"gain": 2.0}, (150, 250)),
                              ("kaiming_normal_", {"mode": "fan_out"}, (250, 150))]:
        t = V.filled(run(V.fill, fn, shape, kwargs, torch.float64, 600), shape, fn)
        expect_equal(str(t.dtype), "torch.float64", f"{fn} fills the tensor in its own dtype", what="dtype")
        if fn == "xavier_uniform_":
            check_uniform(t, xavier_bound(shape, 2.0), "float64 weights follow the same U(-a, a)", "float64 xavier")
        else:
            check_normal(t, kaiming_std(shape, mode="fan_out"), "float64 weights follow the same N(0, std^2)",
                         "float64 kaiming", shape_test=False)


@check("with a generator, the draw depends only on the generator (reproducible) and leaves the global RNG alone",
       points=2)
def uses_generator(run):
    shape = (50, 40)
    for fn in ("xavier_uniform_", "kaiming_normal_"):
        cases = [{"shape": shape, "seed": 11, "global_seed": 0}, {"shape": shape, "seed": 11, "global_seed": 1},
                 {"shape": shape, "seed": 12, "global_seed": 0}]
        a, b, c = run(V.fill_many, fn, cases)
        ta, tb, tc = (V.filled(x, shape, fn) for x in (a, b, c))
        rule = f"{fn} draws from the generator it is given (generator=...), not from the global RNG"
        expect_close(tb, ta, rule + ": the same generator seed must give the same weights, whatever the global seed",
                     atol=0, rtol=0, what="weights from generator seed 11 (global seeds 0 and 1)")
        expect(not torch.equal(ta, tc), rule, "generator seeds 11 and 12 gave identical weights")
        untouched = torch.rand(4, generator=torch.Generator().manual_seed(0))
        expect_close(a["after"], untouched, rule + ", so the global RNG is not advanced", atol=0, rtol=0,
                     what="the next 4 draws of the global RNG after the call")


@check("without a generator, the draw comes from the global RNG (torch.manual_seed makes it reproducible)")
def global_rng(run):
    shape = (50, 40)
    for fn in ("xavier_uniform_", "kaiming_normal_"):
        cases = [{"shape": shape, "global_seed": 5}, {"shape": shape, "global_seed": 5},
                 {"shape": shape, "global_seed": 6}]
        a, b, c = (V.filled(x, shape, fn) for x in run(V.fill_many, fn, cases))
        rule = f"with generator=None, {fn} draws from torch's global RNG"
        expect_close(b, a, rule + ": the same torch.manual_seed gives the same weights", atol=0, rtol=0,
                     what="weights after torch.manual_seed(5), twice")
        expect(not torch.equal(a, c), rule, "torch.manual_seed(5) and torch.manual_seed(6) gave identical weights")


@check("kaiming_normal_ returns a tensor with a zero-size dimension as is (no division by a zero fan), and "
       "fills a [1, 2000] one beside it")
def empty_tensors(run):
    t, = fill_cases(run, "kaiming_normal_", [((1, 2000), {})], 310)
    check_normal(t, kaiming_std((1, 2000)), "kaiming_normal_ draws from N(0, 2 / fan_in)", "shape [1, 2000]")
    shapes = [(0, 5), (3, 0, 3), (4, 0)]
    for shape, report in zip(shapes, run(raises, [("kaiming_normal_", (torch.empty(s),), {}) for s in shapes])):
        expect(report["raised"] is None, "a tensor with no elements has nothing to fill: return it unchanged",
               f"kaiming_normal_ on shape {list(shape)} raised {report.get('message')}")
    got = run(V.fill, "xavier_uniform_", (0, 5), None, torch.float32, 1)
    expect(got["same_object"], "xavier_uniform_ on an empty [0, 5] weight returns it",
           f"it returned {'None' if got['returned'] is None else 'a different tensor'}")
