"""Streaming statistics: entropy over a vocabulary too large to hold, mean and variance of a stream.

Two one-pass computations that interviews ask for, both built from summaries that can be *merged*:

**Entropy in chunks.**  A policy's entropy ``H = -sum_v p_v log p_v`` (the bonus in PPO, the
collapse monitor in GRPO) needs the softmax over a 150k-token vocabulary; memory-efficient
kernels read the logits in chunks and keep, per row, three numbers -- the running max ``m``,
``s = sum_v exp(x_v - m)`` and ``t = sum_v exp(x_v - m) * x_v`` -- as the online softmax of
flash attention does.  Two summaries merge by rescaling to the larger max, and at the end

    log Z = m + log s,     E_p[x] = t / s,     H = log Z - E_p[x].

A logit of ``-inf`` (a masked token) has probability 0 and contributes nothing, not ``nan``.

**Mean and variance of a stream** (Welford 1962; the pairwise merge of Chan, Golub & LeVeque
1979): keep the count ``n``, the mean and ``M2 = sum (x - mean)^2``.  Two summaries ``(n_a, mean_a,
M2_a)`` and ``(n_b, mean_b, M2_b)`` merge as

    n = n_a + n_b,   delta = mean_b - mean_a,   mean = mean_a + delta * n_b / n,
    M2 = M2_a + M2_b + delta^2 * n_a * n_b / n

which, unlike accumulating ``sum x`` and ``sum x^2``, does not lose every digit when the values are
large and their spread small (``1e8 + 1, 1e8 + 2, ...``).  The running statistics of batch
normalisation, reward normalisation in RL and data-drift monitors are this.
"""
from typing import List, Tuple

import torch

Summary = Tuple[torch.Tensor, torch.Tensor, torch.Tensor]       # (m, s, t), each (B,)


def chunk_summary(logits: torch.Tensor) -> Summary:
    """``(m, s, t)`` of one chunk of logits.

    Args:
        logits: float ``(B, V_chunk)``, any finite values or ``-inf``.

    Returns:
        three float64 ``(B,)`` tensors, computed in float64 whatever the logits' dtype: ``m`` the
        row max (``-inf`` for a row that is all ``-inf``), ``s = sum exp(x - m)`` and
        ``t = sum exp(x - m) * x`` over the row's finite logits (both 0 for an all ``-inf`` row).
    """
    ### BEGIN SOLUTION
    x = logits.double()
    m = x.max(dim=1).values                                              # (B,)
    finite = torch.isfinite(x)
    safe_m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))
    w = torch.where(finite, torch.exp(x - safe_m[:, None]), torch.zeros_like(x))   # (B, V_chunk)
    t = (w * torch.where(finite, x, torch.zeros_like(x))).sum(dim=1)
    return m, w.sum(dim=1), t
    ### END SOLUTION


def merge_summaries(a: Summary, b: Summary) -> Summary:
    """The summary of the two chunks together: rescale both to ``max(m_a, m_b)`` and add (a side whose
    ``m`` is ``-inf`` contributes 0)."""
    ### BEGIN SOLUTION
    (m_a, s_a, t_a), (m_b, s_b, t_b) = a, b
    m = torch.maximum(m_a, m_b)
    safe_m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))

    def scale(m_side):                                                  # exp(m_side - m), 0 for an empty side
        return torch.where(torch.isfinite(m_side), torch.exp(m_side - safe_m), torch.zeros_like(m_side))

    return m, s_a * scale(m_a) + s_b * scale(m_b), t_a * scale(m_a) + t_b * scale(m_b)
    ### END SOLUTION


def streaming_entropy(chunks: List[torch.Tensor]) -> torch.Tensor:
    """The entropy (nats) of ``softmax`` over the concatenation of ``chunks`` along dim 1, one pass.

    Args:
        chunks: float ``(B, V_k)`` tensors; every row has at least one finite logit overall.

    Returns:
        float64 ``(B,)``: ``log Z - E_p[x]`` from the merged summary.
    """
    ### BEGIN SOLUTION
    total = chunk_summary(chunks[0])
    for chunk in chunks[1:]:
        total = merge_summaries(total, chunk_summary(chunk))
    m, s, t = total
    return m + torch.log(s) - t / s
    ### END SOLUTION


class RunningStats:
    """Count, mean and variance of a stream of values, updated batch by batch, mergeable.

    Attributes (float64 0-dim tensors, except ``count``, an int): ``count``, ``mean`` (0.0 while
    empty) and ``m2``, the sum of squared deviations from the mean.
    """

    def __init__(self):
        ### BEGIN SOLUTION
        self.count = 0
        self.mean = torch.tensor(0.0, dtype=torch.float64)
        self.m2 = torch.tensor(0.0, dtype=torch.float64)
        ### END SOLUTION

    def merge(self, other: "RunningStats") -> "RunningStats":
        """A new ``RunningStats`` of both streams together (Chan's formula); neither input changes."""
        ### BEGIN SOLUTION
        out = RunningStats()
        out.count = self.count + other.count
        if out.count == 0:
            return out
        delta = other.mean - self.mean
        out.mean = self.mean + delta * other.count / out.count
        out.m2 = self.m2 + other.m2 + delta ** 2 * self.count * other.count / out.count
        return out
        ### END SOLUTION

    def update(self, values: torch.Tensor) -> None:
        """Add a batch (any shape, any float dtype; computed in float64): merge this stream with the
        batch's own count, mean and M2.  An empty batch (0 values) changes nothing."""
        ### BEGIN SOLUTION
        x = values.double().reshape(-1)
        batch = RunningStats()
        batch.count = x.numel()
        if batch.count:
            batch.mean = x.mean()
            batch.m2 = ((x - batch.mean) ** 2).sum()
        merged = self.merge(batch)
        self.count, self.mean, self.m2 = merged.count, merged.mean, merged.m2
        ### END SOLUTION

    def variance(self, unbiased: bool = True) -> torch.Tensor:
        """``m2 / (count - 1)`` (unbiased) or ``m2 / count``; ``nan`` when the divisor is 0."""
        ### BEGIN SOLUTION
        divisor = self.count - 1 if unbiased else self.count
        return self.m2 / divisor if divisor > 0 else torch.tensor(float("nan"), dtype=torch.float64)
        ### END SOLUTION
