# BUG: masked mean as (x * mask).sum() / mask.sum(): NaN or inf in the padding leaks through (0 * NaN = NaN).
import torch


def masked_mean(x, mask):
    if mask is None:
        return x.mean()
    return (x * mask).sum() / mask.sum()


def value_loss(values, returns, mask=None):
    return 0.5 * masked_mean((values - returns) ** 2, mask)


def clipped_value_loss(values, old_values, returns, clip_eps=0.2, mask=None):
    values_clipped = torch.clamp(values, old_values - clip_eps, old_values + clip_eps)
    unclipped = (values - returns) ** 2
    clipped = (values_clipped - returns) ** 2
    loss = 0.5 * masked_mean(torch.maximum(unclipped, clipped), mask)
    clip_frac = masked_mean((clipped > unclipped).to(values.dtype), mask)
    return loss, clip_frac
