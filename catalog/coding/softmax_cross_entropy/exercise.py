"""Softmax, log-softmax and cross-entropy from scratch, the numerically stable way.

Softmax turns a vector of scores (logits) into probabilities, ``softmax(x)_i = exp(x_i) /
sum_j exp(x_j)``.  Written literally it breaks on real logits: ``exp(89.)`` already overflows
float32 to ``inf`` and ``inf / inf`` is ``nan``.  The fix is the *log-sum-exp trick*: softmax
does not change when the same constant is subtracted from every entry, so subtract the row
maximum ``m`` first -- every exponent is then ``<= 0`` and the largest term is exactly 1:

    log_softmax(x)_i = (x_i - m) - log(sum_j exp(x_j - m)).

Never compute ``log(softmax(x))``: a probability that underflows to 0 becomes ``-inf``, whereas
the formula above stays finite (it is ``-2e4`` for a logit ``2e4`` below the maximum).

Cross-entropy with integer targets is the mean negative log-probability of the true class,
``-log_softmax(logits[n])[target[n]]``, with PyTorch's two options: targets equal to
``ignore_index`` do not count, and class weights make a weighted mean
``sum_n w[t_n] * loss_n / sum_n w[t_n]`` over the counted rows.

Implement all three with the semantics of ``torch.nn.functional.softmax``, ``log_softmax`` and
``cross_entropy`` (``reduction="mean"``) -- without calling them, ``torch.logsumexp`` or the
tensor methods of the same names.  Use differentiable torch operations: autograd must give
the same gradients as PyTorch's.
"""
from typing import Optional

import torch


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Probabilities along ``dim``: ``exp(x) / exp(x).sum(dim)``, computed stably.

    Args:
        x: float tensor of any shape (float32 or float64); entries may be ``-inf`` (probability 0).
        dim: the dimension that sums to 1 (negative values count from the end).

    Returns:
        a tensor of the shape and dtype of ``x``; finite for any finite ``x`` (logits of +-1e4
        included).  A slice that is ``-inf`` everywhere gives ``nan``, as in PyTorch.
        ``x`` is not modified.
    """
    ### BEGIN SOLUTION
    m = x.amax(dim=dim, keepdim=True).detach()          # (..., 1, ...) the shift; constant for autograd
    e = (x - m).exp()                                   # every exponent <= 0: no overflow
    return e / e.sum(dim=dim, keepdim=True)
    ### END SOLUTION


def log_softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Log-probabilities along ``dim``: ``x - log(exp(x).sum(dim))``, by the log-sum-exp trick.

    Same arguments as :func:`softmax`.  Returns a tensor of the shape and dtype of ``x``; finite
    wherever ``x`` is finite, even when the probability underflows (a logit 2e4 below the row
    maximum gives about -2e4, never ``-inf``); ``-inf`` where ``x`` is ``-inf``.
    ``x`` is not modified.
    """
    ### BEGIN SOLUTION
    m = x.amax(dim=dim, keepdim=True).detach()          # (..., 1, ...)
    z = x - m
    return z - z.exp().sum(dim=dim, keepdim=True).log()
    ### END SOLUTION


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, weight: Optional[torch.Tensor] = None,
                  ignore_index: int = -100) -> torch.Tensor:
    """Mean cross-entropy of a batch of logits against integer class targets.

    Args:
        logits: float tensor ``(N, C)``, unnormalised scores (float32 or float64).
        target: int64 tensor ``(N,)`` of class indices in ``[0, C)``, or ``ignore_index``.
        weight: optional float tensor ``(C,)``: the weight of each class (of the logits' dtype).
        ignore_index: rows whose target equals it do not count (it may also be a real class id).

    Returns:
        a 0-dim tensor of the logits' dtype:
        ``sum_n w[t_n] * -log_softmax(logits[n])[t_n] / sum_n w[t_n]`` over the rows ``n`` whose
        target is not ``ignore_index`` (``w`` is all ones when ``weight`` is None, so this is the
        plain mean over the counted rows).  ``nan`` when no row counts (0 / 0), as in PyTorch.
        Finite for any finite logits; ``-inf`` logits of classes that are no counted row's target
        are allowed.  Differentiable with respect to ``logits``.  No input is modified.
    """
    ### BEGIN SOLUTION
    logp = log_softmax(logits, dim=-1)                               # (N, C)
    counted = target != ignore_index                                 # (N,)
    safe = torch.where(counted, target, torch.zeros_like(target))    # ignored rows point at class 0
    nll = -logp.gather(1, safe.unsqueeze(1)).squeeze(1)              # (N,)
    w = torch.ones_like(nll) if weight is None else weight[safe].to(nll.dtype)
    w = torch.where(counted, w, torch.zeros_like(w))
    terms = torch.where(counted, w * nll, torch.zeros_like(nll))     # not w * nll * 0: -inf * 0 is nan
    return terms.sum() / w.sum()
    ### END SOLUTION
