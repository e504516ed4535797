"""Top-k and top-p (nucleus) filtering: the two truncation rules of sampled decoding.

Greedy decoding and beam search pick the most likely continuation.  Sampling draws the next
token from the model's distribution instead, which gives varied text -- but every so often it
draws a token from the long, unreliable tail of the vocabulary, and the text derails.
Truncation cuts that tail off before sampling:

* **top-k** (Fan et al., 2018, "Hierarchical Neural Story Generation") keeps the k largest
  logits of each row, however flat or peaked the distribution is;
* **top-p**, or nucleus sampling (Holtzman et al., 2020, "The Curious Case of Neural Text
  Degeneration"), keeps the smallest set of most likely tokens whose probabilities add up to at
  least p, so a confident model keeps a handful of tokens and an unsure one keeps many.

Excluded entries become ``-inf``: a following softmax gives them probability exactly 0, so
``torch.multinomial(logits.softmax(-1), 1)`` samples from the truncated, renormalised
distribution.  Top-k only compares logits, so dividing them by a temperature never changes
what it keeps; top-p works on probabilities, so a temperature does.

Implement both as Hugging Face transformers' ``TopKLogitsWarper`` and ``TopPLogitsWarper``
do (same treatment of ties, of the token that crosses p, of ``min_tokens_to_keep``) -- but for
inputs of any rank, and without calling them.
"""
import torch


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep, in each row, the entries at least as large as the row's k-th largest; -inf elsewhere.

    Args:
        logits: float tensor of shape ``(..., V)`` (any number of leading dimensions, V >= 1);
            rows run along the last dimension; entries may already be ``-inf`` (filtered earlier:
            they stay ``-inf``, and nothing becomes NaN). It is not modified.
        k: an int >= 1.  ``k > V`` counts as ``k = V`` (everything is kept).

    Ties with the k-th largest value all survive, so a row may keep more than k entries
    (``[3., 2., 2., 0.]`` with k=2 keeps ``3., 2., 2.``).

    Returns:
        a new tensor of the same shape and dtype: kept entries unchanged, the others ``-inf``.
    """
    ### BEGIN SOLUTION
    k = min(k, logits.size(-1))
    kth = torch.topk(logits, k, dim=-1).values[..., -1:]          # (..., 1) the k-th largest of each row
    return logits.masked_fill(logits < kth, float("-inf"))        # (..., V), a new tensor
    ### END SOLUTION


def top_p_filter(logits: torch.Tensor, p: float, min_tokens_to_keep: int = 1) -> torch.Tensor:
    """Keep, in each row, the nucleus: the fewest most-probable entries whose probabilities sum to >= p.

    Args:
        logits: float tensor of shape ``(..., V)`` (any number of leading dimensions, V >= 1);
            probabilities are ``softmax(logits)`` along the last dimension; entries may already be
            ``-inf`` (probability 0: they stay ``-inf``, and nothing becomes NaN). It is not modified.
        p: the probability mass to keep, ``0 <= p <= 1``.
        min_tokens_to_keep: an int >= 1; that many of the most likely entries of each row are
            always kept, even when fewer already reach p (a row of at most that many entries keeps
            all of them).

    Walk a row from the most likely entry down: an entry is kept when the entries above it hold
    less than p in total -- so the entry whose probability carries the sum across p is kept --
    and removed once the entries above it already hold at least p.  With ``p = 1`` every entry
    of nonzero probability is kept; entries that are already ``-inf`` stay ``-inf``.

    Returns:
        a new tensor of the same shape and dtype: kept entries unchanged, the others ``-inf``.
    """
    ### BEGIN SOLUTION
    sorted_logits, sorted_idx = torch.sort(logits, dim=-1)        # (..., V) ascending: least likely first
    # probability of each entry plus all entries less likely than it.  Summing from the small end
    # keeps the zero-probability tail at exactly 0, so p = 1 removes only tokens of probability 0.
    tail = sorted_logits.softmax(dim=-1).cumsum(dim=-1)           # (..., V)
    # the entries above this one hold 1 - tail; remove it when they already reach p
    remove = tail <= 1 - p
    remove[..., -min_tokens_to_keep:] = False                     # the most likely ones always stay
    remove = remove.scatter(-1, sorted_idx, remove)               # (..., V) back to vocabulary order
    return logits.masked_fill(remove, float("-inf"))
    ### END SOLUTION
