"""Visible checks: log-probabilities of taken actions, entropy, and the loss with and without a
baseline on tiny batches."""
import math

import torch

from mlkata.checks import check, expect_close, probe


@probe
def logp(sub, logits, actions):
    return {"out": sub.log_probs_from_logits(logits, actions)}


@probe
def entropy(sub, logits):
    return {"out": sub.policy_entropy(logits)}


@probe
def loss_and_grads(sub, logits, actions, returns, baseline=None, normalize=None, entropy_coef=None, eps=None,
                   track=False):
    """Compute the loss and backpropagate it.  ``track``: returns and a tensor baseline require grad,
    so that the check can see whether any gradient reached them."""
    logits = logits.clone().requires_grad_(True)
    if track:
        returns = returns.clone().requires_grad_(True)
        if isinstance(baseline, torch.Tensor):
            baseline = baseline.clone().requires_grad_(True)
    options = {k: v for k, v in dict(normalize_advantages=normalize, entropy_coef=entropy_coef, eps=eps).items()
               if v is not None}                                  # None: left at its default
    loss = sub.reinforce_loss(logits, actions, returns, baseline, **options)
    if isinstance(loss, torch.Tensor) and loss.requires_grad:
        loss.backward()
    return {"loss": loss, "grad": logits.grad,
            "returns_grad": returns.grad if track else None,
            "baseline_grad": baseline.grad if track and isinstance(baseline, torch.Tensor) else None}


@check("log_probs_from_logits gives log softmax(logits)[action]")
def log_probs_basic(run):
    logits = torch.tensor([[0.0, math.log(3.0)], [2.0, 2.0]])          # probabilities [1/4, 3/4] and [1/2, 1/2]
    got = run(logp, logits, torch.tensor([1, 0]))
    expect_close(got["out"], torch.tensor([math.log(0.75), math.log(0.5)]),
                 "log pi(a|s) = logits[a] - logsumexp(logits)", what="log-probabilities")


@check("policy_entropy of a uniform distribution over 4 actions is log 4")
def entropy_uniform(run):
    got = run(entropy, torch.zeros(2, 4))
    expect_close(got["out"], torch.full((2,), math.log(4.0)), "H = -sum_a p(a) log p(a)", what="entropy")


@check("without a baseline the loss is -mean(log pi(a|s) * G)")
def loss_no_baseline(run):
    logits = torch.tensor([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])
    got = run(loss_and_grads, logits, torch.tensor([1, 0]), torch.tensor([2.0, 1.0]))
    want = -(math.log(0.75) * 2.0 + math.log(0.25) * 1.0) / 2
    expect_close(got["loss"], want, "loss = -mean(log pi(a_t|s_t) * G_t)", what="loss")


@check("a baseline is subtracted from the returns: -mean(log pi(a|s) * (G - b))")
def loss_with_baseline(run):
    logits = torch.tensor([[0.0, math.log(3.0)], [0.0, math.log(3.0)]])
    got = run(loss_and_grads, logits, torch.tensor([1, 0]), torch.tensor([2.0, 1.0]), torch.tensor([1.5, 1.5]))
    want = -(math.log(0.75) * 0.5 + math.log(0.25) * -0.5) / 2
    expect_close(got["loss"], want, "loss = -mean(log pi(a_t|s_t) * (G_t - b_t))", what="loss")
