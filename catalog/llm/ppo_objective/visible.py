"""Visible checks: the clipped loss, the KL-penalised rewards and GAE on small hand-computed cases."""
import torch

from mlkata.checks import Fail, check, expect_close, probe


@probe
def clip_loss(sub, logprobs, old_logprobs, advantages, clip_eps=None, mask=None, pass_mask=True, grad=False):
    """Call ppo_clip_loss (clip_eps/mask left at their defaults when not given); report the loss,
    the gradient with respect to ``logprobs`` when ``grad``, and the inputs after the call."""
    if grad:
        logprobs = logprobs.detach().clone().requires_grad_(True)
    kwargs = {}
    if clip_eps is not None:
        kwargs["clip_eps"] = clip_eps
    if pass_mask:
        kwargs["mask"] = mask
    loss = sub.ppo_clip_loss(logprobs, old_logprobs, advantages, **kwargs)
    out = {"loss": loss, "grad": None, "differentiable": None}
    if grad:
        out["differentiable"] = isinstance(loss, torch.Tensor) and loss.requires_grad
        if out["differentiable"]:
            loss.backward()
            out["grad"] = logprobs.grad
    out["inputs_after"] = [logprobs.detach(), old_logprobs, advantages, mask]
    return out


@probe
def kl_rewards(sub, rewards, logprobs, ref_logprobs, beta, mask):
    out = sub.kl_penalized_rewards(rewards, logprobs, ref_logprobs, beta, mask)
    return {"out": out, "inputs_after": [rewards, logprobs, ref_logprobs, mask]}


@probe
def gae(sub, rewards, values, gamma, lam, mask):
    out = sub.gae_advantages(rewards, values, gamma, lam, mask)
    return {"out": out, "inputs_after": [rewards, values, mask]}


def gae_pair(got, rule, what="gae_advantages"):
    """The (advantages, returns) pair a gae probe reported, or a Fail that says what came back."""
    out = got["out"]
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        kind = f"{type(out).__name__}" + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
        raise Fail(rule, f"{what} must return a tuple (advantages, returns); your code returned a {kind}")
    return out


@check("PPO keeps the smaller of the clipped and unclipped objectives (4 hand-computed tokens)")
def clip_loss_small_case(run):
    # ratios 1.0, 1.5, 0.5, 1.5 with eps = 0.2 -> clipped ratios 1.0, 1.2, 0.8, 1.2
    # A = [1, 1, -1, -2]:  min(1, 1) + min(1.5, 1.2) + min(-0.5, -0.8) + min(-3.0, -2.4) = -1.6
    logprobs = torch.log(torch.tensor([1.0, 1.5, 0.5, 1.5]))
    got = run(clip_loss, logprobs, torch.zeros(4), torch.tensor([1.0, 1.0, -1.0, -2.0]), 0.2)
    expect_close(got["loss"], 0.4, "loss = -mean(min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A)), "
                 "ratio = exp(logprobs - old_logprobs)", what="loss")


@check("the loss averages over the positions where mask is True only")
def clip_loss_masked_mean(run):
    # ratio 1 everywhere, so each term is A; the masked-out A = 100 must not count
    mask = torch.tensor([[True, True, False], [True, False, False]])
    adv = torch.tensor([[1.0, 2.0, 100.0], [3.0, 100.0, 100.0]])
    got = run(clip_loss, torch.zeros(2, 3), torch.zeros(2, 3), adv, 0.2, mask)
    expect_close(got["loss"], -2.0, "average over the True positions only: -(1 + 2 + 3) / 3", what="loss")


@check("KL-penalised rewards: -beta * (logprobs - ref_logprobs), score on the last valid token, 0 after it")
def kl_rewards_small_case(run):
    logprobs = torch.tensor([[-1.0, -2.0, -0.5], [-0.5, -1.0, -3.0]])
    ref = torch.tensor([[-1.5, -1.0, -0.5], [-1.0, -1.0, -9.0]])
    mask = torch.tensor([[True, True, True], [True, True, False]])
    got = run(kl_rewards, torch.tensor([2.0, -1.0]), logprobs, ref, 0.1, mask)
    want = torch.tensor([[-0.05, 0.1, 0.0 + 2.0],
                         [-0.05, 0.0 - 1.0, 0.0]])
    expect_close(got["out"], want, "per-token reward -beta * (logprobs - ref_logprobs) on valid tokens, plus the "
                 "sequence's score on its last valid token, 0 on padding", what="rewards")


@check("GAE on one sequence of 3 tokens (gamma = 0.5, lam = 0.5), value after the end = 0")
def gae_small_case(run):
    rewards = torch.tensor([[1.0, 0.0, 2.0]])
    values = torch.tensor([[0.5, 1.0, 1.0]])
    # delta = r_t + 0.5 V_{t+1} - V_t = [1 + 0.5 - 0.5, 0 + 0.5 - 1, 2 + 0 - 1] = [1, -0.5, 1]
    # A_2 = 1;  A_1 = -0.5 + 0.25 * 1 = -0.25;  A_0 = 1 + 0.25 * -0.25 = 0.9375
    got = run(gae, rewards, values, 0.5, 0.5, torch.ones(1, 3, dtype=torch.bool))
    adv, ret = gae_pair(got, "gae_advantages returns (advantages, returns)")
    expect_close(adv, torch.tensor([[0.9375, -0.25, 1.0]]), "delta_t = r_t + gamma V_{t+1} - V_t, "
                 "A_t = delta_t + gamma lam A_{t+1}, computed backward; V after the last token is 0",
                 what="advantages")
    expect_close(ret, torch.tensor([[1.4375, 0.75, 2.0]]), "returns = advantages + values", what="returns")


@check("GAE stops at each sequence's last valid token: padding gives 0 advantages and returns")
def gae_padding(run):
    rewards = torch.tensor([[1.0, 1.0, 7.0], [2.0, 5.0, 5.0]])
    values = torch.tensor([[0.0, 0.0, 9.0], [1.0, 9.0, 9.0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    got = run(gae, rewards, values, 1.0, 1.0, mask)
    adv, ret = gae_pair(got, "gae_advantages returns (advantages, returns)")
    # row 0: returns = reward-to-go [2, 1]; row 1: one token, return 2, advantage 2 - 1
    expect_close(ret, torch.tensor([[2.0, 1.0, 0.0], [2.0, 0.0, 0.0]]), "with gamma = lam = 1 the returns are the "
                 "rewards-to-go of the valid tokens; padded positions are 0 and are never read", what="returns")
    expect_close(adv, torch.tensor([[2.0, 1.0, 0.0], [1.0, 0.0, 0.0]]), "advantages = returns - values at valid "
                 "positions, 0 on padding", what="advantages")
