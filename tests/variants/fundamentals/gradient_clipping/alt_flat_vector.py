# CORRECT, written differently: concatenate every gradient into one flat vector and use the
# p-norm formula directly; clip with a clamped coefficient (multiplying by 1.0 is a no-op).
import math

import torch


def _params(parameters):
    return [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    flat = torch.cat([g.detach().reshape(-1).double() for g in grads]).abs()
    if math.isinf(norm_type):
        total = flat.max()
    else:
        peak = flat.max()
        if peak == 0:
            total = peak
        else:   # factor out the peak so that |x|^p cannot overflow
            total = peak * ((flat / peak) ** norm_type).sum() ** (1.0 / norm_type)
    coef = min(1.0, max_norm / (total.item() + 1e-6))
    for g in grads:
        g.mul_(coef)
    return total.to(grads[0].dtype)


def clip_grad_value_(parameters, clip_value):
    for p in _params(parameters):
        if p.grad is not None:
            torch.clamp(p.grad, -clip_value, clip_value, out=p.grad)
