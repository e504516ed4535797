# CORRECT, written differently: a padded, fully tensorised beam (like Hugging Face's): every row
# is scored over the vocabulary at once, finished rows offer one candidate (their own score, in
# the eos slot) and every row is normalised by its own length; one global topk per step.
import torch


def length_penalty(length, alpha):
    return ((5 + length) / 6) ** alpha


def beam_search(step_fn, bos_id, eos_id, beam_size, max_len, alpha=0.6):
    seqs = torch.full((1, 1), bos_id, dtype=torch.long)           # (k, t + 1), finished rows padded
    sums = torch.zeros(1, dtype=torch.float64)                    # (k,) summed log-probs
    lengths = torch.zeros(1, dtype=torch.long)                    # (k,) tokens generated
    done = torch.zeros(1, dtype=torch.bool)                       # (k,)
    for _ in range(max_len):
        if done.all():
            break
        alive = (~done).nonzero().squeeze(1)
        step = step_fn(seqs[alive]).double()                      # (n_alive, V)
        vocab = step.size(1)
        cand = torch.full((len(seqs), vocab), -float("inf"), dtype=torch.float64)
        cand[alive] = sums[alive, None] + step                    # (k, V)
        cand[done, eos_id] = sums[done]                           # finished: carried over once
        new_len = torch.where(done, lengths, lengths + 1)         # (k,)
        lp = ((5 + new_len.double()) / 6) ** alpha                # (k,)
        score = cand / lp[:, None]                                # (k, V)
        n_real = len(alive) * vocab + int(done.sum())             # candidates that really exist
        _, idx = score.flatten().topk(min(beam_size, n_real))
        row, tok = idx // vocab, idx % vocab
        sums, lengths = cand.flatten()[idx], new_len[row]
        tok = torch.where(done[row], torch.full_like(tok, eos_id), tok)
        seqs = torch.cat([seqs[row], tok[:, None]], dim=1)        # (k, t + 2)
        done = done[row] | (tok == eos_id)
    out = [(seq[1:1 + n], s / length_penalty(n, alpha))
           for seq, s, n in zip(seqs.tolist(), sums.tolist(), lengths.tolist())]
    return sorted(out, key=lambda h: h[1], reverse=True)
