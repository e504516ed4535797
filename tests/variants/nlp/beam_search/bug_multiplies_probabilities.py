# BUG: keeps the product of the probabilities instead of the sum of the log-probs; the product
# underflows to 0 for unlikely hypotheses, whose scores then all become log(0) = -inf.
import math

import torch


def length_penalty(length, alpha):
    return ((5 + length) / 6) ** alpha


def beam_search(step_fn, bos_id, eos_id, beam_size, max_len, alpha=0.6):
    def score(h):
        return (math.log(h[1]) if h[1] > 0 else -math.inf) / length_penalty(len(h[0]), alpha)

    beam = [([], 1.0)]                                    # (tokens, probability)
    for _ in range(max_len):
        finished = [h for h in beam if h[0] and h[0][-1] == eos_id]
        alive = [h for h in beam if not (h[0] and h[0][-1] == eos_id)]
        if not alive:
            break
        probs = step_fn(torch.tensor([[bos_id] + t for t, _ in alive])).double().exp()
        cands = finished + [(t + [v], p * probs[i, v].item()) for i, (t, p) in enumerate(alive)
                            for v in range(probs.size(1))]
        beam = sorted(cands, key=score, reverse=True)[:beam_size]
    return [(t, score((t, p))) for t, p in beam]
