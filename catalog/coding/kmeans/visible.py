"""Visible checks: Lloyd's iterations on four points, max_iter=0, an empty cluster, what
k-means++ returns, and two far-apart blobs."""
import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_equal, probe


@probe
def seeding(sub, X, k, seed):
    """``sub.kmeans_plusplus`` with a fresh generator seeded ``seed``; also X afterwards."""
    return {"centres": sub.kmeans_plusplus(X, k, torch.Generator().manual_seed(seed)), "X_after": X}


@probe
def seeding_many(sub, X, k, seeds):
    """``kmeans_plusplus`` once per seed; stacked ``(len(seeds), k, d)`` when every result is a tensor of one shape."""
    outs = [sub.kmeans_plusplus(X, k, torch.Generator().manual_seed(s)) for s in seeds]
    if all(isinstance(o, torch.Tensor) for o in outs) and len({tuple(o.shape) for o in outs}) == 1:
        return torch.stack(outs)
    return outs


@probe
def run_lloyd(sub, X, init, max_iter=300):
    out = sub.lloyd(X, init, max_iter)
    return {"out": out, "X_after": X, "init_after": init}


@probe
def lloyd_many(sub, X, init, max_iters):
    return [run_lloyd.fn(sub, X, init.clone(), m) for m in max_iters]


@probe
def run_kmeans(sub, X, k, max_iter, seed):
    out = sub.kmeans(X, k, max_iter, torch.Generator().manual_seed(seed))
    return {"out": out, "X_after": X}


def result(got, n, k, d, what, dtype=None):
    """Judge side: ``(centres (k, d), labels (n,) int64, inertia)`` of a fit, or a Fail naming what is off."""
    rule = "return (centres (k, d), labels (n,) int64, inertia as a 0-dim tensor)"
    out = got["out"]
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise Fail(rule, f"{what}: expected a tuple of 3, your code returned {describe(out)}")
    C, labels, inertia = out
    if not isinstance(C, torch.Tensor) or tuple(C.shape) != (k, d):
        raise Fail(rule, f"{what}: expected centres of shape [{k}, {d}], your code returned {describe(C)}")
    if C.dtype.is_floating_point and not torch.isfinite(C).all():
        raise Fail("the centres stay finite: a centre without points keeps its position (never divide by a count "
                   "of 0)", f"{what}: your centres contain nan or inf: {C.tolist()}")
    if dtype is not None and C.dtype != dtype:
        raise Fail("the centres have X's dtype", f"{what}: expected {dtype}, your centres are {C.dtype}")
    if not isinstance(labels, torch.Tensor) or tuple(labels.shape) != (n,) or labels.dtype != torch.int64:
        raise Fail(rule, f"{what}: expected labels of shape [{n}] and dtype int64, your code returned "
                         f"{describe(labels)}")
    if isinstance(inertia, torch.Tensor) and inertia.numel() == 1:
        inertia = float(inertia)
    if not isinstance(inertia, float):
        raise Fail(rule, f"{what}: expected the inertia as a 0-dim tensor, your code returned {describe(inertia)}")
    return C, labels, inertia


X4 = torch.tensor([[0.0, 0.0], [0.0, 2.0], [10.0, 0.0], [10.0, 4.0]], dtype=torch.float64)


@check("lloyd: the points join their nearest centre and each centre moves to the mean of its points")
def four_points(run):
    init = torch.tensor([[1.0, 1.0], [8.0, 1.0]], dtype=torch.float64)
    C, labels, inertia = result(run(run_lloyd, X4, init), 4, 2, 2, "lloyd(4 points, 2 centres)")
    expect_equal(labels, torch.tensor([0, 0, 1, 1]), "each point is labelled with its nearest centre",
                 what="labels")
    expect_close(C, torch.tensor([[0.0, 1.0], [10.0, 2.0]], dtype=torch.float64),
                 "each centre moves to the mean of the points assigned to it", what="centres")
    expect_close(inertia, 1.0 + 1.0 + 4.0 + 4.0, "inertia = sum of squared distances to the nearest centre",
                 what="inertia")


@check("lloyd with max_iter=0 returns the starting centres, their labels and their inertia")
def zero_iterations(run):
    init = torch.tensor([[1.0, 1.0], [8.0, 1.0]], dtype=torch.float64)
    C, labels, inertia = result(run(run_lloyd, X4, init, 0), 4, 2, 2, "lloyd(..., max_iter=0)")
    expect_close(C, init, "max_iter counts update steps: with 0 the centres are the starting ones", what="centres")
    expect_equal(labels, torch.tensor([0, 0, 1, 1]), "the labels are the nearest-centre labels of the returned "
                 "centres", what="labels")
    expect_close(inertia, 2.0 + 2.0 + 5.0 + 13.0, "the inertia is that of the returned centres", what="inertia")


@check("a centre that gets no points stays where it is (no nan from dividing by a count of 0)")
def empty_cluster(run):
    init = torch.tensor([[0.0, 1.0], [10.0, 2.0], [100.0, 100.0]], dtype=torch.float64)
    C, labels, _ = result(run(run_lloyd, X4, init), 4, 3, 2, "lloyd with a far-away third centre")
    expect_close(C, init, "a centre with no points keeps its position; the others are already the means",
                 what="centres")
    expect_equal(labels, torch.tensor([0, 0, 1, 1]), "no point is nearest to the far-away centre", what="labels")


@check("kmeans_plusplus returns k distinct rows of X; with k = n every row once")
def seeding_rows(run):
    X = torch.tensor([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0], [6.0, 5.0], [9.0, 0.0]], dtype=torch.float64)
    for k in (2, 5):
        C = run(seeding, X, k, 0)["centres"]
        if not isinstance(C, torch.Tensor) or tuple(C.shape) != (k, 2):
            raise Fail("kmeans_plusplus returns a (k, d) tensor", f"k={k}: your code returned {describe(C)}")
        rows = [int(((X - c) ** 2).sum(1).argmin()) for c in C]
        expect(all(bool((X[r] == c).all()) for r, c in zip(rows, C)), "every centre is a row of X",
               f"k={k}: centres {C.tolist()}")
        expect(len(set(rows)) == k, "a chosen row has D = 0 and is never drawn again: the centres are distinct",
               f"k={k}: centres are rows {rows}")


@check("kmeans finds two far-apart blobs")
def two_blobs(run):
    g = torch.Generator().manual_seed(0)
    X = torch.cat([torch.randn(20, 2, generator=g, dtype=torch.float64),
                   torch.randn(20, 2, generator=g, dtype=torch.float64) + 1000.0])
    C, labels, _ = result(run(run_kmeans, X, 2, 100, 0), 40, 2, 2, "kmeans(two blobs, k=2)")
    same = bool((labels[:20] == labels[0]).all() and (labels[20:] == labels[20]).all() and labels[0] != labels[20])
    expect(same, "k-means++ puts the second centre in the far blob (D^2 is huge there), then Lloyd separates them",
           f"labels: {labels.tolist()}")
    want = torch.stack([X[:20].mean(0), X[20:].mean(0)])
    expect_close(C[[int(labels[0]), int(labels[20])]], want, "each centre ends at the mean of its blob",
                 what="centres")
