"""Library twins of systems/lsh_search.  ``faiss.IndexLSH(d=B, nbits=B, rotate_data=False,
train_thresholds=False)`` sets bit b of a vector's code when its component b is positive and packs
the bits little-endian; fed the projections ``x @ planes[l].T`` it yields the reference's table-l
codes.  With faiss's exhaustive Hamming search as the ranking, the candidates found at Hamming
distance 0 are the reference's bucket mates.  Recall against brute-force cosine k-NN rises with
the number of tables, as the candidate probability predicts."""
from pathlib import Path

import numpy as np
import pytest
import torch

from mlkata.engine import load_module

faiss = pytest.importorskip("faiss", reason="faiss-cpu (the test extra) is not installed")

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "systems" / "lsh_search.py"), "_twin_ref_lsh_search")
GRADER = load_module(str(ROOT / "graders" / "systems" / "lsh_search.py"), "_twin_grader_lsh_search")


def faiss_codes(X, planes_l):
    """Codes of one table from faiss.IndexLSH on the projections (little-endian bytes -> int)."""
    B = planes_l.shape[0]
    index = faiss.IndexLSH(B, B, False, False)
    packed = index.sa_encode(np.ascontiguousarray((X @ planes_l.T).numpy().astype("float32")))
    return torch.tensor([int.from_bytes(bytes(row), "little") for row in packed])


@pytest.mark.parametrize("B", [1, 6, 8, 13, 32])
def test_codes_match_faiss_index_lsh(B):
    X = GRADER.cloud(B, 200, 16)
    planes = REF.random_hyperplanes(3, B, 16, torch.Generator().manual_seed(B))
    codes = REF.hash_codes(X, planes)
    oracle = GRADER.V.codes_oracle(X, planes)
    for l in range(3):
        want = faiss_codes(X, planes[l])
        assert torch.equal(codes[l], want)
        assert torch.equal(oracle[l], want)


def test_bucket_mates_are_faiss_hamming_distance_zero():
    X, q = GRADER.cloud(1, 300, 8), GRADER.cloud(2, 1, 8)
    planes = REF.random_hyperplanes(1, 6, 8, torch.Generator().manual_seed(3))
    index = faiss.IndexLSH(6, 6, False, False)
    index.add(np.ascontiguousarray((X @ planes[0].T).numpy().astype("float32")))
    D, I = index.search(np.ascontiguousarray((q @ planes[0].T).numpy().astype("float32")), 300)
    zero = sorted(int(i) for d, i in zip(D[0], I[0]) if d == 0)
    got = REF.candidates(REF.hash_codes(X, planes), REF.hash_codes(q, planes)[:, 0]).tolist()
    assert got == zero


def test_recall_grows_with_tables_as_the_s_curve_predicts():
    X, queries = GRADER.cloud(10, 2000, 32), GRADER.cloud(11, 50, 32)
    exact = (torch.nn.functional.normalize(queries, dim=1) @ torch.nn.functional.normalize(X, dim=1).T).topk(10).indices
    recalls = []
    for L in (1, 4, 16):
        planes = REF.random_hyperplanes(L, 8, 32, torch.Generator().manual_seed(L))
        _, ids = REF.lsh_search(X, queries, planes, 10)
        recalls.append(np.mean([len(set(ids[q].tolist()) & set(exact[q].tolist())) / 10 for q in range(50)]))
    assert recalls[0] < recalls[1] < recalls[2]
    assert REF.candidate_probability(0.5, 8, 1) < REF.candidate_probability(0.5, 8, 16)
