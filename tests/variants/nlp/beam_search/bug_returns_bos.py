# BUG: returns the sequences with <bos> still in front (the scores are right).
import torch


def length_penalty(length, alpha):
    return ((5 + length) / 6) ** alpha


def beam_search(step_fn, bos_id, eos_id, beam_size, max_len, alpha=0.6):
    def score(h):
        return h[1] / length_penalty(len(h[0]) - 1, alpha)       # <bos> not counted: right

    beam = [([bos_id], 0.0)]
    for _ in range(max_len):
        finished = [h for h in beam if len(h[0]) > 1 and h[0][-1] == eos_id]
        alive = [h for h in beam if not (len(h[0]) > 1 and h[0][-1] == eos_id)]
        if not alive:
            break
        logp = step_fn(torch.tensor([seq for seq, _ in alive])).double()
        cands = finished + [(seq + [v], s + logp[i, v].item()) for i, (seq, s) in enumerate(alive)
                            for v in range(logp.size(1))]
        beam = sorted(cands, key=score, reverse=True)[:beam_size]
    return [(seq, score((seq, s))) for seq, s in beam]
