# BUG: ranks candidates by the raw summed log-prob (no length normalisation) and only divides by
# the length penalty when reporting the scores.
import torch


def length_penalty(length, alpha):
    return ((5 + length) / 6) ** alpha


def beam_search(step_fn, bos_id, eos_id, beam_size, max_len, alpha=0.6):
    beam = [([], 0.0)]                                   # (tokens, summed log-prob)
    for _ in range(max_len):
        finished = [h for h in beam if h[0] and h[0][-1] == eos_id]
        alive = [h for h in beam if not (h[0] and h[0][-1] == eos_id)]
        if not alive:
            break
        logp = step_fn(torch.tensor([[bos_id] + t for t, _ in alive])).double()
        cands = list(finished)
        for i, (tokens, s) in enumerate(alive):
            for v in range(logp.size(1)):
                cands.append((tokens + [v], s + logp[i, v].item()))
        beam = sorted(cands, key=lambda h: h[1], reverse=True)[:beam_size]
    return [(t, s / length_penalty(len(t), alpha)) for t, s in beam]
