"""Visible checks: MurmurHash3_x86_32 on published test vectors (empty key with seeds 0 and 1,
'abc', keys of 1 to 5 bytes for the tail), UTF-8 keys, and the signed hashing trick on two tiny
samples (values from sklearn.utils.murmurhash3_32 and sklearn's FeatureHasher)."""
import numpy as np
import torch

from mlkata.checks import check, expect_close, expect_equal, probe


@probe
def hashes(sub, keys, seed=None, positive=None):
    """``sub.murmurhash3_32(key, seed, positive)`` for every key; an option left at None is left out
    of the call, so its default (seed 0, positive False) is what is checked."""
    options = {k: v for k, v in dict(seed=seed, positive=positive).items() if v is not None}
    return [sub.murmurhash3_32(k, **options) for k in keys]


@probe
def hashed(sub, samples, n_features, alternate_sign=None):
    """``sub.hash_features``; ``alternate_sign=None`` leaves it at its default (True)."""
    out = (sub.hash_features(samples, n_features) if alternate_sign is None
           else sub.hash_features(samples, n_features, alternate_sign=alternate_sign))
    return out.copy() if isinstance(out, np.ndarray) else out


@check("murmurhash3_32: '' -> 0 (seed 0) and 1364076727 (seed 1); 'abc' -> -1277324294, or 3017643002 positive")
def known_vectors(run):
    expect_equal(run(hashes, ["", "abc"]), [0, -1277324294], "MurmurHash3_x86_32 of the UTF-8 "
                 "bytes, returned as a SIGNED 32-bit int by default", what="murmurhash3_32(['', 'abc'], seed=0)")
    expect_equal(run(hashes, [""], seed=1), [1364076727], "the seed is the initial state h; for an empty key "
                 "only h ^= 0 and fmix32 act on it", what="murmurhash3_32('', seed=1)")
    expect_equal(run(hashes, ["abc"], positive=True), [3017643002], "positive=True returns the same 32 bits "
                 "as an unsigned int in [0, 2**32)", what="murmurhash3_32('abc', positive=True)")


@check("keys of 1 to 5 bytes exercise the tail and one full block (seed 0x9747b28c)")
def tails(run):
    got = run(hashes, ["a", "ab", "abc", "abcd", "abcde"], seed=0x9747B28C)
    expect_equal(got, [2141232806, 1955026322, -934649123, -263748057, -384452558],
                 "full 4-byte blocks and the 1-3 byte tail are read little-endian; the tail is mixed with c1, "
                 "rotl 15, c2 and xored into h (no rotl 13 / *5 step)", what="murmurhash3_32(['a' .. 'abcde'], seed=0x9747b28c)")


@check("a str is hashed as its UTF-8 bytes: 'é日本' (8 bytes, 3 characters) and its bytes give the same hash")
def utf8(run):
    key = "é日本"
    got = run(hashes, [key, key.encode("utf-8")], seed=5)
    expect_equal(got, [-1847903526, -1847903526], "hash key.encode('utf-8'); the length mixed in at the end "
                 "is the number of BYTES (8 here), not of characters (3)", what="murmurhash3_32(['é日本', b'...'], seed=5)")


@check("hash_features: column abs(h) % n, sign -1 where h < 0; repeats add up and opposite signs cancel")
def hashing_trick(run):
    got = run(hashed, [["abc", "abc", "hello"], []], 10)
    # h('abc') = -1277324294 -> column 4, sign -1 (twice); h('hello') = 613153351 -> column 1, sign +1
    want = torch.zeros(2, 10, dtype=torch.float64)
    want[0, 4], want[0, 1] = -2.0, 1.0
    expect_close(got, want, "each occurrence adds sign(h) to column abs(h) % n_features (repeats add up); an empty "
                 "sample is a row of zeros", what="hash_features([['abc', 'abc', 'hello'], []], 10)")
    got = run(hashed, [["the", "cat", "sat", "on", "the", "mat"]], 5)
    expect_close(got, torch.tensor([[1.0, -1.0, 0.0, -2.0, 0.0]], dtype=torch.float64),
                 "'cat' (+1) and 'mat' (-1) collide in column 4 and cancel; 'the' twice gives -2 in column 3",
                 what="hash_features([['the', 'cat', 'sat', 'on', 'the', 'mat']], 5)")
