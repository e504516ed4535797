# CORRECT, written differently: distances within 1e-9 of the smallest count as equally close (the docstring
# leaves near-ties that only rounding separates free), then the largest of those thresholds wins.
"""Equal opportunity by post-processing: one decision threshold per group.

A score model thresholded at one global cut-off can have very different true positive rates
across groups (its scores may be shifted or squashed for one group).  *Equal opportunity*
(Hardt, Price & Srebro, "Equality of Opportunity in Supervised Learning", NeurIPS 2016) asks
that qualified people -- actual positives -- be accepted at the same rate in every group.
Without retraining, it can be reached by choosing a separate threshold per group so that
each group's TPR is as close as possible to a common target TPR.

For a group with actual-positive scores s_1..s_P, predicting ``score >= t`` gives

    TPR(t) = #{i : s_i >= t} / P,

a step function of t that only changes at the positives' scores.  So the candidate thresholds
are the distinct positive scores of the group (each one accepts itself and everything above)
plus ``+inf`` (accept no one, TPR 0); between two positive scores, the highest threshold that
reaches a TPR accepts the fewest negatives, i.e. the fewest false positives.  Choose the
candidate whose TPR is closest to the target; when two are equally close, take the larger
threshold (the lower TPR, fewer false positives).  Fairlearn's
``fairlearn.postprocessing.ThresholdOptimizer(constraints="true_positive_rate_parity")``
solves a richer version of this (randomised thresholds, optimising accuracy); this is the
deterministic core.

Write it with torch, without fairlearn or ``sklearn.metrics.roc_curve``.
"""
import math
from typing import Dict

import torch


def equal_opportunity_thresholds(scores: torch.Tensor, y_true: torch.Tensor, sensitive: torch.Tensor,
                                 target_tpr: float) -> Dict[str, torch.Tensor]:
    """Per-group thresholds whose TPR is closest to ``target_tpr``.

    Args:
        scores: (n,) float scores (float32 or float64), finite; higher means more likely positive.
        y_true: (n,) binary actual labels: bool, or 0/1 as int or float (nonzero = positive).
        sensitive: (n,) integer group ids (any integers); the groups are the distinct ids.
        target_tpr: the wanted TPR, a float in [0, 1].
        The inputs are not modified.

    For each group, the candidates are its distinct actual-positive scores and ``+inf``; the
    TPR of a candidate t is the fraction of the group's actual positives with ``score >= t``.
    The chosen threshold minimises |TPR(t) - target_tpr|; among equally close candidates, the
    largest t wins.  "Equally close" means exactly equal distances, as with TPRs 1/4 and 3/4
    around a target of 1/2; distances that are equal in exact arithmetic but not in floating
    point (TPRs 1/3 and 2/3 around 1/2) are never graded, so compare the distances exactly or
    within a tolerance up to 1e-9, as you like.  A group with no actual positives gets threshold
    ``+inf`` and TPR NaN.

    Returns:
        a dict: ``"groups"`` (G,) the distinct ids ascending (dtype of ``sensitive``);
        ``"thresholds"`` (G,) float64, each the exact value of a positive score of its group, or
        ``inf``; ``"tpr"`` (G,) float64, the TPR each group reaches with its threshold.
    """
    groups = torch.unique(sensitive, sorted=True)                           # (G,)
    thresholds, tprs = [], []
    for g in groups:
        pos = scores[(sensitive == g) & (y_true != 0)].double().sort().values   # (P,) ascending
        P = pos.numel()
        if P == 0:
            thresholds.append(math.inf)
            tprs.append(math.nan)
            continue
        inf = torch.tensor([math.inf], dtype=torch.float64)
        cand = torch.cat([inf, pos.unique(sorted=True).flip(0)])            # (K,) largest first
        tpr = (P - torch.searchsorted(pos, cand, right=False)).double() / P  # (K,) fraction with score >= t
        gap = (tpr - target_tpr).abs()                                      # (K,)
        best = int(torch.nonzero(gap <= gap.min() + 1e-9)[0])               # largest t among near-equal gaps
        thresholds.append(float(cand[best]))
        tprs.append(float(tpr[best]))
    f64 = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    return {"groups": groups, "thresholds": f64(thresholds), "tpr": f64(tprs)}


def apply_thresholds(scores: torch.Tensor, sensitive: torch.Tensor, groups: torch.Tensor,
                     thresholds: torch.Tensor) -> torch.Tensor:
    """Predict 1 where a sample's score reaches its own group's threshold.

    Args:
        scores: (n,) float scores; sensitive: (n,) integer group ids.
        groups: (G,) distinct ids in ascending order, containing every id of ``sensitive``.
        thresholds: (G,) float thresholds, ``thresholds[j]`` for ``groups[j]`` (``inf`` allowed).

    Returns:
        (n,) int64 predictions: 1 where ``scores[i] >= threshold of sensitive[i]`` (a score equal
        to the threshold is accepted), else 0.
    """
    j = torch.searchsorted(groups, sensitive)                               # (n,) position of each id
    return (scores.double() >= thresholds.double()[j]).long()
