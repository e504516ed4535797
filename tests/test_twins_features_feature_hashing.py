"""features/feature_hashing against scikit-learn: the grader's published test vectors and INT_MIN
tokens, the reference (solutions/) and the grader's own MurmurHash3 oracle (graders/) all agree with
``sklearn.utils.murmurhash3_32`` (signed and positive, str and bytes keys, random seeds); the
reference's ``hash_features`` and the grader's oracle equal
``sklearn.feature_extraction.FeatureHasher(n_features, input_type="string", alternate_sign=...)``,
densified, on the grader's random samples (sklearn's ``_hashing_fast.transform``: column
``abs(h) % n`` with its special case for h = -2**31, sign ``(h >= 0) * 2 - 1``)."""
import numpy as np
import pytest

sk_utils = pytest.importorskip("sklearn.utils")
sk_fe = pytest.importorskip("sklearn.feature_extraction")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "features" / "feature_hashing.py"), "twins_features_fh_reference")
ORACLE = load_module(str(ROOT / "graders" / "features" / "feature_hashing.py"), "twins_features_fh_grader")


@pytest.mark.parametrize("key,seed,want", ORACLE.TEST_VECTORS)
def test_published_vectors_match_sklearn(key, seed, want):
    assert sk_utils.murmurhash3_32(key, seed=seed, positive=True) == want
    assert REF.murmurhash3_32(key, seed=seed, positive=True) == want
    assert REF.murmurhash3_32(key, seed=seed) == sk_utils.murmurhash3_32(key, seed=seed)
    assert ORACLE.oracle_murmur(key, seed) == want


def test_int_min_tokens():
    for tok in ORACLE.INT_MIN_TOKENS:
        assert sk_utils.murmurhash3_32(tok) == REF.murmurhash3_32(tok) == -2**31


@pytest.mark.parametrize("seed_idx", range(6))
def test_random_keys_match_sklearn(seed_idx):
    seed = [0, 1, 0x9747B28C, 2**32 - 1, 12345, 2**31][seed_idx]
    for key in ORACLE.random_keys(100 + seed_idx, 200):
        want = sk_utils.murmurhash3_32(key, seed=seed)
        assert REF.murmurhash3_32(key, seed=seed) == want
        assert ORACLE.signed(ORACLE.oracle_murmur(key, seed)) == want
        assert REF.murmurhash3_32(key, seed=seed, positive=True) == sk_utils.murmurhash3_32(key, seed=seed, positive=True)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("alternate_sign", [True, False])
def test_hash_features_match_feature_hasher(seed, alternate_sign):
    samples = ORACLE.random_samples(seed)
    samples.append(list(ORACLE.INT_MIN_TOKENS) + ["abc", "world"])
    for n in (1, 3, 7, 8, 100, 1000, 2**16):
        want = sk_fe.FeatureHasher(n_features=n, input_type="string",
                                   alternate_sign=alternate_sign).transform(samples).toarray()
        np.testing.assert_array_equal(REF.hash_features(samples, n, alternate_sign=alternate_sign), want)
        np.testing.assert_array_equal(ORACLE.oracle_hash_features(samples, n, alternate_sign).numpy(), want)
