"""Entropy and KL divergence of categorical distributions, and the KL estimators of RLHF.

A language model outputs logits over a vocabulary; two quantities about those distributions
appear all over LLM training:

* the **entropy** ``H(p) = -sum_i p_i log p_i`` (a policy's exploration bonus in PPO, a
  diagnostic of collapse), and
* the **KL divergence** ``KL(p || q) = sum_i p_i (log p_i - log q_i)``, which RLHF uses to keep
  the policy near the reference model.  It is asymmetric: ``KL(p || q)`` (p the target:
  "forward", mass-covering) and ``KL(q || p)`` ("reverse", mode-seeking) differ.

Both must be computed from logits with ``log_softmax`` (never ``log(softmax(.))``, which turns
tiny probabilities into ``log 0``), and must respect the conventions for zero probabilities --
logits of ``-inf`` are how masked or banned tokens are written:

* ``0 * log 0 = 0``: a token with ``p_i = 0`` adds nothing to the entropy or to ``KL(p || q)``,
  whatever q says about it -- and it must not inject NaN into the value *or the gradient*;
* ``KL(p || q) = inf`` when some token has ``p_i > 0`` but ``q_i = 0``.

In RLHF the exact KL over the vocabulary is often not computed; instead each *sampled* token
x ~ p gives a one-sample estimate from ``log p(x)`` and ``log q(x)`` alone (Schulman, 2020,
"Approximating KL Divergence"), with ``r = q(x) / p(x)``:

    k1 = -log r = log p(x) - log q(x)          unbiased, high variance, can be negative
    k2 = (log r)^2 / 2                         biased, low variance
    k3 = (r - 1) - log r                       unbiased, low variance, always >= 0

TRL's ``PPOTrainer`` offers k1 and k3 (``kl_estimator``).  The oracles here are
``torch.distributions.Categorical(logits=...).entropy()`` and ``torch.distributions.kl_divergence``.
"""
import torch
import torch.nn.functional as F


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy (in nats) of the categorical distributions ``softmax(logits)`` over the last dim.

    Args:
        logits: ``(..., V)`` float; entries may be ``-inf`` (probability 0), but every row has at
            least one finite entry.  Finite entries may be huge (|logit| up to 1e30).

    Returns:
        ``(...)`` in the logits' dtype: ``-sum_i p_i log p_i`` with ``0 log 0 = 0``.  Finite, and
        differentiable with finite gradients (0 at the ``-inf`` entries).  ``logits`` is not modified.
    """
    ### BEGIN SOLUTION
    logp = F.log_softmax(logits, dim=-1)                       # (..., V), -inf where p = 0
    p = logp.exp()
    logp = torch.where(p > 0, logp, torch.zeros_like(logp))    # 0 log 0 = 0, before multiplying
    return -(p * logp).sum(dim=-1)
    ### END SOLUTION


def kl_divergence(p_logits: torch.Tensor, q_logits: torch.Tensor) -> torch.Tensor:
    """``KL(p || q)`` per row, for ``p = softmax(p_logits)`` and ``q = softmax(q_logits)``.

    The reverse divergence ``KL(q || p)`` is ``kl_divergence(q_logits, p_logits)``.

    Args:
        p_logits: ``(..., V)`` float, entries may be ``-inf``; at least one finite entry per row.
        q_logits: same shape and dtype, same rules.

    Returns:
        ``(...)`` in the logits' dtype: ``sum_i p_i (log p_i - log q_i)`` where tokens with
        ``p_i = 0`` contribute 0 (even when ``q_i = 0`` too), and ``inf`` for rows where some
        ``p_i > 0`` has ``q_i = 0``.  ``p_i = 0`` means the softmax probability is exactly 0 in the
        logits' dtype: a ``-inf`` logit, or a finite one so far below the row's maximum that
        ``exp`` underflows (``-200`` next to ``0`` in float32) -- such a token contributes 0 too.
        ``q_i = 0`` means a ``-inf`` q-logit: a finite q-logit has a finite ``log q_i`` (from
        ``log_softmax``) even where ``exp`` underflows, so a tiny ``p_i > 0`` there adds a tiny
        finite term, not ``inf``.  Where the result is finite it is differentiable with respect
        to both inputs with finite gradients.  The inputs are not modified.
    """
    ### BEGIN SOLUTION
    logp = F.log_softmax(p_logits, dim=-1)                     # (..., V)
    logq = F.log_softmax(q_logits, dim=-1)                     # (..., V)
    p = logp.exp()
    support = p > 0
    log_ratio = torch.where(support, logp - logq, torch.zeros_like(logp))   # +inf where q = 0 < p
    return (p * log_ratio).sum(dim=-1)
    ### END SOLUTION


def kl_estimator(logp: torch.Tensor, logq: torch.Tensor, kind: str = "k3") -> torch.Tensor:
    """Per-sample estimates of ``KL(p || q)`` from the log-probabilities of tokens drawn from p.

    Args:
        logp: log p(x) of sampled tokens under the sampling distribution p (the policy), any shape.
        logq: log q(x) of the same tokens under q (the reference model), same shape.
        kind: ``"k1"``, ``"k2"`` or ``"k3"``.

    With ``log r = logq - logp``:  k1 = ``-log r``;  k2 = ``(log r)^2 / 2``;
    k3 = ``(r - 1) - log r`` -- computed with ``torch.expm1`` so that it stays accurate (and
    ``>= 0``) when the log-ratio is tiny, as it is while the policy is close to the reference.

    Returns:
        The estimate for every sample, same shape and dtype as ``logp``; the mean of k1 or k3 over
        samples x ~ p converges to ``KL(p || q)``.  The inputs are not modified.
    """
    ### BEGIN SOLUTION
    log_r = logq - logp
    if kind == "k1":
        return -log_r
    if kind == "k2":
        return 0.5 * log_r ** 2
    if kind == "k3":
        return torch.expm1(log_r) - log_r          # (r - 1) - log r without cancellation near r = 1
    raise ValueError(f"unknown KL estimator {kind!r}: expected 'k1', 'k2' or 'k3'")
    ### END SOLUTION
