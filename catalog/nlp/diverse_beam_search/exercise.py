"""Diverse beam search: several beams that are told not to say the same thing.

Beam search's answers are near-copies of each other (the seed's "lack of diversity": the top
beams share a prefix and differ in a word or two).  Diverse beam search (Vijayakumar et al.
2018, "Diverse Beam Search: Decoding Diverse Solutions from Neural Sequence Models") splits the
beam into ``G`` groups of ``B`` hypotheses.  At every time step the groups move one after another;
group ``g`` runs an ordinary beam-search step, except that it ranks its candidates by

    log P(hypothesis so far) + log p(v | prefix) - lambda * count_t(v)

where ``count_t(v)`` is how many hypotheses of the groups ``0 .. g - 1`` appended token ``v`` *at
this same step* (the Hamming diversity term).  Group 0 is plain beam search; later groups pay
``lambda`` per earlier hypothesis that chose the same next token.  The penalty only steers the
choice at the step where it applies: the scores a hypothesis carries, and the ones returned, are
its true log-probabilities.  (Hugging Face's ``num_beam_groups`` / ``diversity_penalty`` ran the
same scheme, but added the penalties into the running scores; it was removed from transformers 5.)

Builds on ``nlp/beam_search``: ``beam_step`` is one step of it (without length normalisation),
with a penalty vector added to the extensions' ranking.
"""
from typing import Callable, List, Tuple

import torch

Hypothesis = Tuple[List[int], float]          # (tokens without bos, summed log-probability)
StepFn = Callable[[torch.Tensor], torch.Tensor]


def beam_step(beam: List[Hypothesis], next_logp: torch.Tensor, eos_id: int, beam_size: int,
              penalty: torch.Tensor) -> List[Hypothesis]:
    """One beam-search step of one group.

    Args:
        beam: the group's hypotheses; one has ended when its last token is ``eos_id``.
        next_logp: float ``(n, V)``, the next-token log-probabilities of the beam's UNFINISHED
            hypotheses, one row each, in the order they appear in ``beam``.
        eos_id: the end token.
        beam_size: how many candidates to keep.
        penalty: float ``(V,)``, subtracted from the ranking key of every extension by that token.

    Candidates: every finished hypothesis as it is (key: its score), and every unfinished one
    extended by every token ``v`` (score: its score + ``next_logp[row, v]``; key: that score
    ``- penalty[v]``).  Keep the ``beam_size`` candidates with the largest keys (fewer if there
    are fewer), largest key first.

    Returns:
        the kept candidates as ``(tokens, score)`` -- ``score`` the true summed log-probability, a float.
    """
    ### BEGIN SOLUTION
    candidates = []                                                  # (key, tokens, score)
    unfinished = [h for h in beam if not (h[0] and h[0][-1] == eos_id)]
    for tokens, score in beam:
        if tokens and tokens[-1] == eos_id:
            candidates.append((score, tokens, score))
    logp = next_logp.double()                                        # (n, V)
    for (tokens, score), row in zip(unfinished, logp):
        new_scores = score + row                                     # (V,)
        keys = new_scores - penalty.double()
        for v in range(row.shape[0]):
            candidates.append((float(keys[v]), tokens + [v], float(new_scores[v])))
    candidates.sort(key=lambda c: c[0], reverse=True)
    return [(tokens, score) for _, tokens, score in candidates[:beam_size]]
    ### END SOLUTION


def diverse_beam_search(step_fn: StepFn, bos_id: int, eos_id: int, num_groups: int, beam_size: int,
                        max_len: int, diversity_penalty: float = 1.0) -> List[List[Hypothesis]]:
    """Diverse beam search with Hamming diversity.

    Args:
        step_fn: takes a LongTensor ``(n, t)`` of prefixes, each starting with ``bos_id``, and
            returns float ``(n, V)`` next-token log-probabilities.
        bos_id, eos_id: the start token (never returned) and the end token.
        num_groups: ``G``; every group starts from the single empty hypothesis.
        beam_size: ``B``, hypotheses per group.
        max_len: the most tokens a hypothesis may generate (``eos_id`` included).
        diversity_penalty: ``lambda >= 0``.

    At each step ``t`` (at most ``max_len``), groups ``0, 1, ..., G - 1`` in that order: call
    ``step_fn`` once on the group's unfinished hypotheses (if it has any; otherwise the group is
    left as it is), and replace the group by ``beam_step(group, rows, eos_id, B, lambda * counts)``,
    where ``counts[v]`` is the number of hypotheses of the groups before it whose token appended at
    step ``t`` is ``v`` (a finished hypothesis carried over appends nothing).  The search stops when
    every hypothesis of every group has ended, or after ``max_len`` steps.

    Returns:
        ``G`` lists, group 0 first, each holding its group's hypotheses as ``(tokens, score)`` sorted
        by score (true log-probability), best first.
    """
    ### BEGIN SOLUTION
    def ended(h):
        return bool(h[0]) and h[0][-1] == eos_id

    groups: List[List[Hypothesis]] = [[([], 0.0)] for _ in range(num_groups)]
    for step in range(max_len):
        if all(ended(h) for group in groups for h in group):
            break
        counts = None
        for g, group in enumerate(groups):
            alive = [h for h in group if not ended(h)]
            if not alive:
                continue
            rows = step_fn(torch.tensor([[bos_id] + tokens for tokens, _ in alive]))   # (n, V)
            if counts is None:
                counts = torch.zeros(rows.shape[1], dtype=torch.float64)                 # (V,)
            groups[g] = beam_step(group, rows, eos_id, beam_size, diversity_penalty * counts)
            for tokens, _ in groups[g]:
                if len(tokens) == step + 1:                      # appended a token at this step
                    counts[tokens[-1]] += 1
    return [sorted(group, key=lambda h: h[1], reverse=True) for group in groups]
    ### END SOLUTION
