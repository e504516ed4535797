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
    visible_passed: int = 0
    visible_total: int = 0


def collect(submission: str = "exercises", exercise_ids: list[str] | None = None) -> list[Row]:
    """Run the visible checks of every exercise (sandboxed) and summarise each."""
    exercises = catalog.select(exercise_ids)
    from .interview import untouched
    result = grading.grade(submission, [e.id for e in exercises], hidden=False)
    rows = []
    for ex, res in zip(exercises, result.exercises):
        first = next((r.message for r in res.results if not r.passed), "")
        feedback = "all visible checks pass" if res.status == "passing" else first
        points = sum(c.points for c, _ in grading.checks_for(ex))
        # a stub that gives code to fix runs and fails its checks, yet nobody has touched it yet
        status = "todo" if res.status == "failing" and untouched(ex, submission) else STATUS[res.status]
        rows.append(Row(ex.id, ex.title, ex.area, ex.difficulty, points, status, feedback,
                        sum(r.passed for r in res.results), len(res.results)))
    return rows


def by_area(rows: list[Row]) -> dict[str, dict[str, float]]:
    areas: dict[str, dict[str, float]] = {}
    for r in rows:
        a = areas.setdefault(r.area, {"done": 0, "attempted": 0, "todo": 0, "visible_passed": 0, "visible_total": 0})
        a[r.status] += 1
        a["visible_passed"] += r.visible_passed
        a["visible_total"] += r.visible_total
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


def render_terminal(console, rows: list[Row], history: list | None = None) -> None:
    from rich.table import Table
    # Passing visible checks is not a grade: the table counts checks, never points (points come
    # from a graded run -- mlkata grade, or an interview, whose scores are listed below).
    table = Table(title="mlkata progress (visible checks, not graded: mlkata grade gives points)")
    for col in ("area", "done", "attempted", "todo", "visible checks passing"):
        table.add_column(col, justify="left" if col == "area" else "right")
    for area, a in by_area(rows).items():
        table.add_row(catalog.AREAS.get(area, area), f"[green]{a['done']:g}[/]", f"[yellow]{a['attempted']:g}[/]",
                      f"{a['todo']:g}", f"{a['visible_passed']:g}/{a['visible_total']:g}")
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
    if history:
        render_history_terminal(console, history)


# --------------------------------------------------------------------------------------------
# Interview history (mlkata interview): graded scores and times, over days, per area
# --------------------------------------------------------------------------------------------

def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def history_by_area(history: list) -> dict[str, dict]:
    """Per area: sessions, mean score (fraction), mean time used, and the first and the latest
    interview's score, so a learner sees the trend."""
    out: dict[str, dict] = {}
    for r in history:
        a = out.setdefault(r.area, {"sessions": 0, "fractions": [], "seconds": [], "days": set()})
        a["sessions"] += 1
        a["fractions"].append(r.fraction)
        a["seconds"].append(r.seconds_used)
        a["days"].add(r.day)
    for a in out.values():
        a["mean"] = sum(a["fractions"]) / len(a["fractions"])
        a["mean_seconds"] = sum(a["seconds"]) / len(a["seconds"])
        a["first"], a["latest"] = a["fractions"][0], a["fractions"][-1]
    return out


def render_history_terminal(console, history: list, recent: int = 10) -> None:
    from rich.table import Table
    table = Table(title="interviews per area (graded: mlkata interview)")
    for col in ("area", "sessions", "days", "mean score", "mean time", "first → latest"):
        table.add_column(col, justify="left" if col == "area" else "right")
    for area, a in history_by_area(history).items():
        trend = "[green]↑[/]" if a["latest"] > a["first"] else "[red]↓[/]" if a["latest"] < a["first"] else "="
        table.add_row(catalog.AREAS.get(area, area), str(a["sessions"]), str(len(a["days"])), f"{a['mean']:.0%}",
                      _clock(a["mean_seconds"]), f"{a['first']:.0%} → {a['latest']:.0%} {trend}")
    console.print(table)
    table = Table(title=f"latest interviews ({min(recent, len(history))} of {len(history)})")
    for col in ("date", "exercise", "time used", "hints", "score"):
        table.add_column(col, no_wrap=col == "exercise", justify="left" if col in ("date", "exercise") else "right")
    for r in reversed(history[-recent:]):
        table.add_row(r.date.replace("T", " ")[:16], r.exercise, f"{_clock(r.seconds_used)} of {_clock(r.minutes * 60)}",
                      str(r.hints_used), f"{r.score:g}/{r.max_score:g}")
    console.print(table)


