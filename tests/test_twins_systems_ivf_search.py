"""Library twins of systems/ivf_search: ``faiss.IndexIVFFlat`` with an ``IndexFlatL2`` quantizer
holding the same centroids assigns the same vectors to the same inverted lists and returns the
same squared L2 distances and ids for every (nprobe, k) -- padding with id -1 and distance FLT_MAX
where the contract pads with +inf -- so the reference's recall equals faiss's."""
from pathlib import Path

import numpy as np
import pytest
import torch

from mlkata.engine import load_module

faiss = pytest.importorskip("faiss", reason="faiss-cpu (the test extra) is not installed")

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "systems" / "ivf_search.py"), "_twin_ref_ivf_search")
GRADER = load_module(str(ROOT / "graders" / "systems" / "ivf_search.py"), "_twin_grader_ivf_search")
V = GRADER.V


def faiss_ivf(X, centroids):
    quantizer = faiss.IndexFlatL2(X.shape[1])
    quantizer.add(centroids.numpy())
    index = faiss.IndexIVFFlat(quantizer, X.shape[1], centroids.shape[0])
    index.is_trained = True                      # the coarse quantizer is given: no k-means
    index.add(X.numpy())
    return index, quantizer


@pytest.mark.parametrize("seed,N,D,C", [(0, 500, 8, 16), (1, 300, 16, 10), (2, 100, 4, 25)])
def test_lists_match_faiss_assignment(seed, N, D, C):
    X, centroids, _ = GRADER.clustered(seed, N, D, C)
    _, quantizer = faiss_ivf(X, centroids)
    _, labels = quantizer.search(X.numpy(), 1)
    assert torch.equal(REF.assign(X, centroids), torch.from_numpy(labels[:, 0]).long())
    for c, ids in enumerate(REF.build_ivf(X, centroids)):
        assert ids.tolist() == np.flatnonzero(labels[:, 0] == c).tolist()


@pytest.mark.parametrize("nprobe,k", [(1, 5), (3, 10), (16, 10), (1, 60)])
def test_search_matches_faiss_ivfflat(nprobe, k):
    X, centroids, queries = GRADER.clustered(7, 500, 8, 16)
    index, _ = faiss_ivf(X, centroids)
    index.nprobe = nprobe
    D, I = index.search(queries.numpy(), k)
    want_I = torch.from_numpy(I).long()
    want_D = torch.from_numpy(D).double()
    want_D[want_I == -1] = float("inf")                # faiss pads with FLT_MAX, the contract with +inf
    lists = REF.build_ivf(X, centroids)
    dist, ids = REF.ivf_search(X, centroids, lists, queries, k, nprobe)
    assert torch.equal(ids, want_I)
    torch.testing.assert_close(dist.double(), want_D, rtol=1e-5, atol=1e-4)
    o_dist, o_ids = V.search_oracle(X, centroids, queries, k, nprobe)
    assert torch.equal(o_ids, want_I)
    exact = V.sq(queries, X).topk(min(k, 500), dim=1, largest=False).indices
    assert REF.recall_at_k(ids, exact) == pytest.approx(REF.recall_at_k(want_I, exact))
