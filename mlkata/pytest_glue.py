"""Pytest mode: the generated ``exercises/<area>/test_<name>.py`` files call :func:`visible_test`.

A learner who never touches the CLI gets, from plain ``pytest exercises/``:

* one failure per check that breaks a rule, with the rule, expected and produced values and
  no traceback noise (``pytrace=False``);
* one "not implemented yet" line per untouched exercise (its other checks are skipped);
* a closing summary, one line per exercise, saying how many more checks the graded run has --
  never a bare "all passed" that a grade could later contradict -- in place of pytest's short
  summary, which would repeat each failure once more.
"""
from __future__ import annotations

import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from . import engine
from .checks import checks_of


@dataclass
class _Tally:
    checks: int = 0
    passed: int = 0
    todo: bool = False
    first_failure: str = ""
    hidden_checks: int = 0
    hidden_points: float = 0
    ran: int = 0


TALLY: dict[str, _Tally] = {}


def visible_test(namespace: dict, exercise_id: str, *, hidden_checks: int, hidden_points: float,
                 forbidden: list[str]):
    """A parametrized pytest test over the checks defined in ``namespace`` (a test module)."""
    checks = checks_of(types.SimpleNamespace(**namespace))
    test_file = Path(namespace["__file__"])
    student = test_file.with_name(test_file.name.removeprefix("test_"))
    state: dict = {}
    TALLY.setdefault(exercise_id, _Tally(checks=len(checks), hidden_checks=hidden_checks,
                                         hidden_points=hidden_points))

    def session() -> engine.LocalSession:
        if "session" not in state:
            # a forbidden call or a construct the graded run refuses: say so now, not at grading
            state["refused"] = engine.source_refusal(str(student), forbidden)
            probes = types.SimpleNamespace(**namespace)
            probes.__name__ = namespace["__name__"]
            state["session"] = engine.LocalSession(str(student), "mlkata_learner__" + exercise_id.replace("/", "__"),
                                                   [probes], forbidden)
        return state["session"]

    @pytest.mark.parametrize("chk", checks, ids=[c.name for c in checks])
    def test(chk):
        sess = session()
        tally = TALLY[exercise_id]
        tally.ran += 1
        if state["refused"]:
            _fail(tally, state["refused"])
        (result,) = engine.judge([(chk, False)], sess, hint_command=f"mlkata hint {exercise_id}")
        if result.passed:
            tally.passed += 1
            return
        if result.status == "todo":
            if tally.todo:
                pytest.skip("not implemented yet (reported above)")
            tally.todo = True
        _fail(tally, f"[{exercise_id}] {chk.title}\n{result.message}")

    test.__doc__ = f"Visible checks of {exercise_id}"
    return test


def _fail(tally: _Tally, message: str):
    tally.first_failure = tally.first_failure or message
    pytest.fail(message, pytrace=False)


def summary_lines() -> list[tuple[bool, str]]:
    """(passing, line) per exercise that ran in this session."""
    lines = []
    for ex_id, t in TALLY.items():
        if not t.ran:
            continue
        if t.passed == t.checks:
            more = (f"; the graded run checks {t.hidden_checks} more ({t.hidden_points:g} points): mlkata grade"
                    if t.hidden_checks else "")
            lines.append((True, f"PASS {ex_id}: visible checks passed ({t.passed}/{t.checks}){more}"))
        elif t.todo and t.passed == 0:
            lines.append((False, f"TODO {ex_id}: not implemented yet (mlkata hint {ex_id})"))
        else:
            first = t.first_failure.splitlines()[2] if t.first_failure.count("\n") >= 2 else t.first_failure
            lines.append((False, f"FAIL {ex_id}: {t.passed}/{t.checks} visible checks pass; first problem: "
                                 f"{first.strip()[:140]}"))
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001 - pytest hook
    lines = summary_lines()
    if not lines:
        return
    terminalreporter.section("mlkata: one line per exercise")
    for ok, line in lines:
        terminalreporter.write_line(line, green=ok, red=not ok)
    # pytest's own short summary, printed after this hook, would list every failure a third time
    # (after the failures section and the lines above); a learner who asked for it with -r keeps it.
    if config.getoption("reportchars") == _PYTEST_DEFAULT_REPORTCHARS:
        terminalreporter.reportchars = ""


_PYTEST_DEFAULT_REPORTCHARS = "fE"