def history_png(history: list) -> bytes:
    """Score (% of the graded run) of each interview over time, one line per area."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from datetime import datetime
    fig, ax = plt.subplots(figsize=(8, 3.6), dpi=100)
    for area in history_by_area(history):
        mine = [r for r in history if r.area == area]
        ax.plot([datetime.fromisoformat(r.date) for r in mine], [100 * r.fraction for r in mine], marker="o",
                label=catalog.AREAS.get(area, area))
    ax.set_ylim(-5, 105)
    ax.set_ylabel("score (%)")
    ax.set_title("Interviews: graded score over time, per area")
    ax.legend(loc="lower right", frameon=False, fontsize="small")
    fig.autofmt_xdate()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _history_html(history: list) -> str:
    if not history:
        return '<p id="no-interviews">No interview yet: <code>mlkata interview</code> starts one.</p>'
    png = base64.b64encode(history_png(history)).decode()
    areas = "\n".join(
        f'<tr><td>{html.escape(catalog.AREAS.get(area, area))}</td><td>{a["sessions"]}</td><td>{len(a["days"])}</td>'
        f'<td>{a["mean"]:.0%}</td><td>{_clock(a["mean_seconds"])}</td><td>{a["first"]:.0%} → {a["latest"]:.0%}</td></tr>'
        for area, a in history_by_area(history).items())
    records = "\n".join(
        f'<tr class="interview"><td>{html.escape(r.date.replace("T", " "))}</td><td><code>{html.escape(r.exercise)}</code></td>'
        f"<td>{_clock(r.seconds_used)} of {_clock(r.minutes * 60)}</td><td>{r.hints_used}</td>"
        f"<td>{r.score:g}/{r.max_score:g}</td><td>{r.hidden_score:g}/{r.hidden_max:g}</td><td>{html.escape(r.ended)}</td></tr>"
        for r in reversed(history))
    return f"""<img id="history-chart" alt="interview scores over time" src="data:image/png;base64,{png}">
<table id="interview-areas"><thead><tr><th>area</th><th>sessions</th><th>days</th><th>mean score</th>
<th>mean time</th><th>first → latest</th></tr></thead>
<tbody>
{areas}
</tbody></table>
<table id="interviews"><thead><tr><th>date</th><th>exercise</th><th>time used</th><th>hints</th><th>score</th>
<th>hidden checks</th><th>ended</th></tr></thead>
<tbody>
{records}
</tbody></table>"""


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


def render_html(rows: list[Row], history: list | None = None) -> str:
    png = base64.b64encode(chart_png(rows)).decode()
    interviews = _history_html(history or [])
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
<p id="summary">{done} of {len(rows)} exercises pass their visible checks (not graded: points come from
<code>mlkata grade</code> and <code>mlkata interview</code>).</p>
<img id="chart" alt="progress per area" src="data:image/png;base64,{png}">
<h2>Tracks</h2>
<table id="tracks"><thead><tr><th>track</th><th>done</th><th>steps, in order</th><th>next</th></tr></thead>
<tbody>
{tracks}
</tbody></table>
<h2>Interviews</h2>
{interviews}
<h2>Exercises</h2>
<table id="exercises"><thead><tr><th>exercise</th><th>title</th><th>difficulty</th><th>worth (points)</th>
<th>status</th><th>last feedback</th></tr></thead>
<tbody>
{body}
</tbody></table>
</body></html>
"""
