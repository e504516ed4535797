# BUG: writes the rotated values into q and k in place (q.mul_), changing the caller's tensors.
import math

import torch


def rope_cos_sin(positions, head_dim, base=10000.0, dtype=torch.float32):
    if head_dim % 2:
        raise ValueError("head_dim must be even")
    theta = torch.exp(torch.arange(0, head_dim, 2, dtype=dtype) * (-math.log(base) / head_dim))
    angle = positions.to(dtype).unsqueeze(-1) * theta
    angle = torch.cat((angle, angle), dim=-1)
    return angle.cos(), angle.sin()


def rotate_half(x):
    half = x.size(-1) // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin):
    if cos.dim() == 3:
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
    rq, rk = rotate_half(q), rotate_half(k)
    if not (q.requires_grad or k.requires_grad):
        q.mul_(cos.to(q.dtype)).add_(rq * sin.to(q.dtype))
        k.mul_(cos.to(k.dtype)).add_(rk * sin.to(k.dtype))
        return q, k
    return q * cos.to(q.dtype) + rq * sin.to(q.dtype), k * cos.to(k.dtype) + rk * sin.to(k.dtype)
