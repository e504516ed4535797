# BUG: a padded, vectorised search that divides every row's summed log-prob by the penalty of
# the current step -- finished hypotheses are normalised by the wrong (longer) length.
import torch


def length_penalty(length, alpha):
    return ((5 + length) / 6) ** alpha


def beam_search(step_fn, bos_id, eos_id, beam_size, max_len, alpha=0.6):
    seqs = torch.full((1, 1), bos_id, dtype=torch.long)           # (k, t + 1)
    sums = torch.zeros(1, dtype=torch.float64)                    # (k,)
    lengths = torch.zeros(1, dtype=torch.long)                    # (k,) tokens generated
    done = torch.zeros(1, dtype=torch.bool)                       # (k,)
    for t in range(1, max_len + 1):
        if done.all():
            break
        logp = step_fn(seqs).double()                             # (k, V)
        vocab = logp.size(1)
        cand = sums[:, None] + logp                               # (k, V)
        # a finished row survives only once, unchanged, in its eos slot
        keep = torch.full_like(cand, -float("inf"))
        keep[:, eos_id] = sums
        cand = torch.where(done[:, None], keep, cand)
        score = cand / length_penalty(t, alpha)                  # every row: penalty of step t
        n_real = int((~done).sum()) * vocab + int(done.sum())     # candidates that exist
        top, idx = score.flatten().topk(min(beam_size, n_real))
        row, tok = idx // vocab, idx % vocab
        sums = cand.flatten()[idx]
        seqs = torch.cat([seqs[row], tok[:, None]], dim=1)        # (k, t + 1)
        lengths = torch.where(done[row], lengths[row], lengths[row] + 1)
        done = done[row] | (tok == eos_id)
    out = []
    for seq, s, n in zip(seqs.tolist(), sums.tolist(), lengths.tolist()):
        out.append((seq[1:1 + n], s / length_penalty(n, alpha)))
    return sorted(out, key=lambda h: h[1], reverse=True)
