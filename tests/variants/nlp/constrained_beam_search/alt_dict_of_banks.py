# CORRECT, written differently: banks as a dict keyed by the frozenset of met constraints' count, candidates ranked with heapq.nlargest, extensions vectorised per parent.
import heapq

import torch


def num_met(tokens, constraints):
    return sum(c in tokens for c in dict.fromkeys(constraints))


def select_banks(candidates, constraints, beam_size):
    by_level = {k: [] for k in range(len(constraints) + 1)}
    for h in candidates:
        by_level[num_met(h[0], constraints)].append(h)
    return [heapq.nlargest(beam_size, by_level[k], key=lambda h: h[1]) for k in range(len(constraints) + 1)]


def constrained_beam_search(step_fn, bos_id, eos_id, constraints, beam_size, max_len):
    K = len(constraints)
    done = lambda h: len(h[0]) > 0 and h[0][-1] == eos_id       # noqa: E731
    banks = [[([], 0.0)]] + [[] for _ in range(K)]
    for _ in range(max_len):
        top = banks[-1]
        if top and all(map(done, top)):
            break
        flat = [h for bank in banks for h in bank]
        live = [h for h in flat if not done(h)]
        candidates = [h for h in flat if done(h)]
        if live:
            logp = step_fn(torch.tensor([[bos_id, *t] for t, _ in live], dtype=torch.long)).double()
            for (tokens, score), row in zip(live, logp):
                totals = (score + row).tolist()
                may_end = num_met(tokens, constraints) == K
                candidates += [(tokens + [v], s) for v, s in enumerate(totals) if may_end or v != eos_id]
        banks = select_banks(candidates, constraints, beam_size)
    return banks[-1]
