"""Backpropagation by hand: a linear layer followed by softmax cross-entropy.

Autograd is the chain rule applied mechanically; doing it once by hand for the most common
head of a classifier shows what it computes.  For logits ``Z = X W + b`` and the mean
cross-entropy over a batch, everything collapses into one matrix:

    dL/dZ = (softmax(Z) - Q) / n        (Q: the target distribution of every row, n: rows counted)
    dL/dW = X^T dL/dZ      dL/db = sum over rows of dL/dZ      dL/dX = dL/dZ W^T

Two details of production losses are part of the contract, as in
``torch.nn.functional.cross_entropy``: rows whose label is ``ignore_index`` are left out of the
loss (and of the mean), and *label smoothing* replaces the one-hot target by
``(1 - eps) * onehot + eps / C`` (Szegedy et al., 2016).  The softmax must be numerically
stable: logits in the thousands must not overflow ``exp``.

Write the forward and backward passes without autograd and without torch's softmax family;
the grader compares with autograd through ``F.cross_entropy``.
"""
import torch


def log_softmax(logits: torch.Tensor) -> torch.Tensor:
    """Log-softmax over the last dimension, computed stably.

    Args:
        logits: a floating-point tensor ``(..., C)`` with finite entries (possibly huge, e.g. 1e30).

    Returns:
        ``log(softmax(logits))`` along the last dim, same shape and dtype; finite wherever the
        input is finite (it must not compute ``exp`` of a large number, nor ``log`` of an
        underflowed 0).
    """
    ### BEGIN SOLUTION
    shifted = logits - logits.amax(dim=-1, keepdim=True)               # (..., C), max entry 0
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()
    ### END SOLUTION


def linear_cross_entropy(X: torch.Tensor, W: torch.Tensor, b: torch.Tensor, y: torch.Tensor,
                         ignore_index: int = -100, label_smoothing: float = 0.0):
    """Forward and backward of ``loss = F.cross_entropy(X @ W + b, y, ignore_index, label_smoothing)``.

    Args:
        X: inputs ``(N, D)``; W: weights ``(D, C)``; b: bias ``(C,)`` -- all of one float dtype.
        y: int64 labels ``(N,)``, each in ``[0, C)`` or equal to ``ignore_index``; at least one
            label is not ignored.
        ignore_index: rows with this label contribute nothing to the loss nor to any gradient,
            and the mean is taken over the other rows only.
        label_smoothing: ``eps`` in ``[0, 1]``; the target distribution of a row with label ``k``
            is ``(1 - eps) * onehot(k) + eps / C`` (every class, ``k`` included, gets ``eps / C``).

    Returns:
        ``(loss, dW, db, dX)``: the mean loss (a 0-dim tensor) and its gradients with the shapes
        of ``W``, ``b`` and ``X``, all in the inputs' dtype.  No input is modified.
    """
    ### BEGIN SOLUTION
    N, C = X.shape[0], W.shape[1]
    Z = X @ W + b                                                      # (N, C) logits
    logp = log_softmax(Z)                                              # (N, C)
    valid = (y != ignore_index).to(X.dtype)                            # (N,) 1 for counted rows
    n = valid.sum()
    target = torch.zeros_like(Z)                                       # (N, C) target distribution Q
    target[valid.bool(), y[valid.bool()]] = 1.0
    target = (1.0 - label_smoothing) * target + label_smoothing / C
    loss = (-(target * logp).sum(dim=1) * valid).sum() / n
    dZ = (logp.exp() - target) * (valid / n)[:, None]                  # (N, C), zero rows where ignored
    dW = X.T @ dZ                                                      # (D, C)
    db = dZ.sum(dim=0)                                                 # (C,)
    dX = dZ @ W.T                                                      # (N, D)
    return loss, dW, db, dX
    ### END SOLUTION
