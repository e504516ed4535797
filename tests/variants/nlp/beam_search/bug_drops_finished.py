# BUG: moves finished hypotheses out of the beam into a separate list, so they stop competing:
# the beam is refilled with unfinished hypotheses only (the best beam_size of all are returned).
import torch


def length_penalty(length, alpha):
    return ((5 + length) / 6) ** alpha


def beam_search(step_fn, bos_id, eos_id, beam_size, max_len, alpha=0.6):
    def score(h):
        return h[1] / length_penalty(len(h[0]), alpha)

    beam, done = [([], 0.0)], []
    for _ in range(max_len):
        if not beam:
            break
        logp = step_fn(torch.tensor([[bos_id] + t for t, _ in beam])).double()
        cands = [(t + [v], s + logp[i, v].item()) for i, (t, s) in enumerate(beam) for v in range(logp.size(1))]
        cands = sorted(cands, key=score, reverse=True)[:beam_size]
        done += [h for h in cands if h[0][-1] == eos_id]
        beam = [h for h in cands if h[0][-1] != eos_id]
    best = sorted(done + beam, key=score, reverse=True)[:beam_size]
    return [(t, score((t, s))) for t, s in best]
