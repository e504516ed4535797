# BUG: penalises the scores in place (scatter_), changing the caller's tensor.
"""Logits processors: the rules a generation loop applies to the next-token scores before sampling.

Sampling straight from a language model's distribution loops ("the the the") and wanders into the
long tail.  Generation libraries therefore pass the scores of each step through a chain of small
*logits processors* (Hugging Face's ``LogitsProcessorList``):

* a **repetition penalty** (Keskar et al., CTRL, 2019) makes every token already in the sequence
  less likely: its logit is divided by ``penalty`` if positive and multiplied by it if negative;
* **no-repeat n-grams** forbid any token that would complete an n-gram the sequence already has;
* **min-p** sampling (Nguyen et al., 2024) keeps only the tokens whose probability is at least
  ``min_p`` times the most likely token's -- a cut that tightens when the model is confident and
  relaxes when it is not (unlike top-p's fixed mass).

Implement the three with the contracts of transformers' ``RepetitionPenaltyLogitsProcessor``,
``NoRepeatNGramLogitsProcessor`` and ``MinPLogitsWarper``, and the chain.  Builds on
``nlp/sampling`` (top-k / top-p filtering).
"""
import torch

NEG_INF = float("-inf")


def repetition_penalty(input_ids: torch.Tensor, scores: torch.Tensor, penalty: float) -> torch.Tensor:
    """Penalise every token that occurs in the sequence so far.

    Args:
        input_ids: ``[B, T]`` long, the tokens generated so far (prompt included).
        scores: ``[B, V]`` next-token logits.
        penalty: > 0; > 1 discourages repetition, < 1 encourages it.

    For each row b and each DISTINCT token t in ``input_ids[b]`` (however often it occurs):
    ``score = score * penalty`` if ``score < 0`` else ``score / penalty``.  Other tokens keep their
    scores.  Returns a new tensor; ``scores`` is not modified.
    """
    seen = scores.gather(1, input_ids)                                          # (B, T)
    penalised = torch.where(seen < 0, seen * penalty, seen / penalty)
    return scores.scatter_(1, input_ids, penalised)                              # repeats write the same value


def no_repeat_ngram(input_ids: torch.Tensor, scores: torch.Tensor, n: int) -> torch.Tensor:
    """Forbid tokens that would repeat an n-gram of the sequence.

    For each row: if the sequence has T >= n tokens, every token x such that
    ``(last n-1 tokens of the row) + (x,)`` already occurs somewhere in the row as n consecutive
    tokens gets score ``-inf``.  With ``T < n`` nothing is banned; ``n = 1`` bans every token seen.
    Returns a new tensor; ``scores`` is not modified.
    """
    out = scores.clone()
    B, T = input_ids.shape
    if T < n:
        return out
    for b in range(B):
        row = input_ids[b].tolist()
        prefix = tuple(row[T - n + 1:]) if n > 1 else ()
        banned = {row[i + n - 1] for i in range(T - n + 1) if tuple(row[i:i + n - 1]) == prefix}
        if banned:
            out[b, list(banned)] = NEG_INF
    return out


def min_p_filter(scores: torch.Tensor, min_p: float, min_tokens_to_keep: int = 1) -> torch.Tensor:
    """Keep the tokens whose probability reaches ``min_p`` times the top token's.

    With ``probs = softmax(scores)`` per row: tokens with ``probs < min_p * max(probs)`` get
    ``-inf``, except that the ``min_tokens_to_keep`` most likely tokens of each row are always kept.
    The kept scores are unchanged.  ``scores`` may already hold ``-inf`` entries.  Returns a new
    tensor of the same shape ``[B, V]``.
    """
    probs = torch.softmax(scores, dim=-1)                                       # (B, V)
    remove = probs < min_p * probs.amax(dim=-1, keepdim=True)
    top = torch.topk(probs, min(min_tokens_to_keep, scores.size(-1)), dim=-1).indices
    remove = remove.scatter(-1, top, False)
    return scores.masked_fill(remove, NEG_INF)


def process(input_ids: torch.Tensor, scores: torch.Tensor, penalty: float = 1.0, ngram: int = 0,
            min_p: float = 0.0) -> torch.Tensor:
    """The chain in ``generate``'s order: the repetition penalty (if ``penalty != 1``), then no-repeat
    n-grams (if ``ngram > 0``), then min-p (if ``min_p > 0``).  Returns the processed scores."""
    if penalty != 1.0:
        scores = repetition_penalty(input_ids, scores, penalty)
    if ngram > 0:
        scores = no_repeat_ngram(input_ids, scores, ngram)
    if min_p > 0:
        scores = min_p_filter(scores, min_p)
    return scores
