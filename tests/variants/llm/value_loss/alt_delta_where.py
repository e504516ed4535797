# CORRECT, written differently: clip the step V - V_old to [-eps, eps], mask with torch.where and
# divide sums by the number of True positions.
import torch


def _masked_mean(x, mask):
    if mask is None:
        return x.mean()
    return torch.where(mask, x, torch.zeros_like(x)).sum() / mask.sum().to(x.dtype)


def value_loss(values, returns, mask=None):
    return _masked_mean(0.5 * (values - returns).square(), mask)


def clipped_value_loss(values, old_values, returns, clip_eps=0.2, mask=None):
    step = (values - old_values).clamp(-clip_eps, clip_eps)
    values_clipped = old_values + step
    err = (values - returns).square()
    err_clipped = (values_clipped - returns).square()
    loss = _masked_mean(0.5 * torch.where(err_clipped > err, err_clipped, err), mask)
    with torch.no_grad():
        clip_frac = _masked_mean((err_clipped > err).to(values.dtype), mask)
    return loss, clip_frac
