"""Visible checks: the ROC curve of six scored examples (with a tie), its area, a positive tied
with a negative counting one half, and ValueError for a single class."""
import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, probe

FUNCTIONS = ("roc_curve", "roc_auc_score", "roc_auc_rank")


@probe
def curve(sub, y, s):
    """``sub.roc_curve``; also the inputs afterwards."""
    out = sub.roc_curve(y, s)
    if isinstance(out, (tuple, list)) and len(out) == 3:
        return {"fpr": out[0], "tpr": out[1], "thresholds": out[2], "y_after": y, "s_after": s}
    return {"fpr": out, "tpr": None, "thresholds": None, "y_after": y, "s_after": s}


@probe
def auc(sub, fn, y, s):
    """``sub.<fn>(y, s)`` for fn = roc_auc_score or roc_auc_rank; also the inputs afterwards."""
    return {"auc": getattr(sub, fn)(y, s), "y_after": y, "s_after": s}


@probe
def raises(sub, fn, y, s):
    """What ``sub.<fn>(y, s)`` raises (None if it returns)."""
    try:
        getattr(sub, fn)(y, s)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - reported to the check
        return {"raised": type(e).__name__, "value_error": isinstance(e, ValueError), "message": str(e)[:200]}
    return {"raised": None, "value_error": False, "message": ""}


def expect_curve(got, want, rule, what, rtol=1e-12, atol=1e-12):
    """Judge side: the three arrays of a curve against ``want = (fpr, tpr, thresholds)``."""
    for key, w in zip(("fpr", "tpr", "thresholds"), want):
        t = got[key]
        if not isinstance(t, torch.Tensor):
            raise Fail("roc_curve returns three tensors (fpr, tpr, thresholds)",
                       f"{what}: {key} is {describe(t)}")
        if t.shape != w.shape:
            raise Fail(rule + " (one point per DISTINCT score, plus (0, 0) at threshold +inf)",
                       f"{what}: expected {key} of shape {list(w.shape)} ({w.numel() - 1} distinct scores + 1), "
                       f"your code produced shape {list(t.shape)}\n  expected {key} {w.tolist()}\n"
                       f"  produced {key} {t.tolist()}"[:900])
        expect_close(t, w, rule, rtol=rtol, atol=atol, what=f"{key} ({what})")


def expect_auc(got, want, rule, what, rtol=1e-12, atol=1e-12):
    value = got["auc"]
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    expect(isinstance(value, (int, float)) and not isinstance(value, bool), "the AUC is returned as a Python float",
           f"{what}: your code returned {describe(got['auc'])}")
    expect_close(float(value), float(want), rule, rtol=rtol, atol=atol, what=what)


F64 = torch.float64
Y6 = torch.tensor([1, 0, 1, 1, 0, 0])
S6 = torch.tensor([0.9, 0.8, 0.7, 0.7, 0.3, 0.3], dtype=F64)


@check("roc_curve of six examples: thresholds [inf, 0.9, 0.8, 0.7, 0.3], one point per distinct score")
def small_curve(run):
    got = run(curve, Y6, S6)
    want = (torch.tensor([0, 0, 1 / 3, 1 / 3, 1], dtype=F64), torch.tensor([0, 1 / 3, 1 / 3, 1, 1], dtype=F64),
            torch.tensor([float("inf"), 0.9, 0.8, 0.7, 0.3], dtype=F64))
    expect_curve(got, want, "point i uses the rule score >= thresholds[i]: FPR = FP / N, TPR = TP / P; the two "
                 "examples scored 0.7 cross together", "y = [1, 0, 1, 1, 0, 0], s = [0.9, 0.8, 0.7, 0.7, 0.3, 0.3]")


@check("roc_auc_score is the trapezoid area under that curve: 7/9")
def small_area(run):
    got = run(auc, "roc_auc_score", Y6, S6)
    expect_auc(got, 7 / 9, "AUC = sum of (fpr[i+1] - fpr[i]) * (tpr[i+1] + tpr[i]) / 2; here 7 of the 9 "
               "(positive, negative) pairs are ordered correctly", "roc_auc_score")


@check("a positive tied with a negative counts one half: both AUCs of y = [1, 0, 1, 0], s = [.6, .6, .2, .1] are 0.625")
def tie_counts_half(run):
    y = torch.tensor([1, 0, 1, 0])
    s = torch.tensor([0.6, 0.6, 0.2, 0.1], dtype=F64)
    # pairs: (.6, .6) tie = 0.5, (.6, .1) = 1, (.2, .6) = 0, (.2, .1) = 1  ->  2.5 / 4
    expect_auc(run(auc, "roc_auc_score", y, s), 0.625, "tied scores cross the threshold together, a diagonal "
               "segment worth one half of the pair", "roc_auc_score")
    expect_auc(run(auc, "roc_auc_rank", y, s), 0.625, "tied scores share the average of their ranks (here both "
               "0.6 get rank 3.5), and AUC = (R - P (P + 1) / 2) / (P N)", "roc_auc_rank")


@check("a single class raises ValueError in all three functions")
def single_class(run):
    s = torch.tensor([0.2, 0.7, 0.4], dtype=F64)
    for fn in FUNCTIONS:
        for y in (torch.tensor([1, 1, 1]), torch.tensor([0, 0, 0])):
            got = run(raises, fn, y, s)
            expect(got["value_error"], f"{fn} raises ValueError when y_true holds one class: a rate with "
                   "P = 0 or N = 0 is undefined", f"{fn}(y_true={y.tolist()}, ...) "
                   + (f"raised {got['raised']}: {got['message']}" if got["raised"] else "returned without raising"))
