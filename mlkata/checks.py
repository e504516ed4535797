"""Checks as data: the one vocabulary that visible tests, hidden graders and nbgrader cells share.

A check module (``catalog/<area>/<name>/visible.py`` or ``graders/<area>/<name>.py``) defines

* **probes** -- small functions that run *where the learner's code runs* (in-process for
  ``pytest exercises/``, in a sandboxed child process for ``mlkata grade``).  A probe receives
  the learner's module and plain arguments and returns plain data (tensors, numbers, strings,
  lists, dicts).  It never decides anything.
* **checks** -- functions that run *where the learner's code cannot reach* (the grading
  parent).  A check builds inputs, asks for observations through ``run(probe_or_name, ...)``,
  computes what is expected with pristine libraries, and raises :class:`Fail` with a message
  that names the broken rule, the expected value and what the code produced.

Because a check only ever sees plain data coming back, the same check code is trustworthy
in-process and isolated: nothing the learner's code does to torch, numpy or builtins can
change how the verdict is computed in the parent.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import torch


class Fail(AssertionError):
    """A broken rule: ``rule`` says which, ``detail`` gives expected vs produced."""

    def __init__(self, rule: str, detail: str = ""):
        self.rule = rule
        self.detail = detail
        super().__init__(f"{rule}\n{detail}".rstrip())


class StudentError(Exception):
    """The learner's code raised, timed out, crashed, or returned something unreadable."""

    def __init__(self, kind: str, message: str, where: str = ""):
        self.kind = kind          # "raised" | "not_implemented" | "missing" | "timeout" | "crashed" | ...
        self.message = message
        self.where = where
        super().__init__(message)


@dataclass(frozen=True)
class Probe:
    """A function ``fn(sub, *args, **kwargs)`` run beside the learner's module."""

    name: str
    fn: Callable[..., Any]

    def __call__(self, *args, **kwargs):  # pragma: no cover - guidance only
        raise TypeError("call a probe through run(probe, ...), not directly")


@dataclass(frozen=True)
class Check:
    """One graded rule: a title a learner can read, points, and the function that judges."""

    name: str
    title: str
    points: float
    fn: Callable[["Runner"], None]


def probe(fn: Callable[..., Any]) -> Probe:
    """Decorator: mark ``fn(sub, ...)`` as a probe that may call the learner's code."""
    return Probe(fn.__name__, fn)


def check(title: str, points: float = 1) -> Callable[[Callable], Check]:
    """Decorator: register ``fn(run)`` as a check worth ``points``, shown as ``title``."""

    def wrap(fn: Callable) -> Check:
        return Check(fn.__name__, title, points, fn)

    return wrap


def visible_module(exercise_id: str):
    """The visible check module of an exercise, so a grader can reuse its probes."""
    from . import catalog
    from .grading import check_module
    return check_module("visible", catalog.get(exercise_id))


def checks_of(module) -> list[Check]:
    """The checks a module defines, in definition order."""
    return [v for v in vars(module).values() if isinstance(v, Check)]


Runner = Callable[..., Any]
"""``run(probe_or_function_name, *args, **kwargs) -> plain data``; see :mod:`mlkata.engine`."""


# --------------------------------------------------------------------------------------------
# Assertions that explain themselves.  Every helper checks type, then shape and dtype, then
# values, so the first message a learner sees is the most basic thing that is wrong.
# --------------------------------------------------------------------------------------------

def describe(x: Any) -> str:
    """A short description of a value as it came back from the learner's code."""
    if isinstance(x, torch.Tensor):
        return f"tensor of shape {list(x.shape)} and dtype {str(x.dtype).replace('torch.', '')}"
    if isinstance(x, dict) and "__opaque__" in x:
        return f"an object of type {x['__opaque__']} ({x.get('repr', '')})"
    if isinstance(x, (list, tuple)):
        shown = repr(x) if len(repr(x)) <= 160 else repr(x)[:150] + " ..."
        return f"{type(x).__name__} of length {len(x)}: {shown}"
    return f"{type(x).__name__} {x!r}"[:200]


