# CORRECT, written differently: flatten, keep the True positions by index, and build the loss one
# position at a time with Python branches (the pessimistic max written out).
import torch


def _kept(mask, n):
    if mask is None:
        return list(range(n))
    return torch.nonzero(mask.reshape(-1)).reshape(-1).tolist()


def value_loss(values, returns, mask=None):
    v, r = values.reshape(-1), returns.reshape(-1)
    idx = _kept(mask, v.numel())
    terms = [(v[i] - r[i]) ** 2 for i in idx]
    return 0.5 * torch.stack(terms).sum() / len(idx)


def clipped_value_loss(values, old_values, returns, clip_eps=0.2, mask=None):
    v, old, r = values.reshape(-1), old_values.reshape(-1), returns.reshape(-1)
    idx = _kept(mask, v.numel())
    terms, n_clipped = [], 0
    for i in idx:
        lo, hi = old[i] - clip_eps, old[i] + clip_eps
        v_clip = torch.minimum(torch.maximum(v[i], lo), hi)
        a, b = (v[i] - r[i]) ** 2, (v_clip - r[i]) ** 2
        if b > a:
            terms.append(b)
            n_clipped += 1
        else:
            terms.append(a)
    loss = 0.5 * torch.stack(terms).sum() / len(idx)
    return loss, torch.tensor(n_clipped / len(idx), dtype=values.dtype)
