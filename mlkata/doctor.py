"""``mlkata doctor``: this machine's grading isolation, stated and then put to the test.

It asks the kernel what it offers (:func:`mlkata.confine.support`), then starts one real grading
child -- the same sandbox ``mlkata grade`` uses -- whose "submission" tries what a hostile one
would -- with the toolkit's own Python-level fence switched off, so that what stops it is the
kernel: read a file planted outside its folder, read the grader's ``/proc`` entries, start a
process, open a socket, signal the grader, lower the grader's limits.  Each attempt must fail.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import textwrap
from dataclasses import dataclass, field

from . import confine, sandbox

# Each attempt is one line of Python run in the confined child; it must raise.
ATTEMPTS = {
    "read a file outside its folder": "open(CANARY).read()",
    "list the grader's folder": "os.listdir(GRADER_DIR)",
    "read the grader's memory (/proc/PID/mem)": "open(f'/proc/{GRADER}/mem', 'rb').read(1)",
    "follow the grader's working directory (/proc/PID/cwd)": "os.listdir(f'/proc/{GRADER}/cwd')",
    "write outside its folder": "open(os.path.join(GRADER_DIR, 'planted.txt'), 'w').write('x')",
    "start a process": "os.fork() or os._exit(0)",
    "run a program": "os.execv('/bin/true', ['true'])",
    "open a socket": "__import__('socket').socket()",
    "signal the grader": "os.kill(GRADER, 0)",
    "take a handle on the grader (pidfd)": "os.pidfd_open(GRADER)",
    "change the grader's limits": "__import__('resource').prlimit(GRADER, __import__('resource').RLIMIT_NOFILE, (8, 8))",
}

_PROGRAM = '''
import os

def attempt(name, line, canary, grader_dir, grader):
    scope = {"os": os, "CANARY": canary, "GRADER_DIR": grader_dir, "GRADER": grader}
    try:
        exec(line, scope)
    except BaseException as e:
        return "blocked: " + type(e).__name__ + ": " + str(e)[:120]
    return "ALLOWED"
'''


@dataclass
class Examination:
    support: confine.Support
    applied: dict = field(default_factory=dict)          # the child's own report
    attempts: dict[str, str] = field(default_factory=dict)
    kernel_refusals: list[str] = field(default_factory=list)

    @property
    def escaped(self) -> list[str]:
        return [name for name, outcome in self.attempts.items() if not outcome.startswith("blocked")]

    @property
    def full(self) -> bool:
        return self.support.full and not self.applied.get("missing") and not self.escaped


def examine() -> Examination:
    """Run the attempts in a confined child (see the module docstring)."""
    result = Examination(confine.support())
    grader_dir = tempfile.mkdtemp(prefix="mlkata-doctor-")
    canary = os.path.join(grader_dir, "canary.txt")
    with open(canary, "w") as f:
        f.write("the grader's secret\n")
    submission = os.path.join(grader_dir, "submission", "attempts.py")
    os.makedirs(os.path.dirname(submission))
    with open(submission, "w") as f:
        f.write(textwrap.dedent(_PROGRAM))
    # without the audit hook: what stops each attempt must be the kernel
    job = sandbox.Job(student_file=submission, module_name="mlkata_doctor_attempts", probe_modules={},
                      protected=[grader_dir], audit_hook=False)
    session = sandbox.IsolatedSession(job, call_timeout=20.0)
    try:
        for name, line in ATTEMPTS.items():
            record = session.call(("call", "attempt"), (name, line, canary, grader_dir, os.getpid()), {})
            result.attempts[name] = _outcome(record)
        result.applied = dict(session.confinement or {})
    finally:
        session.close()
        result.kernel_refusals = sorted({r.describe() for r in session.refused})
        if os.path.exists(os.path.join(grader_dir, "planted.txt")):
            result.attempts["write outside its folder"] = "ALLOWED (a file appeared)"
        shutil.rmtree(grader_dir, ignore_errors=True)
    return result


def _outcome(record: dict) -> str:
    if "__error__" in record:
        return "blocked: " + record["__error__"]["message"][:160]
    value = record.get("value")
    return value if isinstance(value, str) else f"unexpected reply {value!r}"


def render(console, exam: Examination) -> None:
    from rich.markup import escape
    from rich.table import Table
    console.print("[bold]mlkata doctor: isolation of graded code on this machine[/]")
    for line in exam.support.describe():
        console.print(f"  [green]✓[/] {escape(line)}")
    for layer in exam.applied.get("layers", []):
        console.print(f"  [green]✓[/] applied: {escape(layer)}")
    for layer, why in {**exam.support.missing, **exam.applied.get("missing", {})}.items():
        console.print(f"  [red]✗[/] {escape(layer)}: {escape(why)}")
    for note in exam.applied.get("notes", []):
        console.print(f"  [dim]note: {escape(note)}[/]")
    table = Table(title="a confined child tried to ...")
    table.add_column("attempt")
    table.add_column("outcome")
    for name, outcome in exam.attempts.items():
        style = "green" if outcome.startswith("blocked") else "bold red"
        table.add_row(escape(name), f"[{style}]{escape(outcome)}[/]")
    console.print(table)
    if exam.kernel_refusals:
        console.print("reported by the kernel to the grader: " + escape("; ".join(exam.kernel_refusals)))
    verdict = "[green]full isolation[/]" if exam.full else "[red]partial isolation[/]"
    console.print(f"{verdict}: graded code " + ("cannot" if not exam.escaped else "CAN")
                  + " reach what it tried" + ("" if exam.full else " -- see docs/security.md for machines "
                                              "without these features"))
