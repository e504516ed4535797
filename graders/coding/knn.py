"""Hidden graders of coding/knn: pairwise distances against float64 differences (tolerance scaled
to what the expansion can achieve), the stability tier (a point's distance to itself, data far
from the origin), neighbours, votes and means against a brute-force loop (tests/
test_twins_coding_knn.py shows the loop agrees with scikit-learn's brute-force k-NN on tie-free
data), tie rules on integer grids where distances are exact, arbitrary labels, bad arguments,
dtypes and untouched inputs."""
import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_equal, visible_module

V = visible_module("coding/knn")


# --------------------------------------------------------------------------------------------
# Oracles: brute force, one query at a time, float64
# --------------------------------------------------------------------------------------------

def brute_neighbours(X_train, X_query, k):
    """(distances, indices) of the k nearest training rows of every query; ties by lower index."""
    Xt, Xq = X_train.double(), X_query.double()
    dists, idxs = [], []
    for q in Xq:
        d2 = [float(((x - q) ** 2).sum()) for x in Xt]
        order = sorted(range(len(d2)), key=lambda i: (d2[i], i))[:k]
        idxs.append(order)
        dists.append([d2[i] ** 0.5 for i in order])
    return torch.tensor(dists, dtype=torch.float64), torch.tensor(idxs, dtype=torch.int64)


def brute_predict(X_train, y_train, X_query, k, task="classification"):
    _, idx = brute_neighbours(X_train, X_query, k)
    out = []
    for row in idx.tolist():
        labels = [y_train[i].item() for i in row]
        if task == "regression":
            out.append(sum(labels) / k)
        else:
            counts = {v: labels.count(v) for v in labels}
            top = max(counts.values())
            out.append(min(v for v, c in counts.items() if c == top))
    return torch.tensor(out, dtype=torch.int64 if task == "classification" else y_train.dtype)


def data(seed, n=None, q=None, d=None, dtype=torch.float64, grid=False, scale=1.0, offset=0.0):
    """Random (X_train, X_query); on a small integer grid when ``grid`` (exact distances, many ties)."""
    g = torch.Generator().manual_seed(seed)
    n = n or int(torch.randint(5, 40, (), generator=g))
    q = q or int(torch.randint(1, 15, (), generator=g))
    d = d or int(torch.randint(1, 5, (), generator=g))
    if grid:
        Xt, Xq = torch.randint(-4, 5, (n, d), generator=g), torch.randint(-4, 5, (q, d), generator=g)
        return Xt.to(dtype), Xq.to(dtype)
    Xt = torch.randn(n, d, generator=g, dtype=torch.float64) * scale + offset
    Xq = torch.randn(q, d, generator=g, dtype=torch.float64) * scale + offset
    return Xt.to(dtype), Xq.to(dtype)


def expect_distances(got, A, B, rule, what, slack=8.0):
    """``got`` = ||A[i] - B[j]|| up to what the expansion can round: |got^2 - true^2| <= slack * eps * scale."""
    out = got
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (A.shape[0], B.shape[0]):
        raise Fail(rule, f"{what}: expected a tensor of shape [{A.shape[0]}, {B.shape[0]}], your code returned "
                         f"{describe(out)}")
    if not torch.isfinite(out).all() or (out < 0).any():
        bad = (~torch.isfinite(out)) | (out < 0)
        i, j = (int(v) for v in torch.nonzero(bad)[0])
        raise Fail("clamp the squared distances at 0 before sqrt: ||a||^2 + ||b||^2 - 2 a.b can round below 0 "
                   "for nearby points, and sqrt of a negative number is nan",
                   f"{what}: {int(bad.sum())} entries are nan, inf or negative, e.g. out[{i}, {j}] = "
                   f"{out[i, j].item()}")
    A64, B64 = A.double(), B.double()
    true2 = ((A64[:, None, :] - B64[None, :, :]) ** 2).sum(-1)            # (m, n)
    scale = (A64 ** 2).sum(1)[:, None] + (B64 ** 2).sum(1)[None, :]
    err = (out.double() ** 2 - true2).abs()
    allowed = slack * torch.finfo(A.dtype).eps * scale + 1e-300
    if (err > allowed).any():
        i, j = (int(v) for v in torch.nonzero(err > allowed)[0])
        raise Fail(rule, f"{what}: out[{i}, {j}] = {out[i, j].item():.10g}, expected {true2[i, j].sqrt().item():.10g} "
                         f"(squared: {out[i, j].item() ** 2:.10g} vs {true2[i, j].item():.10g})")


# --------------------------------------------------------------------------------------------
# pairwise_distances
# --------------------------------------------------------------------------------------------

