"""Course mode with real nbgrader: the release leaks nothing, autograde gives full / zero / partial
scores equal to `mlkata grade` for the same code, and feedback shows verdicts, not grader code."""
import re
import shutil
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader")

from mlkata import catalog, course, grading  # noqa: E402
from course_helpers import make_course, submit  # noqa: E402
from helpers import ROOT, VARIANTS, grade_file  # noqa: E402

CORE = ["fundamentals/gradient_clipping", "transformer/attention", "nlp/mlm_masking", "nlp/sampling",
        "nlp/beam_search", "llm/reward_model_loss", "llm/dpo_loss", "llm/ppo_objective"]
CORE = [e for e in CORE if e in catalog.load()]


@pytest.mark.parametrize("assignment", course.assignments())
def test_release_holds_no_solution_or_hidden_test_line(assignment):
    assert course.release_problems(ROOT) == [], "release/ is stale: run `mlkata release`"
    assert course.leaks(ROOT, assignment) == []


def test_a_planted_leak_is_found(tmp_path):
    assignment = catalog.get(CORE[0]).assignment
    release = tmp_path / assignment
    shutil.copytree(ROOT / "release" / assignment, release)
    secrets = course.secret_lines(ROOT, assignment)
    kinds = {}
    for line, where in secrets.items():
        kinds.setdefault(where.split(" ")[0], line)      # one solution, one hidden-test, one grader line
    assert {"solution", "hidden", "grader"} <= set(kinds)
    for kind, line in kinds.items():
        planted = tmp_path / f"planted-{kind}"
        shutil.copytree(release, planted)
        nb_path = next(planted.glob("*.ipynb"))
        nb = nbformat.read(nb_path, as_version=4)
        nb.cells[-1].source += "\n" + line
        nbformat.write(nb, nb_path)
        assert any(line in leak for leak in course.leaks(ROOT, assignment, planted)), kind


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    """Three students of an assignment holding the core exercises, autograded by real nbgrader."""
    folder = make_course(tmp_path_factory.mktemp("course") / "course", "core", CORE)
    students = {
        "alice": {e: catalog.get(e).solution for e in CORE},                       # everything right
        "bob": {e: None for e in CORE},                                            # hands in the release
        "carol": {e: sorted((VARIANTS / e).glob("bug_*.py"))[0] for e in CORE},    # one bug each
    }
    api = course.nbgrader_api(folder)
    for student, files in students.items():
        submit(folder, "core", student, files)
        result = api.autograde("core", student, force=True, create=True)
        assert result["success"], result.get("log", "")[-3000:]
    result = api.generate_feedback("core", "carol", force=True)
    assert result["success"], result.get("log", "")[-3000:]
    return folder, students


def _notebook_scores(folder: Path, student: str) -> dict[str, float]:
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{folder / 'gradebook.db'}") as gb:
        return {e: gb.find_submission_notebook(catalog.get(e).name, "core", student).score for e in CORE}


# The graded course is built once per worker: keep its tests on one xdist worker.
course_group = pytest.mark.xdist_group("nbgrader-course")


@course_group
def test_autograde_gives_full_zero_and_partial_scores(graded_course):
    folder, _ = graded_course
    full = {e: sum(c.points for c, _ in grading.checks_for(catalog.get(e))) for e in CORE}
    assert _notebook_scores(folder, "alice") == full
    assert _notebook_scores(folder, "bob") == {e: 0 for e in CORE}
    carol = _notebook_scores(folder, "carol")
    assert all(0 <= carol[e] < full[e] for e in CORE), carol


@course_group
def test_nbgrader_and_mlkata_grade_give_the_same_scores(graded_course):
    folder, students = graded_course
    for student, files in students.items():
        scores = _notebook_scores(folder, student)
        for ex_id, impl in files.items():
            expected = 0.0 if impl is None else grade_file(ex_id, impl).score
            assert scores[ex_id] == expected, (student, ex_id, scores[ex_id], expected)


