"""Visible checks: returns of one episode, a reset at a done flag, bootstrapping, normalisation."""
import torch

from mlkata.checks import check, expect_close, probe


@probe
def returns(sub, rewards, dones, gamma, bootstrap_value=None):
    """Call discounted_returns; report the result and the inputs as they are afterwards."""
    out = sub.discounted_returns(rewards, dones, gamma, bootstrap_value)
    return {"out": out, "rewards_after": rewards, "dones_after": dones}


@probe
def normalize(sub, x, eps=None):
    """``normalize_returns``; ``eps=None`` leaves it out (its default: 1e-8)."""
    out = sub.normalize_returns(x) if eps is None else sub.normalize_returns(x, eps)
    return {"out": out, "x_after": x}


@check("one episode: G_t = r_t + gamma * G_{t+1}, summed backwards from the end")
def one_episode(run):
    got = run(returns, torch.tensor([1.0, 1.0, 1.0]), torch.tensor([False, False, True]), 0.5)
    expect_close(got["out"], torch.tensor([1.75, 1.5, 1.0]), "G_t = r_t + gamma * G_{t+1}", what="returns")


@check("a done flag ends the episode: the next episode's rewards do not leak back")
def resets_at_done(run):
    got = run(returns, torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([False, True, False, True]), 0.9)
    # episode 1: steps 0-1, episode 2: steps 2-3
    expect_close(got["out"], torch.tensor([1.0 + 0.9 * 2.0, 2.0, 3.0 + 0.9 * 4.0, 4.0]),
                 "when done_t is true, G_t = r_t: nothing after step t is added", what="returns")


@check("an unfinished last episode is bootstrapped with bootstrap_value")
def bootstraps(run):
    got = run(returns, torch.tensor([1.0, 1.0]), torch.tensor([False, False]), 0.5, 4.0)
    expect_close(got["out"], torch.tensor([2.5, 3.0]),
                 "G after the last step is bootstrap_value when the last step is not done", what="returns")


@check("normalize_returns gives mean 0 and (unbiased) standard deviation 1")
def normalizes(run):
    got = run(normalize, torch.tensor([1.0, 2.0, 3.0]))
    # mean 2, unbiased std 1
    expect_close(got["out"], torch.tensor([-1.0, 0.0, 1.0]),
                 "(returns - mean) / (std + eps) with std = torch.std (divide by N - 1)", what="normalised returns")
