# CORRECT, written differently: preallocate the full [n, t0 + max_new_tokens] buffer filled with
# pad_id, write one column per step into it, and keep each row's generated length.
import torch


def greedy_decode(step_fn, prompts, max_new_tokens, eos_id, pad_id):
    n, t0 = prompts.shape
    buf = torch.full((n, t0 + max_new_tokens), pad_id, dtype=torch.long)
    buf[:, :t0] = prompts
    alive = torch.ones(n, dtype=torch.bool)
    steps = 0
    while steps < max_new_tokens and bool(alive.any()):
        scores = step_fn(buf[:, :t0 + steps])                      # (n, vocab)
        best = scores.max(dim=-1).indices                          # first maximum on ties
        buf[alive, t0 + steps] = best[alive]
        alive &= best != eos_id
        steps += 1
    return buf[:, t0:t0 + steps].clone()
