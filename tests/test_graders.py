"""Proof that the graders work: references get full marks, stubs zero, every buggy variant
loses points with a specific message, every alternative-correct implementation gets full marks.
"""
import pytest

from mlkata import catalog, grading
from helpers import ROOT, VARIANTS, failures, grade_file, variants

EXERCISES = list(catalog.load())


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_reference_gets_full_marks(exercise_id):
    ex = catalog.get(exercise_id)
    result = grading.grade_exercise(ex, str(ROOT / "solutions"))
    assert result.score == result.max_score > 0, failures(result)


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_stub_scores_zero_and_says_todo(exercise_id):
    ex = catalog.get(exercise_id)
    result = grading.grade_exercise(ex, str(ROOT / "exercises"))
    assert result.score == 0
    assert result.status == "todo", failures(result)
    assert all("not implemented yet" in r.message for r in result.results)


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_every_exercise_ships_variants(exercise_id):
    folder = VARIANTS / exercise_id
    assert len(list(folder.glob("bug_*.py"))) >= 4, f"{exercise_id}: needs at least 4 buggy variants in {folder}"
    assert len(list(folder.glob("alt_*.py"))) >= 1, f"{exercise_id}: needs an alternative-correct implementation"


@pytest.mark.parametrize("exercise_id,path", variants("bug"), ids=lambda v: getattr(v, "stem", v))
def test_buggy_variant_is_rejected_with_a_specific_message(exercise_id, path):
    result = grade_file(exercise_id, path)
    assert result.score < result.max_score, f"{path.name} got full marks"
    failed = [r for r in result.results if not r.passed]
    for r in failed:
        assert r.status != "error", f"a check crashed on {path.name}:\n{r.message}"
        assert len(r.message) > 20 and "assert False" not in r.message, r.message


@pytest.mark.parametrize("exercise_id,path", variants("alt"), ids=lambda v: getattr(v, "stem", v))
def test_alternative_correct_implementation_gets_full_marks(exercise_id, path):
    result = grade_file(exercise_id, path)
    assert result.score == result.max_score, failures(result)
