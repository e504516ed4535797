"""Visible checks: the DPO loss and implicit rewards on small fixed cases."""
import math

import torch

from mlkata.checks import Fail, check, expect_close, expect_tensor, probe


@probe
def dpo(sub, policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta=None, grad=False):
    """Call ``dpo_loss`` (without ``beta`` when it is None).  With ``grad``, every input requires
    grad; backpropagate from ``losses.sum()`` and report each input's gradient and whether the
    returned rewards still require grad."""
    inputs = [policy_chosen, policy_rejected, ref_chosen, ref_rejected]
    if grad:
        inputs = [t.clone().requires_grad_(True) for t in inputs]
    out = sub.dpo_loss(*inputs) if beta is None else sub.dpo_loss(*inputs, beta=beta)
    report = {"returned": out}
    if isinstance(out, (tuple, list)) and len(out) == 3:
        losses = out[0]
        report["rewards_require_grad"] = [getattr(r, "requires_grad", None) for r in out[1:]]
        if grad:
            differentiable = isinstance(losses, torch.Tensor) and losses.requires_grad
            if differentiable:
                losses.sum().backward()
            report["differentiable"] = differentiable
            report["grads"] = [t.grad for t in inputs]
    return report


def unpack(got, batch):
    """(losses, chosen_rewards, rejected_rewards) from a probe report, each a (batch,) tensor."""
    out = got["returned"]
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        kind = f"a {type(out).__name__}" if not isinstance(out, (tuple, list)) else f"{len(out)} values"
        raise Fail("dpo_loss returns a tuple of three tensors: (losses, chosen_rewards, rejected_rewards)",
                   f"your code returned {kind}")
    names = ("losses", "chosen_rewards", "rejected_rewards")
    for name, value in zip(names, out):
        expect_tensor(value, f"{name} is a tensor with one entry per pair, shape [{batch}] "
                             f"(TRL averages the per-pair losses later; do not reduce them here)", shape=(batch,))
    return out


@check("policy equal to the reference: every pair loses log 2 and both rewards are 0")
def policy_is_reference(run):
    logps = [torch.tensor([-12.0, -30.5, -7.0]), torch.tensor([-15.0, -22.0, -9.5])]
    got = run(dpo, logps[0], logps[1], logps[0].clone(), logps[1].clone())
    losses, chosen_r, rejected_r = unpack(got, 3)
    expect_close(losses, torch.full((3,), math.log(2)),
                 "when the policy equals the reference both log-ratios are 0, so whatever beta is, each loss is "
                 "-log sigmoid(beta * 0) = log 2", what="losses")
    expect_close(chosen_r, torch.zeros(3), "chosen_rewards = beta * (policy_chosen_logps - ref_chosen_logps)",
                 what="chosen_rewards")
    expect_close(rejected_r, torch.zeros(3), "rejected_rewards = beta * (policy_rejected_logps - ref_rejected_logps)",
                 what="rejected_rewards")


@check("one loss per pair: -log sigmoid(beta * (chosen log-ratio - rejected log-ratio))")
def small_example(run):
    # pair 0: chosen log-ratio +2, rejected log-ratio -3  -> beta * 5
    # pair 1: chosen log-ratio -1, rejected log-ratio +1  -> beta * -2
    pc, pr = torch.tensor([-10.0, -21.0]), torch.tensor([-13.0, -19.0])
    rc, rr = torch.tensor([-12.0, -20.0]), torch.tensor([-10.0, -20.0])
    got = run(dpo, pc, pr, rc, rr, 1.0)
    losses, _, _ = unpack(got, 2)
    expect_close(losses, torch.tensor([math.log1p(math.exp(-5.0)), math.log1p(math.exp(2.0))]),
                 "losses[i] = -log sigmoid(beta * ((pc - rc) - (pr - rr))), one per pair (beta = 1 here)",
                 what="losses")


@check("the implicit rewards are beta * (policy - reference) log-probs, for chosen and rejected")
def rewards_small(run):
    pc, pr = torch.tensor([-10.0, -21.0]), torch.tensor([-13.0, -19.0])
    rc, rr = torch.tensor([-12.0, -20.0]), torch.tensor([-10.0, -20.0])
    got = run(dpo, pc, pr, rc, rr, 0.5)
    _, chosen_r, rejected_r = unpack(got, 2)
    expect_close(chosen_r, torch.tensor([1.0, -0.5]),
                 "chosen_rewards = beta * (policy_chosen_logps - ref_chosen_logps)", what="chosen_rewards (beta = 0.5)")
    expect_close(rejected_r, torch.tensor([-1.5, 0.5]),
                 "rejected_rewards = beta * (policy_rejected_logps - ref_rejected_logps)",
                 what="rejected_rewards (beta = 0.5)")


@check("the default beta is 0.1")
def default_beta(run):
    pc, pr = torch.tensor([-5.0]), torch.tensor([-15.0])
    rc, rr = torch.tensor([-10.0]), torch.tensor([-10.0])
    got = run(dpo, pc, pr, rc, rr)
    losses, chosen_r, _ = unpack(got, 1)
    expect_close(losses, torch.tensor([math.log1p(math.exp(-1.0))]),
                 "beta defaults to 0.1: a log-ratio difference of 10 gives -log sigmoid(1)", what="losses")
    expect_close(chosen_r, torch.tensor([0.5]), "beta defaults to 0.1 in the rewards too", what="chosen_rewards")
