# BUG: clip_frac counts ties (>=): every token inside the window, where both errors are equal, counts as clipped.
import torch


def value_loss(values, returns, mask=None):
    if mask is not None:
        values, returns = values[mask], returns[mask]
    return 0.5 * ((values - returns) ** 2).mean()


def clipped_value_loss(values, old_values, returns, clip_eps=0.2, mask=None):
    if mask is not None:
        values, old_values, returns = values[mask], old_values[mask], returns[mask]
    values_clipped = torch.clamp(values, old_values - clip_eps, old_values + clip_eps)
    unclipped = (values - returns) ** 2
    clipped = (values_clipped - returns) ** 2
    loss = 0.5 * torch.maximum(unclipped, clipped).mean()
    clip_frac = (clipped >= unclipped).to(values.dtype).mean()
    return loss, clip_frac
