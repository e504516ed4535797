# CORRECT, written differently: the band is the difference of two shifted triangles, the attention uses an additive bias, and the cache keeps a Python list of per-position tensors.
import math

import torch


def sliding_window_mask(L, S, window, device=None):
    ones = torch.ones(L, S, dtype=torch.bool, device=device)
    upto_self = ones.tril(S - L)                    # j <= p
    too_old = ones.tril(S - L - window)             # j <= p - window
    return upto_self & ~too_old


def sliding_window_attention(q, k, v, window):
    bias = torch.zeros(q.size(-2), k.size(-2), dtype=q.dtype, device=q.device)
    bias = bias.masked_fill(~sliding_window_mask(q.size(-2), k.size(-2), window, q.device), -math.inf)
    logits = torch.einsum("...ld,...sd->...ls", q, k) * q.size(-1) ** -0.5 + bias
    return torch.einsum("...ls,...se->...le", logits.softmax(-1), v)


class SlidingWindowCache:
    def __init__(self, window):
        self.window = window
        self.seen = 0
        self._k, self._v = [], []          # one [B, H, 1, d] tensor per retained position
        self.keys = self.values = None

    def update(self, k_new, v_new):
        self._k += list(k_new.split(1, dim=2))
        self._v += list(v_new.split(1, dim=2))
        self.seen += k_new.size(2)
        k, v = torch.cat(self._k, 2), torch.cat(self._v, 2)
        keep = self.window - 1
        self._k = self._k[-keep:] if keep else []
        self._v = self._v[-keep:] if keep else []
        empty_k, empty_v = k[:, :, :0], v[:, :, :0]
        self.keys = torch.cat(self._k, 2) if self._k else empty_k
        self.values = torch.cat(self._v, 2) if self._v else empty_v
        return k, v
