# BUG: zeroes the padded terms but divides by the number of all positions, not the True ones.
import torch


def value_loss(values, returns, mask=None):
    err = (values - returns) ** 2
    if mask is not None:
        err = torch.where(mask, err, torch.zeros_like(err))
    return 0.5 * err.mean()


def clipped_value_loss(values, old_values, returns, clip_eps=0.2, mask=None):
    values_clipped = torch.clamp(values, old_values - clip_eps, old_values + clip_eps)
    unclipped = (values - returns) ** 2
    clipped = (values_clipped - returns) ** 2
    worse = torch.maximum(unclipped, clipped)
    was_clipped = (clipped > unclipped).to(values.dtype)
    if mask is not None:
        worse = torch.where(mask, worse, torch.zeros_like(worse))
        was_clipped = torch.where(mask, was_clipped, torch.zeros_like(was_clipped))
    return 0.5 * worse.mean(), was_clipped.mean()
