"""Visible checks: the Bradley-Terry probability and the reward loss on small fixed cases."""
import math

import torch

from mlkata.checks import check, expect_close, expect_tensor, probe


@probe
def bt_loss(sub, chosen, rejected, margin=None, grad=False):
    """Call ``bradley_terry_loss`` (without ``margin`` when it is None); with ``grad``, backpropagate
    from the loss and report the gradients of every floating input (``None`` where none arrived)."""
    if grad:
        chosen = chosen.clone().requires_grad_(True)
        rejected = rejected.clone().requires_grad_(True)
        if isinstance(margin, torch.Tensor):
            margin = margin.clone().requires_grad_(True)
    loss = sub.bradley_terry_loss(chosen, rejected) if margin is None else \
        sub.bradley_terry_loss(chosen, rejected, margin=margin)
    out = {"loss": loss}
    if grad:
        differentiable = isinstance(loss, torch.Tensor) and loss.requires_grad and loss.numel() == 1
        if differentiable:
            loss.sum().backward()
        out["differentiable"] = differentiable
        out["grads"] = {"chosen": chosen.grad, "rejected": rejected.grad,
                        "margin": margin.grad if isinstance(margin, torch.Tensor) else None}
    return out


@check("equal rewards: each response is preferred with probability 0.5")
def equal_rewards_half(run):
    r = torch.tensor([0.0, 3.0, -7.5])
    got = run("preference_probability", r, r.clone())
    expect_close(got, torch.full((3,), 0.5), "P(a > b) = sigmoid(r_a - r_b), which is 0.5 when r_a == r_b",
                 what="preference probability")
    r_b = torch.tensor([-2.0, 3.0, -6.0])
    got = run("preference_probability", r, r_b)
    expect_close(got, torch.sigmoid(r - r_b), "P(a > b) = sigmoid(r_a - r_b)",
                 what="preference probability of [0, 3, -7.5] over [-2, 3, -6]")


@check("preference_probability is sigmoid(reward_a - reward_b), elementwise")
def probability_small(run):
    a, b = torch.tensor([2.0, 0.0, -1.0]), torch.tensor([0.0, 2.0, 1.0])
    got = run("preference_probability", a, b)
    want = torch.tensor([1 / (1 + math.exp(-2.0)), 1 / (1 + math.exp(2.0)), 1 / (1 + math.exp(2.0))])
    expect_close(got, want, "P(a > b) = sigmoid(r_a - r_b), computed for each pair", what="preference probability")


@check("equal rewards give a loss of log 2; a chosen reward ahead by 2 gives -log sigmoid(2)")
def loss_small(run):
    got = run(bt_loss, torch.zeros(4), torch.zeros(4))
    loss = expect_tensor(got["loss"], "the loss is a 0-dim tensor (the mean over pairs)", shape=())
    expect_close(loss, math.log(2), "-log sigmoid(0) = log 2 for every pair, and the mean of equal numbers",
                 what="loss with equal rewards")
    got = run(bt_loss, torch.tensor([2.0, 1.0]), torch.tensor([0.0, -1.0]))
    expect_close(got["loss"], math.log1p(math.exp(-2.0)),
                 "loss = mean over pairs of -log sigmoid(chosen - rejected)", what="loss with a gap of 2")


@check("a margin is subtracted from the reward gap: a gap equal to the margin gives log 2")
def margin_small(run):
    got = run(bt_loss, torch.tensor([1.5, 0.5]), torch.tensor([0.5, -0.5]), 1.0)
    expect_close(got["loss"], math.log(2), "loss = mean of -log sigmoid(chosen - rejected - margin)",
                 what="loss with margin 1.0 and gaps of 1.0")