@check("pairwise_distances agrees with the float64 differences on random inputs of every shape", points=2)
def distances_agree(run):
    for s in range(8):
        A, B = data(100 + s, scale=3.0)
        if s == 0:
            A, B = A[:1], B[:1]                                          # 1 x 1
        got = run(V.distances, A, B)["out"]
        expect_distances(got, A, B, "out[i, j] = ||A[i] - B[j]||, for every pair (m x n, any d)",
                         f"pairwise_distances(A {list(A.shape)}, B {list(B.shape)})")


@check("a point's distance to itself is 0 (not nan), also far from the origin in float32", points=2)
def self_distances(run):
    for dtype, offset in ((torch.float32, 1e3), (torch.float32, 0.0), (torch.float64, 1e6)):
        A, _ = data(200, n=60, d=8, dtype=dtype, offset=offset)
        got = run(V.distances, A, A)["out"]
        what = f"pairwise_distances(A, A) for 60 {dtype} points around {offset:g}"
        expect_distances(got, A, A, "distances computed by the expansion are accurate to rounding", what)
        diag = got.diagonal().double()
        limit = (8 * torch.finfo(dtype).eps * 2 * (A.double() ** 2).sum(1)).sqrt()
        expect(bool((diag <= limit).all()), "the distance of a point to itself is 0 up to rounding",
               f"{what}: the diagonal reaches {diag.max().item():.3g}")


@check("pairwise_distances keeps the dtype (float32, float64) and modifies neither input")
def distances_dtype(run):
    for dtype in (torch.float32, torch.float64):
        A, B = data(300, n=7, q=5, d=3, dtype=dtype)
        got = run(V.distances, A, B)
        out = got["out"]
        expect_distances(out, A, B, "out[i, j] = ||A[i] - B[j]||, the Euclidean distance", f"{dtype} inputs")
        expect(isinstance(out, torch.Tensor) and out.dtype == dtype, f"the distances have A's dtype ({dtype})",
               f"your code returned {describe(out)}")
        expect_close(got["A_after"], A, "pairwise_distances must not modify A", rtol=0, atol=0, what="A after")
        expect_close(got["B_after"], B, "pairwise_distances must not modify B", rtol=0, atol=0, what="B after")


# --------------------------------------------------------------------------------------------
# kneighbors
# --------------------------------------------------------------------------------------------

@check("kneighbors agrees with a brute-force loop on random data (k from 1 to n)", points=2)
def neighbours_agree(run):
    for s in range(8):
        Xt, Xq = data(400 + s)
        n = Xt.shape[0]
        k = max(1, min(n, [1, n, 2, 3, 5, n - 1, 4, 7][s]))
        got = run(V.neighbours, Xt, Xq, k)
        want_d, want_i = brute_neighbours(Xt, Xq, k)
        what = f"kneighbors(n={n}, q={Xq.shape[0]}, d={Xt.shape[1]}, k={k})"
        idx = V.indices(got, Xq.shape[0], k, what)
        expect_equal(idx, want_i, "the k training points nearest to each query, in increasing distance",
                     what=f"indices ({what})")
        expect_close(got["dist"], want_d, "the distances of those neighbours, in increasing order", rtol=1e-9,
                     atol=1e-7, what=f"distances ({what})")


@check("ties in distance are ordered by training index, also where they straddle the k-th neighbour", points=2)
def neighbour_ties(run):
    for s, dtype in enumerate((torch.float32, torch.float64, torch.float32)):
        Xt, Xq = data(500 + s, n=60, q=12, d=2, grid=True, dtype=dtype)
        k = (4, 9, 17)[s]
        got = run(V.neighbours, Xt, Xq, k)
        _, want_i = brute_neighbours(Xt, Xq, k)
        expect_equal(V.indices(got, 12, k, "integer grid"), want_i, "equal distances are ordered by increasing "
                     "training index (torch.sort(..., stable=True)); torch.topk and an unstable argsort order "
                     "ties arbitrarily", what=f"indices on an integer grid ({dtype}, k={k}, exact ties)")


@check("k outside [1, n] and an unknown task raise ValueError")
def bad_arguments(run):
    Xt, Xq = data(600, n=5, q=2, d=2)
    y = torch.tensor([0, 1, 0, 1, 1])
    for name, args, what in (("kneighbors", (Xt, Xq, 0), "kneighbors(..., k=0)"),
                             ("kneighbors", (Xt, Xq, 6), "kneighbors(..., k=6) with 5 training points"),
                             ("knn_predict", (Xt, y, Xq, 6), "knn_predict(..., k=6) with 5 training points"),
                             ("knn_predict", (Xt, y, Xq, 3, "clustering"), "knn_predict(..., task='clustering')")):
        got = run(V.raises, name, *args)
        expect(got == "ValueError", "check the arguments: 1 <= k <= n and task in ('classification', "
               "'regression'), raising ValueError otherwise", f"{what} raised {got or 'nothing'}")


