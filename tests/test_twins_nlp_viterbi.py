"""Library twins of nlp/viterbi: ``hmmlearn.hmm.CategoricalHMM`` with the same start, transition and
emission probabilities decodes the same path with the same log-probability
(``decode(algorithm="viterbi")``), scores the same log-likelihood (``score``) and gives the same
posteriors (``predict_proba``) as the reference and the grader's oracles; log_emit is the
emission matrix read at the observed symbols.  Where two paths tie exactly (the same factors in
another order) hmmlearn may return the other one: then both paths must score the same."""
from pathlib import Path

import numpy as np
import pytest
import torch

from mlkata.engine import load_module

hmm = pytest.importorskip("hmmlearn.hmm", reason="hmmlearn (the test extra) is not installed")

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "nlp" / "viterbi.py"), "_twin_ref_viterbi")
GRADER = load_module(str(ROOT / "graders" / "nlp" / "viterbi.py"), "_twin_grader_viterbi")


def model_and_sequence(seed, S, K, T):
    rng = np.random.default_rng(seed)
    start = rng.random(S) + 0.05
    trans = rng.random((S, S)) + 0.05
    emit = rng.random((S, K)) + 0.05
    model = hmm.CategoricalHMM(n_components=S, n_features=K, init_params="", params="")
    model.startprob_ = start / start.sum()
    model.transmat_ = trans / trans.sum(1, keepdims=True)
    model.emissionprob_ = emit / emit.sum(1, keepdims=True)
    obs = rng.integers(0, K, size=T)
    log_emit = torch.from_numpy(np.log(model.emissionprob_[:, obs]).T.copy())
    args = (torch.from_numpy(np.log(model.startprob_)), torch.from_numpy(np.log(model.transmat_)), log_emit)
    return model, obs.reshape(-1, 1), args


@pytest.mark.parametrize("seed,S,K,T", [(0, 2, 3, 10), (1, 4, 5, 50), (2, 6, 3, 300), (3, 3, 2, 1)])
def test_matches_hmmlearn(seed, S, K, T):
    model, obs, args = model_and_sequence(seed, S, K, T)
    want_logprob, want_path = model.decode(obs, algorithm="viterbi")
    path, logprob = REF.viterbi(*args)
    assert logprob == pytest.approx(want_logprob, rel=1e-9)
    o_path, o_score = GRADER.V.dp_oracle(*args)
    assert o_score == pytest.approx(want_logprob, rel=1e-9)
    assert path.tolist() == o_path.tolist()
    if path.tolist() != want_path.tolist():
        # two paths with the same multiset of factors tie exactly; hmmlearn breaks ties its own way
        lists = [a.tolist() for a in args]
        assert GRADER.V.path_score(want_path.tolist(), *lists) == pytest.approx(
            GRADER.V.path_score(path.tolist(), *lists), rel=1e-12)
    assert REF.forward_log_likelihood(*args) == pytest.approx(model.score(obs), rel=1e-9)
    want_gamma = torch.from_numpy(model.predict_proba(obs))
    torch.testing.assert_close(REF.posteriors(*args), want_gamma, rtol=1e-7, atol=1e-9)
    loglik, gamma = GRADER.forward_oracle(*args)
    assert loglik == pytest.approx(model.score(obs), rel=1e-9)
    torch.testing.assert_close(gamma, want_gamma, rtol=1e-7, atol=1e-9)