@course_group
def test_feedback_names_the_failing_rule_and_shows_no_grader_code(graded_course):
    folder, _ = graded_course
    for ex_id in CORE:
        secrets = course.secret_lines(ROOT, catalog.get(ex_id).assignment)
        submitted = nbformat.read(folder / "submitted" / "carol" / "core" / f"{catalog.get(ex_id).name}.ipynb",
                                  as_version=4)
        # text of carol's own submission (her attention code, the visible checks) is no leak
        own = "\n".join(c.source for c in submitted.cells)
        grader_lines = [l for l, where in secrets.items() if where == f"grader graders/{ex_id}.py" and l not in own]
        page = (folder / "feedback" / "carol" / "core" / f"{catalog.get(ex_id).name}.html").read_text()
        text = re.sub(r"<[^>]+>", "", page).replace("&quot;", '"').replace("&#39;", "'").replace("&gt;", ">") \
            .replace("&lt;", "<").replace("&amp;", "&")
        assert "FAIL " in text and ("rule:" in text or "your code" in text), ex_id
        leaked = [l for l in grader_lines if l in text]
        assert leaked == [], f"{ex_id}: grader code in feedback: {leaked[:3]}"
        # the verdict explains the failure: no toolkit traceback, no path of the grading machine
        assert "most recent call last" not in text and str(ROOT) not in text and "site-packages" not in text


@pytest.mark.parametrize("assignment", course.assignments())
def test_release_notebooks_run_top_to_bottom_in_a_real_kernel(assignment, tmp_path):
    """With the solution cell filled in, the first release notebook of each assignment runs clean."""
    from nbclient import NotebookClient
    release = sorted((ROOT / "release" / assignment).glob("*.ipynb"))[0]
    ex = catalog.get(nbformat.read(release, as_version=4).metadata["mlkata"]["exercise"])
    nb = nbformat.read(release, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
    cell.source = ex.solution.read_text()
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()     # raises on any error
    outputs = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "PASS" in outputs and "FAIL" not in outputs


@course_group
def test_class_wide_fast_autograde_fills_the_gradebook_as_nbgrader_does(graded_course, tmp_path):
    """`mlkata autograde` (sandboxed, parallel) records the same scores through nbgrader's API, and
    nbgrader's own generate_feedback works on what it wrote."""
    nbgrader_folder, students = graded_course
    folder = make_course(tmp_path / "course", "core", CORE)
    for student, files in students.items():
        submit(folder, "core", student, files)
    scores = course.fast_autograde(folder, "core", workers=2)
    for student in students:
        expected = {catalog.get(e).name: s for e, s in _notebook_scores(nbgrader_folder, student).items()}
        assert scores[student] == expected, student
        got = {catalog.get(e).name: s for e, s in _notebook_scores(folder, student).items()}
        assert got == expected, student
    result = course.nbgrader_api(folder).generate_feedback("core", "carol", force=True)
    assert result["success"], result.get("log", "")[-2000:]
    page = (folder / "feedback" / "carol" / "core" / f"{catalog.get(CORE[0]).name}.html").read_text()
    assert "FAIL" in page


def test_a_solution_line_also_given_outside_every_region_is_not_a_secret():
    """The leak scan flagged `if axis is None:` in llm/int8_quantization: the learner writes it
    in one function and is given it in another."""
    src = ("def a(axis):\n    ### BEGIN SOLUTION\n    if axis is None:\n        return 1\n    ### END SOLUTION\n"
           "def b(axis):\n    if axis is None:\n        return 2\n")
    outside = course._regions(src, course.SOLUTION_BEGIN, course.SOLUTION_END, inside_wanted=False)
    inside = course._regions(src, course.SOLUTION_BEGIN, course.SOLUTION_END)
    assert "if axis is None:" in outside and "return 1" in inside and "return 1" not in outside
    assert "if axis is None:" not in course.secret_lines(ROOT, "llm")
    assert course.leaks(ROOT, "llm") == []
