"""Library twin of nlp/rouge: the reference and the grader's oracle agree with Google's
``rouge_score.rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)`` --
precision, recall and F1, with its ``score(target, prediction)`` argument order -- and with its
tokenizer, on random texts with punctuation and case."""
import random

import pytest

from mlkata.engine import load_module
from helpers import ROOT

rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
rouge_tokenize = pytest.importorskip("rouge_score.tokenize")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "nlp" / "rouge.py"), "twin_solution_nlp_rouge")


@pytest.fixture(scope="module")
def oracle():
    return load_module(str(ROOT / "graders" / "nlp" / "rouge.py"), "twin_grader_nlp_rouge")


def random_text(rng, words, n):
    return " ".join(rng.choice(words) + rng.choice(["", "", ",", ".", "!"]) for _ in range(n))


@pytest.mark.parametrize("seed", range(8))
def test_scores_agree_with_rouge_score(ref, oracle, seed):
    rng = random.Random(seed)
    words = ["The", "cat", "sat", "on", "mat", "a", "dog", "RAN", "fast", "x1", "2024"]
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
    for _ in range(25):
        target = random_text(rng, words, rng.randint(0, 20))
        prediction = random_text(rng, words, rng.randint(0, 20))
        theirs = scorer.score(target, prediction)
        ours = ref.rouge_scores(target, prediction)
        T, P = oracle.oracle_tokens(target), oracle.oracle_tokens(prediction)
        graders = {"rouge1": oracle.oracle_n(T, P, 1), "rouge2": oracle.oracle_n(T, P, 2), "rougeL": oracle.oracle_l(T, P)}
        for key in ("rouge1", "rouge2", "rougeL"):
            want = (theirs[key].precision, theirs[key].recall, theirs[key].fmeasure)
            assert ours[key] == pytest.approx(want, rel=1e-12, abs=1e-12)
            assert graders[key] == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_tokenizer_agrees(ref, oracle):
    rng = random.Random(0)
    alphabet = list("abcXYZ019 .,;!?-'\"\t\néü_/")
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert ref.tokenize(text) == oracle.oracle_tokens(text) == rouge_tokenize.tokenize(text, None)
