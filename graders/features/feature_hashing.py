"""Hidden graders of features/feature_hashing: murmurhash3_32 against published MurmurHash3_x86_32
test vectors and the grader's own pure-Python oracle on random str/bytes keys and seeds
(tests/test_twins_features_feature_hashing.py shows both agree with sklearn.utils.murmurhash3_32),
signed vs positive, UTF-8; hash_features against the oracle (the twin test checks it equals
sklearn's FeatureHasher(input_type="string")) for many widths, the abs(h) % n index rule for
negative hashes, the token whose hash is -2**31, alternate_sign=False, repeats and empty samples."""
import struct

import numpy as np
import torch

from mlkata.checks import check, expect, expect_close, expect_equal, visible_module

V = visible_module("features/feature_hashing")


# --------------------------------------------------------------------------------------------
# The oracle: MurmurHash3_x86_32 written from the reference C code with struct
# --------------------------------------------------------------------------------------------

def _mix_k(k):
    k = (k * 0xCC9E2D51) & 0xFFFFFFFF
    k = ((k << 15) & 0xFFFFFFFF) | (k >> 17)
    return (k * 0x1B873593) & 0xFFFFFFFF


def _fmix(h):
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


def oracle_murmur(key, seed=0):
    """Unsigned MurmurHash3_x86_32 of ``key`` (str -> UTF-8)."""
    data = key.encode("utf-8") if isinstance(key, str) else key
    h = seed
    end = len(data) - len(data) % 4
    for (k,) in struct.iter_unpack("<I", data[:end]):
        h ^= _mix_k(k)
        h = ((h << 13) & 0xFFFFFFFF) | (h >> 19)
        h = (h * 5 + 0xE6546B64) & 0xFFFFFFFF
    tail = data[end:] + b"\0" * (4 - len(data) % 4) if len(data) % 4 else b""
    if tail:
        h ^= _mix_k(struct.unpack("<I", tail)[0])
    return _fmix(h ^ len(data))


def signed(u):
    return u - 2**32 if u >= 2**31 else u


def oracle_hash_features(samples, n_features, alternate_sign=True):
    out = np.zeros((len(samples), n_features))
    for i, tokens in enumerate(samples):
        for tok in tokens:
            h = signed(oracle_murmur(tok))
            out[i, abs(h) % n_features] += (-1.0 if (alternate_sign and h < 0) else 1.0)
    return torch.from_numpy(out)


# Widely published MurmurHash3_x86_32 check values: (key, seed, unsigned hash).  Each is verified
# against sklearn.utils.murmurhash3_32 in tests/test_twins_features_feature_hashing.py.
TEST_VECTORS = [
    (b"", 0, 0x00000000), (b"", 1, 0x514E28B7), (b"", 0xFFFFFFFF, 0x81F16F39),
    (b"\xff\xff\xff\xff", 0, 0x76293B50), (b"\x21\x43\x65\x87", 0, 0xF55B516B),
    (b"\x21\x43\x65\x87", 0x5082EDEE, 0x2362F9DE), (b"\x21\x43\x65", 0, 0x7E4A8634),
    (b"\x21\x43", 0, 0xA0F7B07A), (b"\x21", 0, 0x72661CF4), (b"\x00\x00\x00\x00", 0, 0x2362F9DE),
    (b"\x00\x00\x00", 0, 0x85F0B427), (b"\x00\x00", 0, 0x30F4C306), (b"\x00", 0, 0x514E28B7),
    ("aaaa", 0x9747B28C, 0x5A97808A), ("aaa", 0x9747B28C, 0x283E0130), ("aa", 0x9747B28C, 0x5D211726),
    ("a", 0x9747B28C, 0x7FA09EA6), ("abcd", 0x9747B28C, 0xF0478627), ("abc", 0x9747B28C, 0xC84A62DD),
    ("ab", 0x9747B28C, 0x74875592), ("Hello, world!", 0x9747B28C, 0x24884CBA),
    ("ππππππππ", 0x9747B28C, 0xD58063C1), ("a" * 256, 0x9747B28C, 0x37405BDC),
    ("The quick brown fox jumps over the lazy dog", 0x9747B28C, 0x2FA826CD),
]