def _show(t: torch.Tensor, limit: int = 6) -> str:
    flat = t.detach().reshape(-1)
    items = ", ".join(_num(v) for v in flat[:limit].tolist())
    return f"[{items}{', ...' if flat.numel() > limit else ''}]"


def _num(v: Any, other: Any = None) -> str:
    """A number to 6 significant digits, or to 12 where 6 would not show how it differs from ``other``."""
    if isinstance(v, float):
        if isinstance(other, float) and f"{v:.6g}" == f"{other:.6g}" and v != other:
            return f"{v:.12g}"
        return f"{v:.6g}"
    return str(v)


def expect_tensor(got: Any, rule: str, shape=None, dtype=None) -> torch.Tensor:
    """``got`` must be a tensor (of ``shape``/``dtype`` when given)."""
    if not isinstance(got, torch.Tensor):
        raise Fail(rule, f"expected a tensor, your code produced {describe(got)}")
    if shape is not None and tuple(got.shape) != tuple(shape):
        raise Fail(rule, f"expected shape {list(shape)}, your code produced shape {list(got.shape)}")
    if dtype is not None and got.dtype != dtype:
        raise Fail(rule, f"expected dtype {dtype}, your code produced {got.dtype}")
    return got


def expect_close(got: Any, want: Any, rule: str, *, atol: float = 1e-5, rtol: float = 1e-4,
                 what: str = "value", check_dtype: bool = False) -> None:
    """``got`` must equal ``want`` within tolerance; tensors, numbers, or nested lists/dicts."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            raise Fail(rule, f"expected a dict for {what}, your code produced {describe(got)}")
        for key in want:
            if key not in got:
                raise Fail(rule, f"{what}: missing key {key!r}")
            expect_close(got[key], want[key], rule, atol=atol, rtol=rtol, what=f"{what}[{key!r}]",
                         check_dtype=check_dtype)
        return
    if isinstance(want, (list, tuple)):
        if not isinstance(got, (list, tuple)) or len(got) != len(want):
            raise Fail(rule, f"{what}: expected a sequence of length {len(want)}, "
                             f"your code produced {describe(got)}")
        for i, (g, w) in enumerate(zip(got, want)):
            expect_close(g, w, rule, atol=atol, rtol=rtol, what=f"{what}[{i}]", check_dtype=check_dtype)
        return
    if want is None:
        if got is not None:
            raise Fail(rule, f"{what}: expected None, your code produced {describe(got)}")
        return
    if isinstance(want, torch.Tensor):
        _close_tensor(got, want, rule, atol, rtol, what, check_dtype)
        return
    _close_number(got, want, rule, atol, rtol, what)


def _close_number(got, want, rule, atol, rtol, what):
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise Fail(rule, f"{what}: expected a number ({_num(float(want))}), your code produced {describe(got)}")
    if math.isnan(want) and math.isnan(got):
        return
    if got == want or (math.isfinite(want) and abs(got - want) <= atol + rtol * abs(want)):
        return
    raise Fail(rule, f"{what}: expected {_num(float(want), float(got))}, "
                     f"your code produced {_num(float(got), float(want))}")


def _close_tensor(got, want, rule, atol, rtol, what, check_dtype):
    if not isinstance(got, torch.Tensor):
        raise Fail(rule, f"{what}: expected a tensor of shape {list(want.shape)}, "
                         f"your code produced {describe(got)}")
    if got.shape != want.shape:
        raise Fail(rule, f"{what}: expected shape {list(want.shape)}, your code produced shape {list(got.shape)}")
    if check_dtype and got.dtype != want.dtype:
        raise Fail(rule, f"{what}: expected dtype {want.dtype}, your code produced {got.dtype}")
    if want.dim() == 0:
        _close_number(got.item(), want.item(), rule, atol, rtol, what)
        return
    g = got.detach().to(torch.float64)
    w = want.detach().to(torch.float64)
    same_nonfinite = (g == w) | (g.isnan() & w.isnan())
    err = (g - w).abs()
    # the tolerance applies to finite expectations only: atol + rtol * inf would accept anything
    bad = ~(same_nonfinite | (w.isfinite() & (err <= atol + rtol * w.abs())))
    if not bad.any():
        return
    err = torch.where(bad, err.nan_to_num(nan=math.inf), torch.zeros_like(err))
    idx = tuple(int(i) for i in torch.unravel_index(err.argmax(), err.shape)) if err.dim() else ()
    n_bad = int(bad.sum())
    detail = (f"{what}: {n_bad} of {bad.numel()} entries differ; largest difference at index {list(idx)}: "
              f"expected {_num(w[idx].item(), g[idx].item())}, your code produced {_num(g[idx].item(), w[idx].item())}\n"
              f"  expected {_show(w)}\n  produced {_show(g)}")
    raise Fail(rule, detail)


def expect_equal(got: Any, want: Any, rule: str, what: str = "value") -> None:
    """Exact equality for ints, strings, lists, and integer/bool tensors."""
    if isinstance(want, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            raise Fail(rule, f"{what}: expected a tensor, your code produced {describe(got)}")
        if got.shape != want.shape:
            raise Fail(rule, f"{what}: expected shape {list(want.shape)}, your code produced shape {list(got.shape)}")
        neq = got.to(want.dtype) != want
        if neq.any():
            idx = [int(i) for i in torch.nonzero(neq)[0]]
            raise Fail(rule, f"{what}: {int(neq.sum())} of {neq.numel()} entries differ; first at index {idx}: "
                             f"expected {want[tuple(idx)].item()}, your code produced {got[tuple(idx)].item()}")
        return
    if got != want or type(got) is bool and type(want) is not bool:
        raise Fail(rule, f"{what}: expected {want!r}, your code produced {describe(got)}"[:600])


def expect(condition: bool, rule: str, detail: str = "") -> None:
    """A property that must hold; ``detail`` says what was seen."""
    if not condition:
        raise Fail(rule, detail)


# Two-sided z for the statistical checks: P(|Z| > 5.6) ~ 2e-8, so a correct implementation
# fails one rate check far less than once in 10^6 runs even across the ~20 rates a grader checks
# (union bound: < 5e-7).  Sample sizes are large (n*p >= 1e3), where the normal approximation
# to the binomial is accurate to well within the slack this leaves.
Z_STRICT = 5.6


def rate_bounds(n: int, p: float, z: float = Z_STRICT) -> tuple[float, float]:
    """Bounds for an observed success rate of ``n`` Bernoulli(``p``) draws."""
    half = z * math.sqrt(p * (1 - p) / n) + 0.5 / n
    return p - half, p + half


def expect_rate(successes: int, n: int, p: float, rule: str, what: str = "rate") -> None:
    """The observed rate ``successes / n`` must be consistent with probability ``p``."""
    lo, hi = rate_bounds(n, p)
    rate = successes / n if n else float("nan")
    if not (lo <= rate <= hi):
        raise Fail(rule, f"{what} {rate:.4f} over {n} draws, expected {p:.4f} "
                         f"(a correct implementation lands in [{lo:.4f}, {hi:.4f}])")


@dataclass
class CheckResult:
    """The verdict of one check, in plain data (what every report format renders)."""

    name: str
    title: str
    points: float
    score: float
    status: str                 # "passed" | "failed" | "todo" | "error"
    message: str = ""
    hidden: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def zero_all(results: list[CheckResult], message: str) -> list[CheckResult]:
    """Every check scores 0 with ``message``: a verdict on the whole submission (a forbidden call,
    a refused construct, a system call the kernel refused)."""
    for r in results:
        r.score, r.status, r.message = 0.0, "failed", message
    return results
