"""systems/in_batch_softmax against two independent formulations, written in numpy/scipy from their
sources (neither TensorFlow nor CLIP's code is a dependency):

* TensorFlow Recommenders, ``tensorflow_recommenders/tasks/retrieval.py`` (``Retrieval.call``):
  scores = q @ d^T, divided by the temperature, then ``SamplingProbablityCorrection`` (subtract
  log(clip(p, 1e-6, 1)) from every column), then ``RemoveAccidentalHits`` (add float32-min / 100
  where the candidate id equals the row's positive id off the diagonal), then categorical
  cross-entropy from logits with SUM reduction.  Our loss is that sum / B.
* CLIP (Radford et al. 2021, Figure 3 pseudo-code): (CE over axis 0 + CE over axis 1) / 2 of the
  scaled cosine-similarity matrix.

The reference (solutions/) and the grader's oracle (graders/, F.cross_entropy in float64) both
match them on random batches."""
import numpy as np
import pytest
import torch

special = pytest.importorskip("scipy.special")

from mlkata import catalog, grading  # noqa: E402
from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "systems" / "in_batch_softmax.py"), "twins_systems_ibs_ref")
ORACLE = grading.check_module("hidden", catalog.get("systems/in_batch_softmax"))
MIN_FLOAT = np.finfo(np.float32).min / 100.0


def tfrs_loss(q, d, temperature, p=None, ids=None):
    scores = q @ d.T / temperature
    if p is not None:
        scores = scores - np.log(np.clip(p, 1e-6, 1.0))[None, :]
    B = scores.shape[0]
    labels = np.eye(B)
    if ids is not None:
        duplicate = (ids[:, None] == ids[None, :]).astype(np.float64) - labels   # off-diagonal same id
        scores = scores + duplicate * MIN_FLOAT
    log_probs = scores - special.logsumexp(scores, axis=1, keepdims=True)
    return -(labels * log_probs).sum()                                           # Reduction.SUM


def clip_loss(q, d, temperature):
    i_e = q / np.linalg.norm(q, axis=1, keepdims=True)
    t_e = d / np.linalg.norm(d, axis=1, keepdims=True)
    logits = i_e @ t_e.T / temperature
    labels = np.arange(len(q))
    ce = lambda L, axis: -(L - special.logsumexp(L, axis=axis, keepdims=True)).take(  # noqa: E731
        labels * (len(q) + 1)).mean()                                            # the diagonal of log-softmax
    return (ce(logits, 0) + ce(logits, 1)) / 2


@pytest.mark.parametrize("seed,B,tau", [(0, 8, 1.0), (1, 16, 0.07), (2, 3, 0.5), (3, 32, 0.02)])
@pytest.mark.parametrize("with_p", [False, True])
@pytest.mark.parametrize("with_ids", [False, True])
def test_matches_tfrs_retrieval(seed, B, tau, with_p, with_ids):
    q, d, p = ORACLE.towers(seed, B, dtype=torch.float64)
    ids = torch.randint(0, max(2, B // 2), (B,), generator=torch.Generator().manual_seed(seed)) if with_ids else None
    if ids is not None:
        d = d.clone()
        for i in range(B):                                   # a repeated id is the same item
            d[i] = d[int((ids == ids[i]).nonzero()[0])]
    want = tfrs_loss(q.numpy(), d.numpy(), tau, p.numpy() if with_p else None,
                     ids.numpy() if with_ids else None) / B
    kw = dict(sampling_prob=p if with_p else None, item_ids=ids)
    assert abs(float(REF.in_batch_softmax_loss(q, d, tau, **kw)) - want) < 1e-9 * max(1.0, abs(want))
    assert abs(float(ORACLE.oracle_loss(q, d, tau, **kw)) - want) < 1e-9 * max(1.0, abs(want))


@pytest.mark.parametrize("seed,B,tau", [(5, 8, 1.0), (6, 64, 0.07), (7, 5, 0.01)])
def test_symmetric_matches_clip(seed, B, tau):
    q, d, _ = ORACLE.towers(seed, B, dtype=torch.float64)
    want = clip_loss(q.numpy(), d.numpy(), tau)
    got = REF.in_batch_softmax_loss(q, d, tau, normalize=True, symmetric=True)
    assert abs(float(got) - want) < 1e-9 * max(1.0, abs(want))
    assert abs(float(ORACLE.oracle_loss(q, d, tau, normalize=True, symmetric=True)) - want) < 1e-9 * max(1.0, want)
