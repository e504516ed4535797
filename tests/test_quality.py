"""Published grader quality (docs/quality.json, docs/quality.md) is current and holds the standard.

The figures are measured by `mlkata quality --write` (grading every variant and null submission).
CI does not grade them a second time: tests/test_graders.py fails when a buggy variant is missed
or an alternative rejected, tests/test_null_submissions.py when a null submission scores, and
the tests here fail when a published figure is missing, was measured on other files, or is not
what those tests require -- so no regression can be published, and none can pass CI.
"""
from __future__ import annotations

import pytest

from mlkata import catalog, grading, quality

EXERCISES = list(catalog.load())


@pytest.fixture(scope="module")
def data():
    return quality.load()


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_figures_are_published_and_current(exercise_id, data):
    ex = catalog.get(exercise_id)
    assert exercise_id in data, f"{exercise_id}: no published figures -- run `mlkata quality --write {exercise_id}`"
    assert data[exercise_id]["digest"] == quality.digest(ex), (
        f"{exercise_id}: the figures were measured on other files (its reference, checks, variants or twin test "
        f"changed since) -- run `mlkata quality --write {exercise_id}`")


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_published_figures_hold_the_standard(exercise_id, data):
    """Every bug caught, every alternative accepted, every null at 0 -- and the counts are today's."""
    if exercise_id not in data:
        pytest.skip("not published (test_figures_are_published_and_current fails)")
    ex, f = catalog.get(exercise_id), data[exercise_id]
    checks = grading.checks_for(ex)
    assert (f["checks"], f["points"]) == (len(checks), sum(c.points for c, _ in checks))
    assert f["bugs"] == len(quality.variant_files(ex, "bug")) and f["alts"] == len(quality.variant_files(ex, "alt"))
    assert f["bugs_caught"] == f["bugs"], f"{exercise_id}: published with missed variants {f['missed']}"
    assert f["alts_accepted"] == f["alts"], f"{exercise_id}: published with rejected alternatives {f['rejected']}"
    assert f["null_best"] == 0 and f["null_families"] > 0, \
        f"{exercise_id}: published with a null submission scoring {f['null_best']} ({f['null_scoring']})"


def test_page_is_rendered_from_the_data():
    assert (catalog.ROOT / quality.PAGE).read_text() == quality.markdown(), \
        "docs/quality.md is stale: run `mlkata build` (or `mlkata quality --write`)"


def test_measuring_reproduces_the_published_figures(data):
    """One exercise measured again, end to end: the same figures as published (the data file is
    what `measure` computes, not a hand-kept table)."""
    ex = catalog.get("fundamentals/gradient_clipping")
    again = quality.measure(ex)
    published = {k: v for k, v in data[ex.id].items() if k != "twins"}
    assert {k: v for k, v in again.items() if k != "twins"} == published
    assert [t["library"] for t in again["twins"]] == [t["library"] for t in data[ex.id]["twins"]]


def test_page_marks_missing_and_stale_figures(monkeypatch, data):
    some, other = EXERCISES[0], EXERCISES[1]
    edited = {k: v for k, v in data.items() if k != some}
    edited[other] = dict(data[other], digest="0" * 16)
    monkeypatch.setattr(quality, "load", lambda root=catalog.ROOT: edited)
    page = quality.markdown()
    assert f"| `{some}` | not measured yet" in page
    assert f"| `{other}` (stale: files changed since measured)" in page
    assert any(some in p and "missing" in p for p in quality.problems())
    assert any(other in p and "stale" in p for p in quality.problems())


def test_twins_are_read_from_the_twin_test_with_versions():
    found = quality.twins(catalog.get("llm/dpo_loss"))
    assert [t["library"] for t in found] == ["trl", "torch"]
    assert all(t["version"][0].isdigit() and t["where"] == "twin test" for t in found)
    graders_only = quality.twins(catalog.get("fundamentals/gradient_clipping"))
    assert [t["library"] for t in graders_only] == ["torch"] and graders_only[0]["where"] == "graders"
