"""Visible checks: the focal factor on single predictions, in both forms."""
import math

import torch

from mlkata.checks import check, expect_close, probe


@probe
def sigmoid_fl(sub, logits, targets, options=None, grad=False):
    x = logits.detach().clone().requires_grad_(True) if grad else logits
    out = sub.sigmoid_focal_loss(x, targets, **(options or {}))
    g = None
    if grad and isinstance(out, torch.Tensor) and out.requires_grad:
        out.sum().backward()
        g = x.grad
    return {"loss": out, "grad": g}


@probe
def softmax_fl(sub, logits, target, options=None, grad=False):
    x = logits.detach().clone().requires_grad_(True) if grad else logits
    out = sub.softmax_focal_loss(x, target, **(options or {}))
    g = None
    if grad and isinstance(out, torch.Tensor) and out.requires_grad:
        out.backward()
        g = x.grad
    return {"loss": out, "grad": g}


def sig(x):
    return 1 / (1 + math.exp(-x))


@check("sigmoid form: -alpha_t (1 - p_t)^gamma log p_t for a positive and a negative")
def sigmoid_small(run):
    x = torch.tensor([2.0, 1.0])
    t = torch.tensor([1.0, 0.0])
    got = run(sigmoid_fl, x, t)["loss"]
    p_pos, p_neg = sig(2.0), 1 - sig(1.0)            # p_t of each
    want = [-0.25 * (1 - p_pos) ** 2 * math.log(p_pos), -0.75 * (1 - p_neg) ** 2 * math.log(p_neg)]
    expect_close(got, torch.tensor(want), "defaults alpha = 0.25 (positives; negatives get 0.75), gamma = 2, "
                 "reduction 'none': one loss per element", what="sigmoid_focal_loss")


@check("sigmoid form with gamma = 0 and alpha = -1 is plain binary cross-entropy")
def sigmoid_is_bce(run):
    x = torch.tensor([[0.5, -2.0, 3.0]])
    t = torch.tensor([[1.0, 1.0, 0.0]])
    got = run(sigmoid_fl, x, t, {"alpha": -1.0, "gamma": 0.0, "reduction": "mean"})["loss"]
    want = (-math.log(sig(0.5)) - math.log(sig(-2.0)) - math.log(1 - sig(3.0))) / 3
    expect_close(got, want, "no focusing (gamma = 0), no weighting (alpha < 0), reduction 'mean': the mean binary "
                 "cross-entropy over all elements", what="sigmoid_focal_loss")


@check("softmax form: mean over examples of -(1 - p_y)^gamma log p_y")
def softmax_small(run):
    x = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    y = torch.tensor([0, 2])
    got = run(softmax_fl, x, y)["loss"]
    p0 = math.exp(2) / (math.exp(2) + 2)
    want = (-(1 - p0) ** 2 * math.log(p0) - (2 / 3) ** 2 * math.log(1 / 3)) / 2
    expect_close(got, want, "p_y = softmax(logits)[y]; loss = -(1 - p_y)^gamma log p_y with gamma = 2, averaged "
                 "over the examples", what="softmax_focal_loss")
