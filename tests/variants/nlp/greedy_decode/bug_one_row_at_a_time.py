# BUG: decodes each prompt on its own with step_fn on a [1, t] prefix (right tokens, but n times the model calls and not one batched call per step).
import torch


def greedy_decode(step_fn, prompts, max_new_tokens, eos_id, pad_id):
    rows = []
    for prompt in prompts:
        seq = prompt[None, :].clone()                              # (1, t0)
        for _ in range(max_new_tokens):
            tok = step_fn(seq).argmax(dim=-1)                      # (1,)
            seq = torch.cat([seq, tok[:, None]], dim=1)
            if tok.item() == eos_id:
                break
        rows.append(seq[0, prompts.size(1):].tolist())
    L = max(len(r) for r in rows)
    return torch.tensor([r + [pad_id] * (L - len(r)) for r in rows], dtype=torch.long).reshape(len(rows), L)
