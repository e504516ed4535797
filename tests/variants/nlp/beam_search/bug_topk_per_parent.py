# BUG: selects the best extensions per parent hypothesis (an equal share of the beam each)
# instead of the beam_size best candidates over the whole beam.
import math

import torch


def length_penalty(length, alpha):
    return ((5 + length) / 6) ** alpha


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
        share = math.ceil((beam_size - len(finished)) / len(alive)) if beam_size > len(finished) else 1
        cands = list(finished)
        for i, (tokens, s) in enumerate(alive):
            top, idx = logp[i].topk(min(share, logp.size(1)))
            cands += [(tokens + [v], s + lp) for lp, v in zip(top.tolist(), idx.tolist())]
        beam = sorted(cands, key=score, reverse=True)[:beam_size]
    return [(t, score((t, s))) for t, s in beam]
