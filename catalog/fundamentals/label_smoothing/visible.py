"""Visible checks: the smoothed targets, and the smoothed loss on tiny cases."""
import math

import torch

from mlkata.checks import check, expect_close, probe


@probe
def targets(sub, target, num_classes, smoothing):
    return sub.smoothed_targets(target, num_classes, smoothing)


@probe
def loss(sub, logits, target, options=None, grad=False):
    x = logits.detach().clone().requires_grad_(True) if grad else logits
    out = sub.label_smoothing_cross_entropy(x, target, **(options or {}))
    g = None
    if grad and isinstance(out, torch.Tensor) and out.requires_grad:
        out.sum().backward()
        g = x.grad
    return {"loss": out, "grad": g}


def log_softmax(row):
    m = max(row)
    lse = m + math.log(sum(math.exp(v - m) for v in row))
    return [v - lse for v in row]


@check("smoothed_targets: 1 - eps + eps / C on the target, eps / C elsewhere")
def targets_small(run):
    got = run(targets, torch.tensor([2, 0]), 4, 0.2)
    expect_close(got, torch.tensor([[0.05, 0.05, 0.85, 0.05], [0.85, 0.05, 0.05, 0.05]]),
                 "q = (1 - eps) * one_hot(y) + eps / C: here eps = 0.2, C = 4", what="smoothed_targets")


@check("one example: (1 - eps) * (-log p_y) + (eps / C) * sum_c (-log p_c)")
def one_example(run):
    row = [2.0, 0.0, -1.0]
    lp = log_softmax(row)
    want = 0.9 * -lp[0] + (0.1 / 3) * -sum(lp)
    got = run(loss, torch.tensor([row]), torch.tensor([0]))["loss"]
    expect_close(got, want, "the default smoothing is 0.1: loss = 0.9 * (-log p_y) + 0.1/3 * sum of -log p_c",
                 what="loss")


@check("reduction='none' gives one loss per example, 0 for an ignored one")
def per_example(run):
    rows = [[2.0, 0.0, -1.0], [0.0, 1.0, 0.0], [5.0, 5.0, 5.0]]
    got = run(loss, torch.tensor(rows), torch.tensor([1, -100, 2]), {"smoothing": 0.3, "reduction": "none"})["loss"]
    want = []
    for row, y in zip(rows, [1, None, 2]):
        lp = log_softmax(row)
        want.append(0.0 if y is None else 0.7 * -lp[y] + 0.1 * -sum(lp))
    expect_close(got, torch.tensor(want), "per example (1 - eps) * (-log p_y) + (eps / C) * sum_c (-log p_c); "
                 "ignore_index (-100) examples get 0", what="losses (eps = 0.3)")
