"""Hidden graders of fundamentals/activations: values against torch.nn.functional and derivatives
against torch's autograd of the same functions (float64, random inputs), the convention at x = 0,
large inputs (no overflow, no NaN), accuracy of ELU near 0, dtypes, and inputs left untouched."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, expect_tensor, probe, visible_module

V = visible_module("fundamentals/activations")

LIBRARY = {
    "leaky_relu": lambda x, negative_slope=0.01: F.leaky_relu(x, negative_slope),
    "elu": lambda x, alpha=1.0: F.elu(x, alpha),
    "selu": lambda x: F.selu(x),
    "gelu": lambda x, approximate="none": F.gelu(x, approximate=approximate),
}
FORMULA = {
    "leaky_relu": "x for x > 0, negative_slope * x otherwise",
    "elu": "x for x > 0, alpha * (exp(x) - 1) otherwise",
    "selu": "SELU_SCALE * elu(x, SELU_ALPHA)",
    "gelu": "x * Phi(x), Phi the standard normal CDF",
    "gelu_tanh": "0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
    "leaky_relu_grad": "1 for x > 0, negative_slope for x <= 0",
    "elu_grad": "1 for x > 0, alpha * exp(x) for x <= 0",
    "selu_grad": "SELU_SCALE for x > 0, SELU_SCALE * SELU_ALPHA * exp(x) for x <= 0",
    "gelu_grad": "Phi(x) + x * phi(x) (product rule), phi(x) = exp(-x^2/2) / sqrt(2 pi)",
    "gelu_tanh_grad": "0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2), t = tanh(sqrt(2/pi) (x + 0.044715 x^3))",
}


def expected(name: str, x: torch.Tensor, kwargs: dict) -> torch.Tensor:
    """torch's value, or for ``*_grad`` torch's autograd derivative, computed in float64."""
    x64 = x.detach().double()
    if not name.endswith("_grad"):
        return LIBRARY[name](x64, **kwargs)
    x64.requires_grad_(True)
    (grad,) = torch.autograd.grad(LIBRARY[name[:-5]](x64, **kwargs).sum(), x64)
    return grad


def formula(name, kwargs):
    key = name.replace("gelu", "gelu_tanh") if kwargs.get("approximate") == "tanh" else name
    return FORMULA[key]


def call_text(name, kwargs):
    args = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    return f"{name}(x{args})"


def random_x(seed: int) -> torch.Tensor:
    """(4, 600) float64: standard normals times 3, plus a grid over [-8, 8]; no exact zeros."""
    g = torch.Generator().manual_seed(seed)
    x = torch.cat([torch.randn(2000, generator=g) * 3, torch.linspace(-8, 8, 400)]).double()
    x = torch.where(x == 0, torch.full_like(x, 0.125), x)
    return x.reshape(4, 600)


def agree(run, name, kwargs_list, seed, rule_extra=""):
    x = random_x(seed)
    outs = run(V.apply, [(name, x, kw) for kw in kwargs_list])["out"]
    for kw, out in zip(kwargs_list, outs):
        kind = "derivative" if name.endswith("_grad") else "value"
        rule = f"{name} is {formula(name, kw)}{rule_extra}"
        expect_close(out, expected(name, x, kw), rule, atol=1e-9, rtol=1e-7, check_dtype=True,
                     what=f"{call_text(name, kw)} on random float64 x ({kind} vs torch"
                          f"{' autograd' if kind == 'derivative' else ''})")


@check("leaky_relu agrees with torch.nn.functional.leaky_relu (slopes 0.01 and 0.2)")
def leaky_values(run):
    agree(run, "leaky_relu", [{}, {"negative_slope": 0.2}], 1)


@check("leaky_relu_grad agrees with torch's autograd of leaky_relu")
def leaky_grad(run):
    agree(run, "leaky_relu_grad", [{}, {"negative_slope": 0.2}], 2)


@check("leaky_relu and its derivative work for any slope: 1.5, 0 (plain ReLU) and -0.3")
def leaky_any_slope(run):
    slopes = [{"negative_slope": s} for s in (1.5, 0.0, -0.3)]
    agree(run, "leaky_relu", slopes, 3, " -- for any slope; max(x, slope * x) is only right when slope <= 1")
    agree(run, "leaky_relu_grad", slopes, 3)


@check("elu agrees with torch.nn.functional.elu (alpha 1, 0.5 and 2)", points=2)
def elu_values(run):
    agree(run, "elu", [{}, {"alpha": 0.5}, {"alpha": 2.0}], 4)


@check("elu_grad agrees with torch's autograd of elu (alpha 1, 0.5 and 2)", points=2)
def elu_grad(run):
    agree(run, "elu_grad", [{}, {"alpha": 0.5}, {"alpha": 2.0}], 5)


@check("selu agrees with torch.nn.functional.selu")
def selu_values(run):
    agree(run, "selu", [{}], 6)


@check("selu_grad agrees with torch's autograd of selu")
def selu_grad(run):
    agree(run, "selu_grad", [{}], 7)


@check("gelu (exact, erf form) agrees with torch.nn.functional.gelu", points=2)
def gelu_exact(run):
    agree(run, "gelu", [{}, {"approximate": "none"}], 8)


@check("gelu_grad (exact) agrees with torch's autograd of gelu", points=2)
def gelu_exact_grad(run):
    agree(run, "gelu_grad", [{}, {"approximate": "none"}], 9)


@check("gelu with approximate='tanh' agrees with torch.nn.functional.gelu(x, approximate='tanh')", points=2)
def gelu_tanh(run):
    agree(run, "gelu", [{"approximate": "tanh"}], 10)


@check("gelu_grad with approximate='tanh' agrees with torch's autograd of the tanh form", points=2)
def gelu_tanh_grad(run):
    agree(run, "gelu_grad", [{"approximate": "tanh"}], 11)


ZERO_CALLS = [("leaky_relu_grad", {"negative_slope": 0.2}), ("elu_grad", {"alpha": 2.0}), ("selu_grad", {}),
              ("gelu_grad", {}), ("gelu_grad", {"approximate": "tanh"})]


@check("at x = 0 each derivative is the one of the x <= 0 piece, as in torch's autograd")
def grad_at_zero(run):
    x = torch.tensor([0.0, -0.0, 1e-300, -1e-300], dtype=torch.float64)
    outs = run(V.apply, [(name, x, kw) for name, kw in ZERO_CALLS])["out"]
    for (name, kw), out in zip(ZERO_CALLS, outs):
        expect_close(out, expected(name, x, kw), "at exactly x = 0 use the x <= 0 piece (test x > 0, not x >= 0): "
                                                 "leaky_relu'(0) = slope, elu'(0) = alpha, selu'(0) = scale * alpha",
                     atol=1e-12, rtol=1e-7, check_dtype=True,
                     what=f"{call_text(name, kw)} at float64 x = [0, -0, 1e-300, -1e-300]")


LARGE = torch.tensor([-1e4, -3e3, -1e3, -200.0, -100.0, -90.0, -50.0, -20.0, 20.0, 50.0, 88.0, 89.0, 90.0,
                      100.0, 200.0, 1e3, 3e3, 1e4])
LARGE_CALLS = [("leaky_relu", {}), ("leaky_relu_grad", {}), ("elu", {}), ("elu", {"alpha": 0.0}), ("elu_grad", {}),
               ("selu", {}), ("selu_grad", {}), ("gelu", {}), ("gelu_grad", {}), ("gelu", {"approximate": "tanh"}),
               ("gelu_grad", {"approximate": "tanh"})]


@check("large inputs (|x| up to 1e4, float32, past exp's overflow at 88.7) give finite, correct results", points=2)
def large_inputs(run):
    outs = run(V.apply, [(name, LARGE, kw) for name, kw in LARGE_CALLS])["out"]
    for (name, kw), out in zip(LARGE_CALLS, outs):
        out = expect_tensor(out, f"{name} returns a tensor of the input's shape", shape=LARGE.shape)
        bad = ~torch.isfinite(out)
        if bad.any():
            i = int(bad.nonzero()[0])
            raise Fail(f"{name} must stay finite for large |x|: exp(x) overflows float32 above 88.7, and a branch "
                       f"you do not select must not leak into the result (0 * inf = NaN; inf / inf = NaN)",
                       f"{call_text(name, kw)}: {int(bad.sum())} of {bad.numel()} entries are not finite; "
                       f"at x = {LARGE[i].item():g} your code produced {out[i].item()}")
        expect_close(out, expected(name, LARGE, kw), f"{name} is {formula(name, kw)}, also for large |x|",
                     atol=1e-6, rtol=1e-5, what=f"{call_text(name, kw)} at x = {LARGE.tolist()}")


TINY = -torch.tensor([1e-3, 3e-4, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8])


@check("elu and selu are accurate to float32 precision for tiny negative x (exp(x) - 1 cancels: use expm1)")
def tiny_negative(run):
    calls = [("elu", {}), ("elu", {"alpha": 2.5}), ("selu", {})]
    outs = run(V.apply, [(name, TINY, kw) for name, kw in calls])["out"]
    for (name, kw), out in zip(calls, outs):
        expect_close(out, expected(name, TINY, kw),
                     "for tiny |x|, exp(x) - 1 in float32 keeps almost no correct digits (exp(x) rounds near 1); "
                     "torch.expm1(x) is exact to the last bit, as torch's own elu is", atol=0, rtol=1e-5,
                     what=f"{call_text(name, kw)} in float32 at x = -1e-3, -3e-4, -1e-4, ..., -1e-8 (relative error)")


ALL = [("leaky_relu", {"negative_slope": 0.2}), ("leaky_relu_grad", {"negative_slope": 0.2}), ("elu", {}),
       ("elu_grad", {}), ("selu", {}), ("selu_grad", {}), ("gelu", {}), ("gelu_grad", {}),
       ("gelu", {"approximate": "tanh"}), ("gelu_grad", {"approximate": "tanh"})]


@check("every function keeps the input's shape and dtype (float32 and float64) and leaves the input unchanged")
def dtypes_and_inputs(run):
    g = torch.Generator().manual_seed(12)
    for shape, dtype in [((2, 3, 4), torch.float32), ((5, 1, 3), torch.float64)]:
        x = (torch.randn(shape, generator=g) * 2).to(dtype)
        got = run(V.apply, [(name, x, kw) for name, kw in ALL], True)
        for (name, kw), out, after in zip(ALL, got["out"], got["inputs"]):
            what = f"{call_text(name, kw)} on a {list(shape)} {str(dtype).replace('torch.', '')} x"
            expect_tensor(out, f"{name} returns a tensor of the input's shape (elementwise)", shape=shape)
            expect(out.dtype == dtype, f"{name} returns the input's dtype: build constants with torch.ones_like / "
                                       f"full_like, since torch.where(cond, 1.0, slope) gives the default float32",
                   f"{what}: expected dtype {dtype}, your code produced {out.dtype}")
            expect_close(out, expected(name, x, kw).to(dtype), f"{name} is {formula(name, kw)}", what=what)
            expect_close(after, x, f"{name} must not modify its input (no in-place ops on x)", atol=0, rtol=0,
                         what=f"x after {call_text(name, kw)}")


@probe
def bad_approximate(sub, names, value):
    """Call each of ``names`` with ``approximate=value``; report the exception classes raised."""
    reports = []
    for name in names:
        try:
            getattr(sub, name)(torch.ones(3), approximate=value)
        except NotImplementedError:
            raise
        except Exception as e:  # noqa: BLE001 - reported, the check decides
            reports.append({"raised": [c.__name__ for c in type(e).__mro__], "message": f"{type(e).__name__}: {e}"})
            continue
        reports.append({"raised": None})
    return reports


@check("gelu and gelu_grad raise ValueError for an `approximate` other than 'none' / 'tanh'")
def gelu_bad_approximate(run):
    for name, report in zip(("gelu", "gelu_grad"), run(bad_approximate, ["gelu", "gelu_grad"], "Tanh")):
        rule = "approximate is 'none' or 'tanh'; anything else (here 'Tanh') raises ValueError instead of silently " \
               "picking a formula"
        expect(report["raised"] is not None, rule, f"{name}(x, approximate='Tanh') returned without raising")
        expect("ValueError" in report["raised"], rule, f"{name}(x, approximate='Tanh') raised {report['message'][:200]}")
