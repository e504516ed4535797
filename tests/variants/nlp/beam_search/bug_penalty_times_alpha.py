# BUG: the length penalty multiplies by alpha instead of raising to the power alpha:
# ((5 + length) / 6) * alpha.
import torch


def length_penalty(length, alpha):
    return ((5 + length) / 6) * alpha


def beam_search(step_fn, bos_id, eos_id, beam_size, max_len, alpha=0.6):
    def score(h):
        return h[1] / length_penalty(len(h[0]), alpha)

    beam = [([], 0.0)]
    for _ in range(max_len):
        finished = [h for h in beam if h[0] and h[0][-1] == eos_id]
        alive = [h for h in beam if not (h[0] and h[0][-1] == eos_id)]
        if not alive:
            break
        logp = step_fn(torch.tensor([[bos_id] + t for t, _ in alive])).double()
        cands = finished + [(t + [v], s + logp[i, v].item()) for i, (t, s) in enumerate(alive)
                            for v in range(logp.size(1))]
        beam = sorted(cands, key=score, reverse=True)[:beam_size]
    return [(t, score((t, s))) for t, s in beam]
