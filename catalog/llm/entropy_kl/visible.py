"""Visible checks: entropy, KL divergence and the k1/k2/k3 estimators on small hand-computed cases."""
import math

import torch

from mlkata.checks import Fail, check, expect_close, expect_tensor, probe

INF = float("inf")


def expect_close_inf(got, want, rule, what, **tol):
    """expect_close where expected infinities must come back as the same infinities (a relative
    tolerance times inf would admit any finite value)."""
    got = expect_tensor(got, rule, shape=want.shape)
    wrong = (torch.isinf(want) | torch.isinf(got)) & (got != want)
    if wrong.any():
        idx = tuple(int(i) for i in torch.nonzero(wrong)[0])
        raise Fail(rule, f"{what}: at index {list(idx)} expected {want[idx].item()}, "
                         f"your code produced {got[idx].item()}")
    finite = torch.isfinite(want)
    expect_close(torch.where(finite, got, 0.0), torch.where(finite, want, 0.0), rule, what=what, **tol)


@probe
def ent(sub, logits, grad=False):
    """Call entropy; with ``grad``, backpropagate the sum and report the gradient of the logits."""
    if grad:
        logits = logits.detach().clone().requires_grad_(True)
    before = logits.detach().clone()
    h = sub.entropy(logits)
    out = {"h": h, "unchanged": bool(torch.equal(logits.detach(), before)), "differentiable": None, "grad": None}
    if grad:
        out["differentiable"] = isinstance(h, torch.Tensor) and h.requires_grad
        if out["differentiable"]:
            h.sum().backward()
            out["grad"] = logits.grad
    return out


@probe
def kl(sub, p_logits, q_logits, grad=False):
    """Call kl_divergence; with ``grad``, backpropagate the sum and report both gradients."""
    if grad:
        p_logits = p_logits.detach().clone().requires_grad_(True)
        q_logits = q_logits.detach().clone().requires_grad_(True)
    before = (p_logits.detach().clone(), q_logits.detach().clone())
    d = sub.kl_divergence(p_logits, q_logits)
    out = {"kl": d, "unchanged": bool(torch.equal(p_logits.detach(), before[0]) and
                                        torch.equal(q_logits.detach(), before[1])),
           "differentiable": None, "p_grad": None, "q_grad": None}
    if grad:
        out["differentiable"] = isinstance(d, torch.Tensor) and d.requires_grad
        if out["differentiable"]:
            d.sum().backward()
            out["p_grad"], out["q_grad"] = p_logits.grad, q_logits.grad
    return out


@probe
def estimate(sub, logp, logq, kind=None):
    """Call kl_estimator(logp, logq, kind) (without ``kind``, its default, when None)."""
    before = (logp.clone(), logq.clone())
    k = sub.kl_estimator(logp, logq) if kind is None else sub.kl_estimator(logp, logq, kind)
    return {"k": k, "unchanged": bool(torch.equal(logp, before[0]) and torch.equal(logq, before[1]))}


@check("entropy: log 4 for a uniform distribution over 4 tokens, 0 when all mass is on one token (-inf elsewhere)")
def entropy_small(run):
    logits = torch.tensor([[1.0, 1.0, 1.0, 1.0], [3.0, -INF, -INF, -INF]])
    got = run(ent, logits)
    expect_close(got["h"], torch.tensor([math.log(4), 0.0]), "H = -sum p log p over the last dimension, "
                 "with 0 log 0 = 0 for the -inf logits", what="entropy")


@check("KL(p || q) = sum p (log p - log q): 0 for identical distributions, hand-computed for two coins")
def kl_small(run):
    # p = (1/2, 1/2), q = (1/4, 3/4): KL = 1/2 log 2 + 1/2 log(2/3)
    p = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    q = torch.tensor([[0.0, 0.0], [0.0, math.log(3.0)]])
    got = run(kl, p, q)
    expect_close(got["kl"], torch.tensor([0.0, 0.5 * math.log(2) + 0.5 * math.log(2 / 3)]),
                 "KL(p || q) = sum_i p_i (log p_i - log q_i), p = softmax(p_logits), q = softmax(q_logits)",
                 what="KL")


@check("KL is inf where q gives 0 probability to a token p can produce; a token p never produces counts 0")
def kl_zero_probabilities(run):
    p = torch.tensor([[0.0, 0.0, -INF], [0.0, -INF, -INF]])
    q = torch.tensor([[0.0, -INF, 0.0], [0.0, 0.0, -INF]])
    # row 0: p puts 1/2 on token 1, q puts 0 there -> inf
    # row 1: p is one-hot on token 0, q = (1/2, 1/2, 0) -> 1 * (0 - log 1/2) = log 2 (token 2: 0 log(0/0) = 0)
    got = run(kl, p, q)
    expect_close_inf(got["kl"], torch.tensor([INF, math.log(2)]), "KL(p || q) = inf when q_i = 0 < p_i; tokens "
                     "with p_i = 0 contribute 0 even where q_i = 0 too", what="KL")


@check("the estimators at r = q / p = 1/2: k1 = log 2, k2 = (log 2)^2 / 2, k3 = (1/2 - 1) + log 2")
def estimators_small(run):
    logp, logq = torch.tensor([0.0]), torch.tensor([math.log(0.5)])
    for kind, want in (("k1", math.log(2)), ("k2", 0.5 * math.log(2) ** 2), ("k3", -0.5 + math.log(2))):
        got = run(estimate, logp, logq, kind)
        expect_close(got["k"], torch.tensor([want]), f"with log r = logq - logp: k1 = -log r, k2 = (log r)^2 / 2, "
                     f"k3 = (r - 1) - log r", what=f"{kind} (logp = 0, logq = log 1/2)")
