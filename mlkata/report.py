"""Presentation of results: Gradescope JSON and terminal text.  No grading logic here."""
from __future__ import annotations

from rich.markup import escape

from .grading import ExerciseResult, SubmissionResult


def gradescope(result: SubmissionResult) -> dict:
    """Gradescope's ``results.json`` shape: score, max_score and one test per check."""
    tests = []
    for ex in result.exercises:
        for r in ex.results:
            tests.append({
                "name": f"{ex.id}: {r.title}",
                "score": r.score,
                "max_score": r.points,
                "output": r.message if not r.passed else "passed",
                "visibility": "after_published" if r.hidden else "visible",
            })
    return {"score": result.score, "max_score": result.max_score, "tests": tests}


def _status_style(status: str) -> str:
    return {"passing": "green", "failing": "red", "todo": "yellow"}.get(status, "white")


def render_exercise(console, ex: ExerciseResult, verbose: bool = True) -> None:
    style = _status_style(ex.status)
    console.print(f"[bold {style}]{ex.status.upper():8}[/] {ex.id}  "
                  f"[bold]{ex.score:g}/{ex.max_score:g}[/]  {escape(ex.title)}", highlight=False)
    if not verbose or ex.status == "passing":
        return
    if ex.status == "todo":
        console.print(f"         not implemented yet (mlkata hint {ex.id})", style="yellow", highlight=False)
        return
    shown = set()
    for r in ex.results:
        if r.passed or r.message in shown:
            continue
        shown.add(r.message)
        tag = "hidden" if r.hidden else "visible"
        console.print(f"  [red]✗[/] {escape(r.title)} [dim]({tag}, {r.points:g} pt)[/]", highlight=False)
        console.print("      " + r.message.replace("\n", "\n      "), style="dim", highlight=False, markup=False)


def render(console, result: SubmissionResult, verbose: bool = True) -> None:
    for ex in result.exercises:
        render_exercise(console, ex, verbose)
    console.print(f"\n[bold]total {result.score:g}/{result.max_score:g}[/] for {result.submission}",
                  highlight=False)
