"""Constrained beam search: decode a sequence that must contain given tokens.

Translation with a terminology glossary, a summary that must name an entity, a caption that must
mention the object a detector found: the output is required to contain some tokens (the seed's
"constrained beam search: incorporates constraints that generated text must satisfy").  Filtering
the finished beam does not work -- beam search has usually thrown away every hypothesis that could
satisfy them -- and forcing the tokens at fixed positions ruins fluency.

Grid beam search (Hokamp & Liu 2017, "Lexically Constrained Decoding for Sequence Generation
Using Grid Beam Search"; Hugging Face's ``force_words_ids`` is a refinement of it) keeps one beam
per *number of constraints met*: bank ``k`` holds the best ``beam_size`` hypotheses that contain
exactly ``k`` of the ``K`` constraint tokens.  A hypothesis that has met fewer constraints is never
pushed out by a better-scoring one that has met more, so every level of progress survives; and a
hypothesis may only end (produce ``eos``) once it has met all ``K``.  The answer is bank ``K``.

Scores are summed log-probabilities (no length normalisation).  Builds on ``nlp/beam_search``.
"""
from typing import Callable, List, Sequence, Tuple

import torch

Hypothesis = Tuple[List[int], float]          # (tokens without bos, summed log-probability)
StepFn = Callable[[torch.Tensor], torch.Tensor]


def num_met(tokens: Sequence[int], constraints: Sequence[int]) -> int:
    """How many of the (distinct) constraint tokens occur in ``tokens`` (each counts once)."""
    ### BEGIN SOLUTION
    return len(set(constraints) & set(tokens))
    ### END SOLUTION


def select_banks(candidates: List[Hypothesis], constraints: Sequence[int], beam_size: int) -> List[List[Hypothesis]]:
    """Split candidates into ``K + 1`` banks by ``num_met`` and keep the best of each.

    Returns:
        ``banks[k]`` for ``k = 0 .. K`` (``K = len(constraints)``): the ``beam_size`` candidates with
        the highest scores among those meeting exactly ``k`` constraints (all of them if fewer), best
        score first; an empty list when there is none.
    """
    ### BEGIN SOLUTION
    banks: List[List[Hypothesis]] = [[] for _ in range(len(constraints) + 1)]
    for tokens, score in candidates:
        banks[num_met(tokens, constraints)].append((tokens, score))
    return [sorted(bank, key=lambda h: h[1], reverse=True)[:beam_size] for bank in banks]
    ### END SOLUTION


def constrained_beam_search(step_fn: StepFn, bos_id: int, eos_id: int, constraints: Sequence[int],
                            beam_size: int, max_len: int) -> List[Hypothesis]:
    """Grid beam search for outputs containing every token of ``constraints``.

    Args:
        step_fn: takes a LongTensor ``(n, t)`` of prefixes, each starting with ``bos_id``, returns float
            ``(n, V)`` next-token log-probabilities.
        bos_id, eos_id: start token (never returned) and end token.
        constraints: ``K >= 0`` distinct token ids, none of them ``bos_id`` or ``eos_id``.
        beam_size: hypotheses kept per bank.
        max_len: the most tokens a hypothesis may generate (``eos_id`` included).

    The banks start as ``[[([], 0.0)], [], ..., []]``.  Each step: if bank ``K`` is non-empty and all its
    hypotheses have ended, stop.  Otherwise call ``step_fn`` ONCE on every unfinished hypothesis of every
    bank (bank 0 first, each bank in its order); the candidates are every finished hypothesis as it is,
    and every unfinished one extended by every token ``v`` (score + ``log p(v)``) -- except ``eos_id``
    unless the extension meets all ``K`` constraints; then ``select_banks``.  Stop after ``max_len`` steps
    at the latest.

    Returns:
        bank ``K`` (its hypotheses, ended or not, as ``(tokens, score)``, best score first); ``[]`` when
        no hypothesis could meet every constraint within ``max_len`` tokens.
    """
    ### BEGIN SOLUTION
    K = len(constraints)

    def ended(h):
        return bool(h[0]) and h[0][-1] == eos_id

    banks: List[List[Hypothesis]] = [[([], 0.0)]] + [[] for _ in range(K)]
    for _ in range(max_len):
        if banks[K] and all(ended(h) for h in banks[K]):
            break
        alive = [h for bank in banks for h in bank if not ended(h)]
        candidates = [h for bank in banks for h in bank if ended(h)]
        if alive:
            rows = step_fn(torch.tensor([[bos_id] + tokens for tokens, _ in alive])).double()   # (n, V)
            for (tokens, score), row in zip(alive, rows):
                complete = num_met(tokens, constraints) == K
                for v, lp in enumerate(row.tolist()):
                    if v == eos_id and not complete:
                        continue                                    # no ending before every constraint is met
                    candidates.append((tokens + [v], score + lp))
        banks = select_banks(candidates, constraints, beam_size)
    return banks[K]
    ### END SOLUTION
