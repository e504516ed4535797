# CORRECT, written differently: beam_step ranks finished and extended candidates with one topk over a flat key vector; counts come from torch.bincount.
import torch


def beam_step(beam, next_logp, eos_id, beam_size, penalty):
    done = [h for h in beam if h[0] and h[0][-1] == eos_id]
    live = [h for h in beam if not (h[0] and h[0][-1] == eos_id)]
    V = next_logp.shape[1] if next_logp.dim() == 2 else 0
    scores = torch.tensor([s for _, s in live], dtype=torch.float64)[:, None] + next_logp.double()   # (n, V)
    keys = torch.cat([torch.tensor([s for _, s in done], dtype=torch.float64),
                      (scores - penalty.double()).reshape(-1)])
    values = torch.cat([torch.tensor([s for _, s in done], dtype=torch.float64), scores.reshape(-1)])
    k = min(beam_size, keys.numel())
    top = torch.topk(keys, k).indices.tolist()
    out = []
    for i in top:
        if i < len(done):
            out.append((list(done[i][0]), float(values[i])))
        else:
            parent, v = divmod(i - len(done), V)
            out.append((live[parent][0] + [v], float(values[i])))
    return out


def diverse_beam_search(step_fn, bos_id, eos_id, num_groups, beam_size, max_len, diversity_penalty=1.0):
    groups = [[([], 0.0)] for _ in range(num_groups)]
    finished = lambda h: len(h[0]) > 0 and h[0][-1] == eos_id          # noqa: E731
    t = 0
    while t < max_len and not all(finished(h) for grp in groups for h in grp):
        chosen = []                                         # tokens appended at step t by earlier groups
        for g in range(num_groups):
            live = [h for h in groups[g] if not finished(h)]
            if live:
                rows = step_fn(torch.tensor([[bos_id, *tokens] for tokens, _ in live]))
                counts = torch.bincount(torch.tensor(chosen, dtype=torch.long), minlength=rows.shape[1])
                groups[g] = beam_step(groups[g], rows, eos_id, beam_size, diversity_penalty * counts.double())
                chosen += [tokens[-1] for tokens, _ in groups[g] if len(tokens) == t + 1]
        t += 1
    return [sorted(grp, key=lambda h: -h[1]) for grp in groups]
