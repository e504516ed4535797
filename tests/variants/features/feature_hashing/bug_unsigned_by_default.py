# BUG: returns the unsigned hash by default and takes the sign from it, so every sign is +1 and columns use h mod n unsigned.
import numpy as np

MASK = 0xFFFFFFFF


def _rotl32(x, r):
    return ((x << r) | (x >> (32 - r))) & MASK


def murmurhash3_32(key, seed=0, positive=False):
    data = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & MASK
    n_blocks = len(data) // 4
    for i in range(n_blocks):
        k = int.from_bytes(data[4 * i: 4 * i + 4], "little")
        k = _rotl32((k * c1) & MASK, 15) * c2 & MASK
        h = _rotl32(h ^ k, 13)
        h = (h * 5 + 0xE6546B64) & MASK
    tail = data[4 * n_blocks:]
    if tail:
        k = int.from_bytes(tail, "little")
        k = _rotl32((k * c1) & MASK, 15) * c2 & MASK
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK
    h ^= h >> 16
    return h


def hash_features(samples, n_features, alternate_sign=True):
    samples = list(samples)
    out = np.zeros((len(samples), n_features), dtype=np.float64)
    for row, tokens in enumerate(samples):
        for token in tokens:
            h = murmurhash3_32(token, seed=0)
            sign = -1.0 if alternate_sign and h < 0 else 1.0
            out[row, abs(h) % n_features] += sign
    return out
