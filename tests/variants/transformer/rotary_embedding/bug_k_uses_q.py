# BUG: copy-paste slip: the key rotation uses rotate_half(q) instead of rotate_half(k).
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
    q_rot = q * cos.to(q.dtype) + rotate_half(q) * sin.to(q.dtype)
    k_rot = k * cos.to(k.dtype) + rotate_half(q)[:, : k.size(1)] * sin.to(k.dtype)
    return q_rot, k_rot
