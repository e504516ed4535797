# BUG: clips the ratio V / V_old to [1 - eps, 1 + eps] like the policy ratio (a relative window).
import torch


def value_loss(values, returns, mask=None):
    if mask is not None:
        values, returns = values[mask], returns[mask]
    return 0.5 * ((values - returns) ** 2).mean()


def clipped_value_loss(values, old_values, returns, clip_eps=0.2, mask=None):
    if mask is not None:
        values, old_values, returns = values[mask], old_values[mask], returns[mask]
    ratio = values / old_values
    values_clipped = torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * old_values
    unclipped = (values - returns) ** 2
    clipped = (values_clipped - returns) ** 2
    loss = 0.5 * torch.maximum(unclipped, clipped).mean()
    clip_frac = (clipped > unclipped).to(values.dtype).mean()
    return loss, clip_frac
