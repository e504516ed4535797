"""Where a learner stands: per-area progress from the visible checks, in the terminal or as a
self-contained HTML page (matplotlib chart embedded as a PNG data URI, no external resources).
"""
from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass

from rich.markup import escape

from . import catalog, grading

STATUS = {"passing": "done", "failing": "attempted", "todo": "todo"}


@dataclass
class Row:
    id: str
    title: str
    area: str
    difficulty: str
    points: float
    status: str          # done | attempted | todo
    feedback: str


def collect(submission: str = "exercises", exercise_ids: list[str] | None = None) -> list[Row]:
    """Run the visible checks of every exercise (sandboxed) and summarise each."""
    exercises = catalog.select(exercise_ids)
    result = grading.grade(submission, [e.id for e in exercises], hidden=False)
    rows = []
    for ex, res in zip(exercises, result.exercises):
        first = next((r.message for r in res.results if not r.passed), "")
        feedback = "all visible checks pass" if res.status == "passing" else first
        points = sum(c.points for c, _ in grading.checks_for(ex))
        rows.append(Row(ex.id, ex.title, ex.area, ex.difficulty, points, STATUS[res.status], feedback))
    return rows


def by_area(rows: list[Row]) -> dict[str, dict[str, float]]:
    areas: dict[str, dict[str, float]] = {}
    for r in rows:
        a = areas.setdefault(r.area, {"done": 0, "attempted": 0, "todo": 0, "points": 0, "points_done": 0})
        a[r.status] += 1
        a["points"] += r.points
        a["points_done"] += r.points if r.status == "done" else 0
    return areas


@dataclass
class TrackProgress:
    name: str
    title: str
    steps: list[tuple[str, str]]     # (exercise id, status) in the track's order
    next: str | None                 # the first step not done, None when the track is finished

    @property
    def done(self) -> int:
        return sum(status == "done" for _, status in self.steps)


def by_track(rows: list[Row]) -> list[TrackProgress]:
    """Each track of the catalog with the status of its steps (those among ``rows``)."""
    status = {r.id: r.status for r in rows}
    out = []
    for t in catalog.tracks().values():
        steps = [(i, status[i]) for i in t.exercises if i in status]
        if steps:
            out.append(TrackProgress(t.name, t.title, steps, next((i for i, s in steps if s != "done"), None)))
    return out


MARK = {"done": "[green]✓[/]", "attempted": "[yellow]✗[/]", "todo": "[dim]·[/]"}


def render_terminal(console, rows: list[Row]) -> None:
    from rich.table import Table
    table = Table(title="mlkata progress (visible checks)")
    for col in ("area", "done", "attempted", "todo", "points done"):
        table.add_column(col, justify="left" if col == "area" else "right")
    for area, a in by_area(rows).items():
        table.add_row(catalog.AREAS.get(area, area), f"[green]{a['done']:g}[/]", f"[yellow]{a['attempted']:g}[/]",
                      f"{a['todo']:g}", f"{a['points_done']:g}/{a['points']:g}")
    console.print(table)
    tracks = by_track(rows)
    if tracks:
        table = Table(title="tracks (mlkata list --track NAME)")
        for col in ("track", "done", "steps", "next"):
            table.add_column(col, justify="right" if col == "done" else "left")
        for t in tracks:
            table.add_row(f"{t.name}: {escape(t.title)}", f"{t.done}/{len(t.steps)}",
                          "".join(MARK[s] for _, s in t.steps), t.next or "[green]finished[/]")
        console.print(table)
    attempted = [r for r in rows if r.status == "attempted"]
    for r in attempted:
        console.print(f"[yellow]attempted[/] {r.id}: {escape(r.feedback.splitlines()[0][:120])}", markup=True,
                      highlight=False)


def chart_png(rows: list[Row]) -> bytes:
    """A horizontal stacked bar per area: done / attempted / todo."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    areas = by_area(rows)
    names = [catalog.AREAS.get(a, a) for a in areas]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(areas) + 1.2), dpi=100)
    left = [0.0] * len(areas)
    for status, color in (("done", "#2e7d32"), ("attempted", "#f9a825"), ("todo", "#b0bec5")):
        values = [a[status] for a in areas.values()]
        ax.barh(names, values, left=left, color=color, label=status)
        left = [l + v for l, v in zip(left, values)]
    ax.invert_yaxis()
    ax.set_xlabel("exercises")
    ax.legend(loc="lower right", frameon=False)
    ax.set_title("Progress per area")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _tracks_html(rows: list[Row]) -> str:
    """One row per track: its steps in order, each marked with its status, and the next step."""
    out = []
    for t in by_track(rows):
        steps = "".join(f'<li class="{s}"><code>{html.escape(i)}</code></li>' for i, s in t.steps)
        nxt = f"<code>{html.escape(t.next)}</code>" if t.next else "finished"
        out.append(f'<tr id="track-{html.escape(t.name)}"><td><b>{html.escape(t.title)}</b><br>'
                   f'<code>mlkata list --track {html.escape(t.name)}</code></td>'
                   f'<td class="count">{t.done}/{len(t.steps)}</td><td><ol class="steps">{steps}</ol></td>'
                   f'<td class="next">{nxt}</td></tr>')
    return "\n".join(out)


def render_html(rows: list[Row]) -> str:
    png = base64.b64encode(chart_png(rows)).decode()
    tracks = _tracks_html(rows)
    done = sum(r.status == "done" for r in rows)
    body = "\n".join(
        f'<tr class="{r.status}"><td><code>{html.escape(r.id)}</code></td><td>{html.escape(r.title)}</td>'
        f"<td>{r.difficulty}</td><td>{r.points:g}</td><td class=\"status\">{r.status}</td>"
        f"<td><pre>{html.escape(r.feedback)}</pre></td></tr>" for r in rows)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mlkata progress</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .35rem .5rem; text-align: left; vertical-align: top; }}
pre {{ margin: 0; white-space: pre-wrap; font-size: .8rem; }}
tr.done .status {{ color: #2e7d32; }} tr.attempted .status {{ color: #b26a00; }} tr.todo .status {{ color: #607d8b; }}
ol.steps {{ margin: 0; padding-left: 1.4rem; }} ol.steps li.done {{ color: #2e7d32; }}
ol.steps li.attempted {{ color: #b26a00; }} ol.steps li.todo {{ color: #607d8b; }}
ol.steps li.done::after {{ content: " ✓"; }} ol.steps li.attempted::after {{ content: " ✗"; }}
</style></head>
<body>
<h1>mlkata progress</h1>
<p id="summary">{done} of {len(rows)} exercises pass their visible checks.</p>
<img id="chart" alt="progress per area" src="data:image/png;base64,{png}">
<h2>Tracks</h2>
<table id="tracks"><thead><tr><th>track</th><th>done</th><th>steps, in order</th><th>next</th></tr></thead>
<tbody>
{tracks}
</tbody></table>
<h2>Exercises</h2>
<table id="exercises"><thead><tr><th>exercise</th><th>title</th><th>difficulty</th><th>points</th>
<th>status</th><th>last feedback</th></tr></thead>
<tbody>
{body}
</tbody></table>
</body></html>
"""
