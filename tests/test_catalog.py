"""The catalog is consistent and every generated file is up to date."""
from mlkata import build, catalog


def test_catalog_index_matches_the_folders():
    assert catalog.problems() == []


def test_generated_files_are_up_to_date():
    """Does `mlkata build --check` pass (nothing stale, nothing edited by hand)?"""
    assert build.stale() == []


def test_every_exercise_has_hints_difficulty_time_and_points():
    from mlkata.grading import checks_for
    for ex in catalog.load().values():
        assert ex.hints and ex.difficulty in ("easy", "medium", "hard") and ex.minutes > 0, ex.id
        assert sum(c.points for c, _ in checks_for(ex)) > 0, ex.id


def test_every_seed_concept_has_an_exercise_and_every_area_five():
    from mlkata import coverage
    assert coverage.compute().uncovered() == []
