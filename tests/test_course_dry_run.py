"""`mlkata course dry-run`: real nbgrader grades the reference, the stub and a half-solved notebook
of each exercise in a temporary course, and the table says full / zero / partial, each equal to
`mlkata grade` of the same code."""
import pytest

pytest.importorskip("nbgrader")

from mlkata import catalog, cli, dry_run  # noqa: E402

EXERCISE = "nlp/sampling"          # two solution regions: half-solved keeps top-k, stubs top-p


def test_half_solved_keeps_the_first_regions_and_stubs_the_rest():
    import nbformat
    ex = catalog.get(EXERCISE)
    source = next(c for c in nbformat.read(ex.notebook, as_version=4).cells
                  if c.metadata.get("nbgrader", {}).get("solution")).source
    half = dry_run.half_solved(ex, source)
    assert "### BEGIN SOLUTION" not in half and half.count("raise NotImplementedError()") == 1
    top_p = half[half.index("def top_p_filter"):]
    assert "raise NotImplementedError()" in top_p and "raise NotImplementedError()" not in half[:half.index("def top_p_filter")]


@pytest.mark.xdist_group("nbgrader-dry-run")
def test_dry_run_prints_full_zero_and_partial_as_nbgrader_grades_them(capsys):
    ex = catalog.get(EXERCISE)
    code = cli.main(["course", "dry-run", ex.assignment, "--exercise", EXERCISE])
    out = capsys.readouterr().out
    assert code == 0, out
    line = next(l for l in out.splitlines() if EXERCISE in l)
    cells = [c.strip() for c in line.strip("│ ").split("│")]
    points = float(cells[1])
    assert cells[2] == f"{points:g} ({points:g})"          # reference: full, as mlkata grade says
    assert cells[3] == "0 (0)"                             # stub: zero
    half, expected = cells[4].split(" ")
    assert 0 < float(half) < points and expected == f"({half})", cells   # partial, the same as mlkata grade
    assert cells[5] == "ok" and "1 of 1 exercises grade as expected" in out


def test_a_course_that_grades_wrongly_is_flagged():
    good = dry_run.Row("a/b", 5, {"reference": 5, "stub": 0, "half-solved": 2}, {"reference": 5, "stub": 0, "half-solved": 2})
    assert good.problems() == []
    lenient = dry_run.Row("a/b", 5, {"reference": 5, "stub": 1, "half-solved": 5}, {"reference": 5, "stub": 1, "half-solved": 5})
    assert [p.split(" ")[1] for p in lenient.problems()] == ["untouched", "half-solved"]
    disagree = dry_run.Row("a/b", 5, {"reference": 4, "stub": 0}, {"reference": 5, "stub": 0})
    assert disagree.problems() == ["reference: nbgrader gave 4, mlkata grade 5", "the reference scores 4 of 5"]
