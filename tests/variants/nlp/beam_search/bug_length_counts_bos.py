# BUG: counts <bos> in the length: normalises by length_penalty(len(tokens) + 1, alpha).
import torch


def length_penalty(length, alpha):
    return ((5 + length) / 6) ** alpha


def beam_search(step_fn, bos_id, eos_id, beam_size, max_len, alpha=0.6):
    beam = [([bos_id], 0.0)]                             # sequences keep <bos> in front
    for _ in range(max_len):
        finished = [h for h in beam if h[0][-1] == eos_id and len(h[0]) > 1]
        alive = [h for h in beam if not (h[0][-1] == eos_id and len(h[0]) > 1)]
        if not alive:
            break
        logp = step_fn(torch.tensor([seq for seq, _ in alive])).double()
        cands = list(finished)
        for i, (seq, s) in enumerate(alive):
            for v in range(logp.size(1)):
                cands.append((seq + [v], s + logp[i, v].item()))
        beam = sorted(cands, key=lambda h: h[1] / length_penalty(len(h[0]), alpha), reverse=True)[:beam_size]
    return [(seq[1:], s / length_penalty(len(seq), alpha)) for seq, s in beam]
