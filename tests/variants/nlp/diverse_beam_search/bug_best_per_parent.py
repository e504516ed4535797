# BUG: keeps only the single best extension of EACH parent before ranking, instead of ranking all extensions of the group together.
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
    candidates = []                                                  # (key, tokens, score)
    unfinished = [h for h in beam if not (h[0] and h[0][-1] == eos_id)]
    for tokens, score in beam:
        if tokens and tokens[-1] == eos_id:
            candidates.append((score, tokens, score))
    logp = next_logp.double()                                        # (n, V)
    for (tokens, score), row in zip(unfinished, logp):
        new_scores = score + row                                     # (V,)
        keys = new_scores - penalty.double()
        best = sorted(range(row.shape[0]), key=lambda v: float(keys[v]), reverse=True)[:1]
        for v in best:
            candidates.append((float(keys[v]), tokens + [v], float(new_scores[v])))
    candidates.sort(key=lambda c: c[0], reverse=True)
    return [(tokens, score) for _, tokens, score in candidates[:beam_size]]


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
