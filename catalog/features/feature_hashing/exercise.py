"""The hashing trick: a fixed-width feature vector for any vocabulary, with MurmurHash3.

A one-hot or bag-of-words encoder must store a vocabulary, and a token it never saw has no
column.  *Feature hashing* (Weinberger et al., 2009, "Feature Hashing for Large Scale Multitask
Learning") stores nothing: the column of a token is computed from the token itself,

    column(t) = |h(t)| mod n_features,

with h a fast, well-mixed 32-bit hash.  Different tokens may collide in one column; to keep
collisions from biasing inner products in one direction, each token also gets a sign from the
hash, ``+1`` when ``h(t) >= 0`` (as a signed 32-bit integer) and ``-1`` otherwise, so colliding
contributions cancel on average instead of piling up.

The hash must be deterministic across processes and machines -- Python's built-in ``hash`` of a
str is salted per process, so it is useless here.  The standard choice is MurmurHash3_x86_32
(Austin Appleby, public domain; the spec is the reference C code ``MurmurHash3_x86_32`` in
``smhasher``), over the UTF-8 bytes of the token:

* state ``h = seed``; constants ``c1 = 0xcc9e2d51``, ``c2 = 0x1b873593``; all arithmetic mod 2^32;
* for each full 4-byte block, read as a **little-endian** uint32 ``k``:
  ``k *= c1; k = rotl32(k, 15); k *= c2; h ^= k; h = rotl32(h, 13); h = h * 5 + 0xe6546b64``;
* the 1-3 leftover *tail* bytes ``t0, t1, t2`` form ``k = t0 | t1 << 8 | t2 << 16`` (only those
  present), then -- if there was a tail -- ``k *= c1; k = rotl32(k, 15); k *= c2; h ^= k``;
* ``h ^= len(bytes)`` (the number of BYTES, not of characters);
* finaliser ``fmix32``: ``h ^= h >> 16; h *= 0x85ebca6b; h ^= h >> 13; h *= 0xc2b2ae35; h ^= h >> 16``.

Python integers never overflow, so every product must be masked back to 32 bits (``& 0xFFFFFFFF``).
This mirrors ``sklearn.utils.murmurhash3_32`` and
``sklearn.feature_extraction.FeatureHasher(input_type="string", alternate_sign=True)``
(dense here instead of a sparse matrix).  Write it in plain Python and numpy, without
scikit-learn or the ``mmh3`` package.
"""
from typing import Iterable, Union

import numpy as np

MASK = 0xFFFFFFFF


def _rotl32(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & MASK


def murmurhash3_32(key: Union[str, bytes], seed: int = 0, positive: bool = False) -> int:
    """MurmurHash3_x86_32 of ``key``.

    Args:
        key: a str (hashed as its UTF-8 bytes) or bytes.
        seed: the initial state, an int in ``[0, 2**32)``.
        positive: return the hash as an unsigned int in ``[0, 2**32)`` instead of signed.

    Returns:
        a Python int: the 32-bit hash read as signed (``[-2**31, 2**31)``), or unsigned when
        ``positive``.  Equal to ``sklearn.utils.murmurhash3_32(key, seed, positive)``.
    """
    ### BEGIN SOLUTION
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
        k = int.from_bytes(tail, "little")                # t0 | t1 << 8 | t2 << 16
        k = _rotl32((k * c1) & MASK, 15) * c2 & MASK
        h ^= k
    h ^= len(data)
    h ^= h >> 16                                          # fmix32
    h = (h * 0x85EBCA6B) & MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK
    h ^= h >> 16
    if positive:
        return h
    return h - (1 << 32) if h >= 1 << 31 else h
    ### END SOLUTION


def hash_features(samples: Iterable[Iterable[Union[str, bytes]]], n_features: int,
                  alternate_sign: bool = True) -> np.ndarray:
    """Hash every sample's tokens into a dense row of ``n_features`` counts.

    Args:
        samples: a sequence of samples; each sample is an iterable of tokens (str or bytes),
            possibly empty, possibly with repeats.
        n_features: the number of columns, a positive int (need not be a power of two).
        alternate_sign: give each token the sign of its hash (else every token adds +1).

    Each occurrence of a token ``t`` with ``h = murmurhash3_32(t, seed=0)`` (signed) adds
    ``+1`` (``h >= 0`` or not ``alternate_sign``) or ``-1`` (``h < 0``) to column
    ``abs(h) % n_features`` of its row: repeats add up, and colliding tokens of opposite signs
    can cancel to 0.

    Returns:
        float64 array of shape ``(n_samples, n_features)``, equal to
        ``FeatureHasher(n_features, input_type="string", alternate_sign=...).transform(samples).toarray()``.
    """
    ### BEGIN SOLUTION
    samples = list(samples)
    out = np.zeros((len(samples), n_features), dtype=np.float64)
    for row, tokens in enumerate(samples):
        for token in tokens:
            h = murmurhash3_32(token, seed=0)
            sign = -1.0 if alternate_sign and h < 0 else 1.0
            out[row, abs(h) % n_features] += sign         # Python ints: abs(-2**31) is fine
    return out
    ### END SOLUTION