# Tokens whose signed hash is exactly -2**31 (found by inverting the last block of MurmurHash3):
# abs(-2**31) overflows in int32 arithmetic, numpy's np.abs included.
INT_MIN_TOKENS = ["zwdg5BZL", "bzxgbPh1", "vxpmpDBc"]

ALPHABET = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789 _-.,!") + list("éüßπ日本語中文😀🙂ñø")


def random_keys(seed, n):
    rng = np.random.default_rng(seed)
    keys = []
    for i in range(n):
        length = int(rng.integers(0, 41))
        s = "".join(rng.choice(ALPHABET, size=length).tolist())
        keys.append(s.encode("utf-8") if i % 5 == 4 else s)
    return keys


def random_samples(seed, n_samples=None):
    rng = np.random.default_rng(seed)
    vocab = random_keys(seed + 1000, 40)
    n_samples = n_samples or int(rng.integers(1, 8))
    return [[vocab[j] for j in rng.integers(0, len(vocab), size=int(rng.integers(0, 25)))] for _ in range(n_samples)]


MURMUR = ("MurmurHash3_x86_32: little-endian 4-byte blocks (k *= c1, rotl 15, *= c2; h ^= k, rotl 13, h * 5 + "
          "0xe6546b64), the 1-3 byte tail, h ^= byte length, fmix32 -- all mod 2**32")
TRICK = ("each token occurrence adds sign(h) (-1 when the signed hash h < 0) to column abs(h) % n_features; "
         "repeats add up")


@check("murmurhash3_32 reproduces the published MurmurHash3_x86_32 test vectors (signed and positive)", points=2)
def test_vectors(run):
    for key, seed, want in TEST_VECTORS:
        got = run(V.hashes, [key], seed=seed, positive=True)
        expect_equal(got, [want], MURMUR, what=f"murmurhash3_32({key!r:.40}, seed={seed:#x}, positive=True)")
        got = run(V.hashes, [key], seed=seed)
        expect_equal(got, [signed(want)], "the default result is the hash read as a SIGNED 32-bit int",
                     what=f"murmurhash3_32({key!r:.40}, seed={seed:#x})")


@check("murmurhash3_32 agrees with sklearn.utils.murmurhash3_32 on random str/bytes keys and seeds", points=2)
def random_keys_agree(run):
    rng = np.random.default_rng(7)
    for seed_idx in range(4):
        seed = int(rng.integers(0, 2**32)) if seed_idx else 0
        keys = random_keys(seed_idx, 60)
        got = run(V.hashes, keys, seed=seed)
        want = [signed(oracle_murmur(k, seed)) for k in keys]
        expect(isinstance(got, list) and len(got) == len(want), MURMUR, f"expected {len(want)} hashes")
        for k, g, w in zip(keys, got, want):
            expect_equal(g, w, MURMUR, what=f"murmurhash3_32({k!r:.50}, seed={seed})")


@check("positive=True gives h mod 2**32 of the signed hash; every result is a 32-bit int in its range")
def signed_and_positive(run):
    keys = random_keys(11, 50)
    got_s = run(V.hashes, keys)
    got_u = run(V.hashes, keys, positive=True)
    for k, s, u in zip(keys, got_s, got_u):
        expect(isinstance(s, int) and -2**31 <= s < 2**31, "the signed hash is an int in [-2**31, 2**31)",
               f"murmurhash3_32({k!r:.40}) returned {s!r}")
        expect(isinstance(u, int) and 0 <= u < 2**32, "positive=True returns an int in [0, 2**32)",
               f"murmurhash3_32({k!r:.40}, positive=True) returned {u!r}")
        expect_equal(u, oracle_murmur(k), MURMUR, what=f"murmurhash3_32({k!r:.40}, positive=True)")
        expect_equal(s % 2**32, u, "signed and positive are the same 32 bits", what=f"murmurhash3_32({k!r:.40}) mod 2**32")


