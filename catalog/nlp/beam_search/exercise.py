"""Beam search with length normalisation: decoding that looks further ahead than greedy.

Greedy decoding commits to the single most likely next token at every step, and a likely first
token can lead into an unlikely continuation.  Beam search keeps the ``beam_size`` best partial
hypotheses instead of one: at every step it extends each of them by every token of the
vocabulary and keeps the best ``beam_size`` candidates over the whole beam.

Summed log-probabilities favour short outputs (every extra token adds a negative term), so a
hypothesis is ranked by its summed log-probability divided by the length penalty of Google's
NMT system (Wu et al. 2016, "Google's Neural Machine Translation System", section 7):

    lp(|Y|) = ((5 + |Y|) / 6) ** alpha        score(Y) = log P(Y) / lp(|Y|)

``alpha = 0`` gives plain beam search.  Hypotheses that have produced ``eos_id`` are finished:
they stay in the beam unchanged and keep competing with the unfinished ones on their score,
so a long hypothesis survives only if it stays better than the short ones already finished.
(Hugging Face's ``generate(num_beams=...)`` is a variant that moves finished hypotheses aside
and divides by ``len ** length_penalty``; without an end token the two agree.)

Write both functions yourself with torch; ``step_fn`` stands in for a language model.
"""
from typing import Callable

import torch

StepFn = Callable[[torch.Tensor], torch.Tensor]


def length_penalty(length: int, alpha: float) -> float:
    """The GNMT length penalty ``((5 + length) / 6) ** alpha`` (a float; 1.0 when alpha is 0)."""
    ### BEGIN SOLUTION
    return ((5 + length) / 6) ** alpha
    ### END SOLUTION


def beam_search(step_fn: StepFn, bos_id: int, eos_id: int, beam_size: int, max_len: int,
                alpha: float = 0.6) -> list[tuple[list[int], float]]:
    """Decode with a beam of ``beam_size`` hypotheses, ranked by length-normalised log-probability.

    Args:
        step_fn: takes a LongTensor ``[n, t]`` of prefixes, each starting with ``bos_id``, and
            returns the next-token log-probabilities, a float tensor ``[n, vocab]``: finite (down
            to about -5000, summed exactly) or ``-inf`` for a masked token.
        bos_id: the token every prefix given to ``step_fn`` starts with (never returned).
        eos_id: the end token; a hypothesis whose last token is ``eos_id`` has ended.
        beam_size: how many hypotheses are kept after every step.
        max_len: the most tokens a hypothesis may generate (``eos_id`` included).
        alpha: the length-penalty exponent (0 gives plain beam search).

    A hypothesis is the list of tokens generated so far (no ``bos_id``; ``eos_id`` last once it
    has ended); its score is the sum of its tokens' log-probabilities divided by
    ``length_penalty(len(tokens), alpha)``.  The beam starts as the single empty hypothesis.
    At every step each unfinished hypothesis is extended by every token of the vocabulary,
    finished hypotheses are carried over unchanged, and the ``beam_size`` candidates with the
    best scores are kept.  The search stops when every kept hypothesis has ended or after
    ``max_len`` steps.

    Returns:
        the kept hypotheses as ``(tokens, score)`` pairs -- ``tokens`` a list of ints, ``score``
        a float -- best score first.
    """
    ### BEGIN SOLUTION
    def score(hyp):                                  # hyp = (tokens, summed log-prob)
        return hyp[1] / length_penalty(len(hyp[0]), alpha)

    beam = [([], 0.0)]
    for _ in range(max_len):
        finished = [h for h in beam if h[0] and h[0][-1] == eos_id]
        alive = [h for h in beam if not (h[0] and h[0][-1] == eos_id)]
        if not alive:
            break
        prefixes = torch.tensor([[bos_id] + tokens for tokens, _ in alive])  # (n, t + 1)
        logp = step_fn(prefixes).double()                                  # (n, V)
        sums = torch.tensor([s for _, s in alive], dtype=torch.float64)    # (n,)
        total = (sums[:, None] + logp).flatten()                           # (n * V,)
        # Every extension has the same length, hence the same penalty: only the beam_size
        # best raw sums among them can survive.
        top, idx = total.topk(min(beam_size, total.numel()))
        vocab = logp.size(1)
        extended = [(alive[i // vocab][0] + [i % vocab], s) for s, i in zip(top.tolist(), idx.tolist())]
        beam = sorted(finished + extended, key=score, reverse=True)[:beam_size]
    return [(tokens, score((tokens, s))) for tokens, s in beam]
    ### END SOLUTION
