# CORRECT, written differently: each pair (j, j + d/2) is a complex number multiplied by e^{i angle};
# cos/sin from torch.polar; rotate_half as a roll with a sign flip.
import torch


def rope_cos_sin(positions, head_dim, base=10000.0, dtype=torch.float32):
    if head_dim % 2 != 0:
        raise ValueError("odd head_dim")
    j = torch.arange(head_dim // 2, dtype=dtype)
    theta = torch.tensor(base, dtype=dtype) ** (-2.0 * j / head_dim)
    angle = positions[..., None].to(dtype) * theta                       # (*P, d/2)
    e = torch.polar(torch.ones_like(angle), angle)                       # e^{i angle}
    return torch.cat([e.real, e.real], -1), torch.cat([e.imag, e.imag], -1)


def rotate_half(x):
    half = x.shape[-1] // 2
    sign = torch.cat([-torch.ones(half, dtype=x.dtype), torch.ones(half, dtype=x.dtype)])
    return torch.roll(x, shifts=half, dims=-1) * sign


def _rotate(x, cos, sin):
    half = x.shape[-1] // 2
    z = torch.complex(x[..., :half].double(), x[..., half:].double())
    w = torch.complex(cos[..., :half].double(), sin[..., :half].double())
    z = z * w
    return torch.cat([z.real, z.imag], -1).to(x.dtype)


def apply_rotary_pos_emb(q, k, cos, sin):
    if cos.ndim == 3:
        cos, sin = cos[:, None], sin[:, None]
    return _rotate(q, cos, sin), _rotate(k, cos, sin)
