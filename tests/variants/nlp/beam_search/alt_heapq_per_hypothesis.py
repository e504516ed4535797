# CORRECT, written differently: plain Python with heapq.nlargest; step_fn is called on one
# prefix at a time and the scores are kept already normalised.
import heapq
import math

import torch


def length_penalty(length, alpha):
    return math.pow((5.0 + length) / 6.0, alpha)


def beam_search(step_fn, bos_id, eos_id, beam_size, max_len, alpha=0.6):
    # entries: (normalised score, summed log-prob, tokens tuple)
    beam = [(0.0, 0.0, ())]
    steps = 0
    while steps < max_len and any(not toks or toks[-1] != eos_id for _, _, toks in beam):
        steps += 1
        candidates = []
        for norm, total, toks in beam:
            if toks and toks[-1] == eos_id:
                candidates.append((norm, total, toks))
                continue
            logp = step_fn(torch.tensor([(bos_id,) + toks], dtype=torch.long))[0].tolist()
            for tok, lp in enumerate(logp):
                new_total = total + lp
                candidates.append((new_total / length_penalty(len(toks) + 1, alpha), new_total, toks + (tok,)))
        beam = heapq.nlargest(beam_size, candidates, key=lambda c: c[0])
    return [(list(toks), norm) for norm, _, toks in beam]
