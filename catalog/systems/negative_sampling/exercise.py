"""Negative sampling as in word2vec: the unigram^0.75 noise distribution, and the alias method.

Skip-gram with negative sampling (Mikolov et al., 2013) trains each (word, context) pair against
``k`` "negative" words drawn from a noise distribution.  Drawing them by raw frequency would
spend most updates on "the" and "of"; uniformly, on words seen once.  word2vec's compromise --
also the default of ``gensim.models.Word2Vec(ns_exponent=0.75)`` -- raises the counts to the
power 0.75 before normalising:  ``P(w) = count(w)^0.75 / sum_v count(v)^0.75``.  The same trick
samples negatives for recommenders (item popularity in place of word counts).

Three pieces:

* the distribution itself;
* the sampler: ``k`` i.i.d. negatives per positive, drawn from ``P``, never equal to the row's own
  positive.  A draw that hits the positive is **redrawn** (so every row has exactly ``k``
  negatives, each distributed as ``P(w) / (1 - P(positive))`` over ``w != positive``).  word2vec.c
  and gensim instead *skip* such a draw, leaving that step with fewer negatives;
* Walker's **alias method** (Vose's O(V) construction): a table of ``V`` columns, each holding
  at most two items, so that a draw costs one uniform column index and one biased coin -- O(1) per
  sample however large the vocabulary (word2vec.c uses a 1e8-entry lookup table instead).

All randomness comes from the ``torch.Generator`` you are given: the same seed gives the same
draws, and the global RNG is left alone.  ``torch.multinomial``, ``torch.rand``,
``torch.randint`` with ``generator=`` are all allowed.
"""
from typing import Tuple

import torch


def unigram_distribution(counts: torch.Tensor, power: float = 0.75) -> torch.Tensor:
    """The noise distribution ``P(w) = counts[w]^power / sum_v counts[v]^power``.

    Args:
        counts: ``(V,)`` tensor of counts ``>= 0`` (int or float), at least one positive.
        power: the exponent (0.75 in word2vec; 1 is the unigram, 0 uniform over seen items).

    An item with count 0 has probability 0 for every power, ``power = 0`` included.

    Returns:
        ``(V,)`` float64 tensor summing to 1.  ``counts`` is not modified.
    """
    ### BEGIN SOLUTION
    c = counts.to(torch.float64)
    weights = torch.where(c > 0, c.pow(power), torch.zeros_like(c))     # 0^0 would be 1
    return weights / weights.sum()
    ### END SOLUTION


def sample_negatives(probs: torch.Tensor, positives: torch.Tensor, k: int,
                     generator: torch.Generator) -> torch.Tensor:
    """Draw ``k`` negatives for each positive from ``probs``, redrawing any hit on the positive.

    Args:
        probs: ``(V,)`` float tensor, a probability distribution over the ``V`` items.
        positives: ``(B,)`` int64 tensor of item ids; ``probs[positives[b]] < 1`` for every ``b``.
        k: negatives per positive, ``>= 1``.
        generator: the only source of randomness.

    Every entry of row ``b`` is an independent draw from ``probs`` conditioned on being different
    from ``positives[b]``: draw from ``probs``, and redraw the entries that equal their row's
    positive until none does.

    Returns:
        ``(B, k)`` int64 tensor of item ids.  The inputs are not modified.
    """
    ### BEGIN SOLUTION
    B = positives.shape[0]
    draws = torch.multinomial(probs, B * k, replacement=True, generator=generator).view(B, k)   # (B, k)
    hit = draws == positives[:, None]
    while hit.any():
        draws[hit] = torch.multinomial(probs, int(hit.sum()), replacement=True, generator=generator)
        hit = draws == positives[:, None]
    return draws
    ### END SOLUTION


def build_alias_table(probs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Vose's alias table for ``probs``.

    Args:
        probs: ``(V,)`` float tensor of probabilities ``>= 0`` summing to 1 (within 1e-9 in
            float64; within float32 rounding for float32 ``probs``).

    Returns:
        ``(prob, alias)``: ``prob`` a ``(V,)`` float64 tensor in ``[0, 1]``, ``alias`` a ``(V,)``
        int64 tensor of item ids.  Column ``i`` yields item ``i`` with probability ``prob[i]`` and
        item ``alias[i]`` otherwise, so the table draws item ``j`` with probability
        ``(prob[j] + sum over i with alias[i] == j of (1 - prob[i])) / V``, which must equal
        ``probs[j]`` to within 1e-12 (1e-7 for float32 ``probs``).  (Tables are not unique; any
        table with that property is correct.)  ``probs`` is not modified.
    """
    ### BEGIN SOLUTION
    V = probs.shape[0]
    scaled = (probs.to(torch.float64) * V).tolist()        # a column holds mass 1
    prob = [1.0] * V
    alias = list(range(V))
    small = [i for i, s in enumerate(scaled) if s < 1.0]
    large = [i for i, s in enumerate(scaled) if s >= 1.0]
    while small and large:
        s, l = small.pop(), large.pop()
        prob[s], alias[s] = scaled[s], l                   # column s: item s, topped up by item l
        scaled[l] -= 1.0 - scaled[s]
        (small if scaled[l] < 1.0 else large).append(l)
    # leftovers are 1 up to rounding: they keep prob = 1 (their own column, whole)
    return torch.tensor(prob, dtype=torch.float64), torch.tensor(alias, dtype=torch.int64)
    ### END SOLUTION


def alias_sample(prob: torch.Tensor, alias: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """Draw ``n`` items from an alias table in O(1) each.

    Args:
        prob, alias: a table as returned by :func:`build_alias_table` (any valid table).
        n: the number of draws.
        generator: the only source of randomness.

    Each draw picks a column ``i`` uniformly, then returns ``i`` with probability ``prob[i]``
    and ``alias[i]`` otherwise.

    Returns:
        ``(n,)`` int64 tensor of item ids.
    """
    ### BEGIN SOLUTION
    V = prob.shape[0]
    column = torch.randint(0, V, (n,), generator=generator)
    coin = torch.rand(n, generator=generator, dtype=torch.float64)
    return torch.where(coin < prob[column], column, alias[column])
    ### END SOLUTION
