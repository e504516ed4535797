"""Proof that the graders work: references get full marks, stubs zero, every buggy variant
loses points with a specific message, every alternative-correct implementation gets full marks.
"""
import pytest

from mlkata import build, catalog, engine, grading
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
    if build.gives_code(ex):
        # a debugging exercise's stub is the broken code: it runs, and every check names its rule
        assert result.status == "failing", failures(result)
        for r in result.results:
            assert r.status != "error", f"a check crashed on the given code:\n{r.message}"
            assert_teaches(r.message)
        return
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
        assert_teaches(r.message)


ERROR_PREFIXES = tuple(engine._KIND_PREFIX.values()) + ("forbidden call",)


def assert_teaches(message: str):
    """A failure names the rule and shows expected vs produced, or names what the code did."""
    assert "assert False" not in message and len(message) > 20, message
    if message.startswith("rule:"):
        rule, _, detail = message.partition("\n")
        assert len(rule) > len("rule: ") + 10, f"the rule is not named: {message}"
        assert detail.strip(), f"no expected/produced detail: {message}"
        assert "mlkata hint" in message, f"no pointer to the hint command: {message}"
    else:
        assert message.startswith(ERROR_PREFIXES), f"neither a rule nor a named error: {message}"


@pytest.mark.parametrize("exercise_id,path", variants("alt"), ids=lambda v: getattr(v, "stem", v))
def test_alternative_correct_implementation_gets_full_marks(exercise_id, path):
    result = grade_file(exercise_id, path)
    assert result.score == result.max_score, failures(result)