@check("a str hashes as its UTF-8 bytes: accents, CJK and emoji (2-4 bytes per character)")
def utf8_keys(run):
    keys = ["é", "日本語", "😀", "naïve café", "ß" * 7, "中文🙂x", "ñø" * 5]
    got_s = run(V.hashes, keys, seed=3)
    got_b = run(V.hashes, [k.encode("utf-8") for k in keys], seed=3)
    for k, s, b in zip(keys, got_s, got_b):
        want = signed(oracle_murmur(k, 3))
        expect_equal(s, want, "hash key.encode('utf-8'); the length xored in at the end is the number of bytes, "
                     f"{len(k.encode('utf-8'))} for {k!r}, not of characters ({len(k)})", what=f"murmurhash3_32({k!r}, seed=3)")
        expect_equal(b, want, "bytes keys are hashed as they are", what=f"murmurhash3_32({k.encode('utf-8')!r}, seed=3)")


@check("hash_features equals sklearn's FeatureHasher(input_type='string') on random samples and widths", points=2)
def hash_features_agree(run):
    for seed, n in zip(range(6), (8, 7, 100, 1000, 3, 2**16)):
        samples = random_samples(seed)
        got = run(V.hashed, samples, n)
        expect_close(got, oracle_hash_features(samples, n), TRICK, rtol=0, atol=0,
                     what=f"hash_features({len(samples)} samples, n_features={n}, seed {seed})")


@check("negative hashes go to abs(h) % n, not h % n (Python's % of a negative number differs)")
def negative_index_rule(run):
    tokens = ["abc", "world", "dog", "mat", "the"]          # all have h < 0
    for n in (7, 10, 12):
        got = run(V.hashed, [[tok] for tok in tokens], n)
        expect_close(got, oracle_hash_features([[tok] for tok in tokens], n), "the column is abs(h) % n_features with "
                     "the SIGNED hash h (h % n gives n - abs(h) % n for a negative h)", rtol=0, atol=0,
                     what=f"hash_features([['abc'], ['world'], ['dog'], ['mat'], ['the']], {n})")


@check("the tokens whose hash is -2**31 go to column 2**31 % n with sign -1 (no int32 overflow)")
def int_min_tokens(run):
    got = run(V.hashes, INT_MIN_TOKENS)
    expect_equal(got, [-2**31] * 3, MURMUR, what=f"murmurhash3_32({INT_MIN_TOKENS})")
    for n in (7, 10, 1000):
        got = run(V.hashed, [[tok] for tok in INT_MIN_TOKENS], n)
        expect_close(got, oracle_hash_features([[tok] for tok in INT_MIN_TOKENS], n),
                     "abs(-2**31) is 2**31 with Python ints; with int32 (numpy) it overflows back to -2**31, and a "
                     "negative index then lands in the wrong column", rtol=0, atol=0,
                     what=f"hash_features of {INT_MIN_TOKENS} with n_features={n} (column 2**31 % {n} = {2**31 % n})")


@check("alternate_sign=False adds +1 for every occurrence")
def no_alternate_sign(run):
    samples = random_samples(21, 4)
    got = run(V.hashed, samples, 16, alternate_sign=False)
    expect_close(got, oracle_hash_features(samples, 16, alternate_sign=False), "without alternate_sign every token "
                 "adds +1 (the column is still abs(h) % n_features)", rtol=0, atol=0,
                 what="hash_features(..., 16, alternate_sign=False)")


@check("samples as tuples, bytes tokens, empty samples, n_features=1; the result is float64 (n_samples, n_features)")
def input_forms_and_edges(run):
    samples = [("a", b"a", "a"), (), ("x", "y", "z", "x"), (b"\xff\x00",)]
    for n in (1, 5):
        got = run(V.hashed, samples, n)
        expect_close(got, oracle_hash_features(samples, n), TRICK + "; a str and its UTF-8 bytes are the same token; "
                     "an empty sample is a row of zeros", rtol=0, atol=0, check_dtype=True,
                     what=f"hash_features([('a', b'a', 'a'), (), ('x', 'y', 'z', 'x'), (b'\\xff\\x00',)], {n})")
