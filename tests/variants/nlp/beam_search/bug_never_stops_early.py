# BUG: always runs max_len steps, giving step_fn the whole beam (finished rows padded with <eos>)
# even after every kept hypothesis has ended -- the answer is right, but the search never stops.
import torch


def length_penalty(length, alpha):
    return ((5 + length) / 6) ** alpha


def beam_search(step_fn, bos_id, eos_id, beam_size, max_len, alpha=0.6):
    seqs = torch.full((1, 1), bos_id, dtype=torch.long)           # (k, t + 1)
    sums = torch.zeros(1, dtype=torch.float64)                    # (k,)
    lengths = torch.zeros(1, dtype=torch.long)                    # (k,)
    done = torch.zeros(1, dtype=torch.bool)                       # (k,)
    for _ in range(max_len):
        logp = step_fn(seqs).double()                             # (k, V)
        vocab = logp.size(1)
        new_len = torch.where(done, lengths, lengths + 1)         # (k,)
        cand = sums[:, None] + logp                               # (k, V)
        keep = torch.full_like(cand, -float("inf"))
        keep[:, eos_id] = sums
        cand = torch.where(done[:, None], keep, cand)
        lp = ((5 + new_len.double()) / 6) ** alpha                # (k,)
        score = cand / lp[:, None]
        top, idx = score.flatten().topk(min(beam_size, int(torch.isfinite(score).sum())))
        row, tok = idx // vocab, idx % vocab
        sums, lengths = cand.flatten()[idx], new_len[row]
        seqs = torch.cat([seqs[row], tok[:, None]], dim=1)        # (k, t + 1)
        done = done[row] | (tok == eos_id)
    return [(seq[1:1 + n], s / length_penalty(n, alpha))
            for seq, s, n in zip(seqs.tolist(), sums.tolist(), lengths.tolist())]
