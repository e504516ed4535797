# BUG: zeroes the padding of its inputs in place (masked_fill_) before averaging.
import torch


def value_loss(values, returns, mask=None):
    if mask is None:
        return 0.5 * ((values - returns) ** 2).mean()
    returns.masked_fill_(~mask, 0.0)
    err = torch.where(mask, values - returns, torch.zeros_like(values))
    return 0.5 * (err ** 2).sum() / mask.sum()


def clipped_value_loss(values, old_values, returns, clip_eps=0.2, mask=None):
    if mask is not None:
        old_values.masked_fill_(~mask, 0.0)
        returns.masked_fill_(~mask, 0.0)
        values = torch.where(mask, values, torch.zeros_like(values))
    values_clipped = torch.clamp(values, old_values - clip_eps, old_values + clip_eps)
    unclipped = (values - returns) ** 2
    clipped = (values_clipped - returns) ** 2
    n = values.numel() if mask is None else mask.sum()
    loss = 0.5 * torch.maximum(unclipped, clipped).sum() / n
    clip_frac = (clipped > unclipped).to(values.dtype).sum() / n
    return loss, clip_frac
