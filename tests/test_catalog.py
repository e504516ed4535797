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
    """Every concept of catalog/seed.toml (seed questions and frontier topics) has an exercise
    tagged with it (docs/authoring.md), every area has five, and no exercise cites an unknown seed id."""
    from mlkata import coverage
    gaps = coverage.compute().uncovered()
    assert gaps == [], f"{len(gaps)} coverage gap(s):\n" + "\n".join(gaps)


# --- the coverage map's tagging convention and the tracks, on a tiny catalog of their own -------

import textwrap

import pytest

from mlkata import coverage

SEED = """
[areas]
nlp = "Natural Language Processing"

[questions."nlp.beam_search"]
area = "nlp"
question = "How does beam search work?"
concepts = ["beam search", "diverse beam search"]

[frontier.objectives]
title = "Training objectives"
concepts = ["focal loss", "label smoothing"]
"""


def tiny_catalog(root, exercises: dict[str, str], tracks: str = ""):
    """A catalog of ``exercises`` (id -> meta.toml's seed/concepts lines) under ``root``."""
    (root / "catalog").mkdir(parents=True)
    (root / "catalog" / "seed.toml").write_text(SEED)
    order = ", ".join(f'"{i}"' for i in exercises)
    (root / "catalog" / "catalog.toml").write_text(f"order = [{order}]\n" + textwrap.dedent(tracks))
    for ex_id, tags in exercises.items():
        folder = root / "catalog" / ex_id
        folder.mkdir(parents=True)
        (folder / "exercise.py").write_text('"""x"""\n')
        (folder / "visible.py").write_text("")
        (folder / "meta.toml").write_text(f'title = "t"\ndifficulty = "easy"\nminutes = 5\nhints = ["h"]\n{tags}\n')
        (root / "graders" / ex_id).parent.mkdir(parents=True, exist_ok=True)
        (root / "graders" / f"{ex_id}.py").write_text("")
    return root


def test_a_seed_concept_needs_its_question_id_and_the_exact_string(tmp_path):
    root = tiny_catalog(tmp_path, {
        "nlp/a": 'seed = "nlp.beam_search"\nconcepts = ["beam search", "focal loss"]',
        "nlp/b": 'seed = "toc.nlp"\nconcepts = ["diverse beam search"]',          # right string, wrong question
        "nlp/c": 'seed = "nlp.beam_search"\nconcepts = ["Diverse beam search"]',  # right question, wrong string
    })
    cov = coverage.compute(root)
    assert cov.questions["nlp.beam_search"][1] == {"beam search": ["nlp/a"], "diverse beam search": []}
    assert cov.frontier["objectives"][1] == {"focal loss": ["nlp/a"], "label smoothing": []}
    assert cov.uncovered() == [
        "nlp.beam_search: concept 'diverse beam search' has no exercise",
        "frontier.objectives: concept 'label smoothing' has no exercise",
        "area nlp: 3 exercises (< 5)"]
    assert "| label smoothing | **none** |" in coverage.markdown(cov)


def test_an_unknown_seed_id_is_a_coverage_error(tmp_path):
    root = tiny_catalog(tmp_path, {"nlp/a": 'seed = ["nlp.beam_serch", "toc.nlp"]\nconcepts = []'})
    assert coverage.compute(root).unknown_seeds == {"nlp/a": ["nlp.beam_serch"]}


def test_tracks_keep_their_order_and_refuse_unknown_exercises(tmp_path):
    ok = tiny_catalog(tmp_path / "ok", {"nlp/a": 'seed = "toc.nlp"', "nlp/b": 'seed = "toc.nlp"'}, """
        [tracks.decoding]
        title = "Decoding"
        exercises = ["nlp/b", "nlp/a"]
        """)
    assert catalog.tracks(ok) == {"decoding": catalog.Track("decoding", "Decoding", ("nlp/b", "nlp/a"))}
    with pytest.raises(catalog.CatalogError, match="unknown track 'decode'; tracks: decoding"):
        catalog.track("decode", ok)
    bad = tiny_catalog(tmp_path / "bad", {"nlp/a": 'seed = "toc.nlp"'}, """
        [tracks.decoding]
        title = "Decoding"
        exercises = ["nlp/a", "nlp/nope"]

        [tracks.short]
        title = "One step"
        exercises = ["nlp/a"]
        """)
    assert catalog.problems(bad) == [
        "track 'decoding' names unknown exercise 'nlp/nope' (not in catalog.toml's order)",
        "track 'short': needs `exercises`, a list of at least two exercise ids"]
    with pytest.raises(catalog.CatalogError, match="nlp/nope"):
        catalog.tracks(bad)


def test_every_track_of_the_catalog_loads():
    tracks = catalog.tracks()
    assert tracks and all(len(t.exercises) >= 2 for t in tracks.values())
