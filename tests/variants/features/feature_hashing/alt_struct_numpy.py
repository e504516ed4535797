# CORRECT, written differently: blocks unpacked with struct into a tuple, the tail zero-padded to a full
# little-endian word, the sign conversion done with struct ('<i' of the '<I' bytes); hash_features collects
# (row, column, value) triples and accumulates them with np.add.at, using Python ints for abs().
import struct

import numpy as np

M32 = 0xFFFFFFFF


def _scramble(k):
    k = (k * 0xCC9E2D51) & M32
    k = ((k << 15) | (k >> 17)) & M32
    return (k * 0x1B873593) & M32


def murmurhash3_32(key, seed=0, positive=False):
    data = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    n_full = len(data) // 4
    h = seed & M32
    for k in struct.unpack("<%dI" % n_full, data[: 4 * n_full]):
        h ^= _scramble(k)
        h = ((h << 13) | (h >> 19)) & M32
        h = (h * 5 + 0xE6546B64) & M32
    rest = data[4 * n_full:]
    if rest:
        h ^= _scramble(struct.unpack("<I", rest.ljust(4, b"\0"))[0])
    h ^= len(data)
    for shift, mult in ((16, 0x85EBCA6B), (13, 0xC2B2AE35)):
        h = ((h ^ (h >> shift)) * mult) & M32
    h ^= h >> 16
    return h if positive else struct.unpack("<i", struct.pack("<I", h))[0]


def hash_features(samples, n_features, alternate_sign=True):
    rows, cols, vals = [], [], []
    n = 0
    for i, sample in enumerate(samples):
        n = i + 1
        for tok in sample:
            h = murmurhash3_32(tok)
            rows.append(i)
            cols.append(int(abs(h)) % n_features)
            vals.append(-1.0 if (h < 0 and alternate_sign) else 1.0)
    out = np.zeros((n, n_features))
    np.add.at(out, (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)), np.array(vals))
    return out