# --------------------------------------------------------------------------------------------
# knn_predict
# --------------------------------------------------------------------------------------------

def labels(seed, n, C):
    return torch.randint(C, (n,), generator=torch.Generator().manual_seed(seed))


@check("classification agrees with a brute-force majority vote on random data", points=2)
def classify_agrees(run):
    for s in range(8):
        Xt, Xq = data(700 + s, q=20)
        n = Xt.shape[0]
        k = min(n, (1, 3, 5, 4, 7, 2, 9, 6)[s])
        y = labels(700 + s, n, (2, 3, 4, 2, 5, 3, 3, 6)[s])
        got = run(V.predict, Xt, y, Xq, k)["out"]
        want = brute_predict(Xt, y, Xq, k)
        expect(isinstance(got, torch.Tensor) and got.dtype == torch.int64 and got.shape == want.shape,
               "classification returns a (q,) int64 tensor of labels", f"your code returned {describe(got)}")
        expect_equal(got, want, "predict the most frequent label among the k nearest neighbours (the smallest "
                     "label among equally frequent ones)", what=f"labels (n={n}, k={k})")


@check("vote ties go to the smallest label; labels may be any integers (-1 and 1, 3 / 7 / 100)", points=2)
def classify_ties_and_labels(run):
    for s, values in enumerate(((0, 1, 2, 3), (-1, 1), (100, 7, 3), (1, 0))):
        Xt, Xq = data(800 + s, n=40, q=25, d=2, grid=True)
        y = torch.tensor(values)[labels(800 + s, 40, len(values))]
        k = (2, 4, 6, 2)[s]                                             # even k: many tied votes
        got = run(V.predict, Xt, y, Xq, k)["out"]
        want = brute_predict(Xt, y, Xq, k)
        expect_equal(got, want, "ties decide the result here: equal distances go to the lower training index, "
                     "equally many votes to the SMALLEST label; and labels are values, not positions (map them with "
                     "torch.unique(..., return_inverse=True) -- bincount fails for -1)",
                     what=f"labels from {list(values)} with k={k}")


@check("regression agrees with the brute-force mean of the neighbours' targets", points=2)
def regress_agrees(run):
    for s in range(6):
        dtype = torch.float32 if s % 3 == 2 else torch.float64
        Xt, Xq = data(900 + s, q=15)
        n = Xt.shape[0]
        k = min(n, (1, 3, 4, 5, 2, 6)[s])
        y = (torch.randn(n, generator=torch.Generator().manual_seed(900 + s), dtype=torch.float64) * 10).to(dtype)
        got = run(V.predict, Xt, y, Xq, k, "regression")["out"]
        want = brute_predict(Xt, y.double(), Xq, k, "regression")
        expect(isinstance(got, torch.Tensor) and got.dtype == dtype and tuple(got.shape) == (Xq.shape[0],),
               f"regression returns a (q,) tensor of y_train's dtype ({dtype})", f"your code returned {describe(got)}")
        expect_close(got, want, "predict the mean target of the k nearest neighbours", rtol=1e-5, atol=1e-5,
                     what=f"predictions (n={n}, k={k}, {dtype})")
    Xt, Xq = data(950, n=40, q=20, d=2, grid=True)
    y = torch.arange(40, dtype=torch.float64)                           # the mean reveals WHICH tied points
    got = run(V.predict, Xt, y, Xq, 5, "regression")["out"]
    expect_close(got, brute_predict(Xt, y, Xq, 5, "regression"), "the neighbours are those of kneighbors: at a tie "
                 "for the k-th place the lower training index is in", what="mean of the neighbours' indices")


@check("knn_predict modifies none of its inputs")
def inputs_untouched(run):
    Xt, Xq = data(1000, n=20, q=6, d=3)
    y = labels(1000, 20, 3)
    got = run(V.predict, Xt, y, Xq, 3)
    expect_equal(got["out"], brute_predict(Xt, y, Xq, 3), "predict the most frequent label among the k nearest "
                 "neighbours", what="labels (k=3)")
    for key, want in (("X_train_after", Xt), ("y_train_after", y), ("X_query_after", Xq)):
        expect_close(got[key], want, "knn_predict must not modify its inputs", rtol=0, atol=0,
                     what=key.replace("_after", " after the call"))
