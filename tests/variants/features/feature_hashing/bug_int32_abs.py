# BUG: vectorised with numpy int32 hashes: np.abs(-2**31) overflows to -2**31, so that token's column is wrong.
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
    if positive:
        return h
    return h - (1 << 32) if h >= 1 << 31 else h


def hash_features(samples, n_features, alternate_sign=True):
    samples = list(samples)
    out = np.zeros((len(samples), n_features), dtype=np.float64)
    for row, tokens in enumerate(samples):
        tokens = list(tokens)
        if not tokens:
            continue
        h = np.array([murmurhash3_32(t) for t in tokens], dtype=np.int32)
        with np.errstate(over="ignore"):
            cols = np.abs(h) % n_features
        signs = np.where(alternate_sign & (h < 0), -1.0, 1.0)
        np.add.at(out[row], cols, signs)
    return out
