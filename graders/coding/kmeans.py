"""Hidden graders of coding/kmeans: Lloyd's iterations against an independent float64 loop given
the same starting centres (tests/test_twins_coding_kmeans.py shows both agree with
sklearn.cluster.KMeans(init=..., n_init=1)), the max_iter count, inertia never increasing, ties,
empty clusters, the stopping rule, dtypes and untouched inputs; k-means++ statistically (the
exact probabilities of the D^2 rule, computed here by enumerating every draw sequence), its use
of the generator, and kmeans chaining the two."""
import time

import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_equal, expect_rate, probe, \
    visible_module

V = visible_module("coding/kmeans")


# --------------------------------------------------------------------------------------------
# Oracles
# --------------------------------------------------------------------------------------------

def nearest(X, C):
    """(labels, squared distances) of every row of X to its nearest row of C, by direct differences."""
    d2 = ((X[:, None, :] - C[None, :, :]) ** 2).sum(-1)               # (n, k)
    best, labels = d2.min(dim=1)                                      # first index of a tie
    return labels, best


def lloyd_oracle(X, init, max_iter=300):
    """The contract's Lloyd loop in float64, one cluster at a time."""
    X, C = X.double(), init.double().clone()
    prev = None
    for _ in range(max_iter):
        labels, _ = nearest(X, C)
        if prev is not None and torch.equal(labels, prev):
            break
        prev = labels
        for j in range(C.shape[0]):
            members = labels == j
            if members.any():
                C[j] = X[members].mean(0)
    labels, d2 = nearest(X, C)
    return C, labels, float(d2.sum())


def blobs(seed, n=None, d=None, k=None, spread=1.0, sep=6.0, dtype=torch.float64, offset=0.0):
    g = torch.Generator().manual_seed(seed)
    n = n or int(torch.randint(12, 60, (), generator=g))
    d = d or int(torch.randint(1, 5, (), generator=g))
    k = k or int(torch.randint(2, 6, (), generator=g))
    means = torch.randn(k, d, generator=g, dtype=torch.float64) * sep
    X = means[torch.randint(k, (n,), generator=g)] + torch.randn(n, d, generator=g, dtype=torch.float64) * spread
    return (X + offset).to(dtype)


def random_init(seed, X, k, rows=True):
    """k distinct rows of X, or k random points around the data."""
    g = torch.Generator().manual_seed(seed)
    if rows:
        return X[torch.randperm(X.shape[0], generator=g)[:k]].clone()
    return (torch.randn(k, X.shape[1], generator=g, dtype=torch.float64) * X.double().std() +
            X.double().mean(0)).to(X.dtype)


def expect_lloyd(got, X, init, max_iter, what, rtol=1e-9, atol=1e-9, labels_rule=None):
    n, d = X.shape
    k = init.shape[0]
    C, labels, inertia = V.result(got, n, k, d, what, dtype=X.dtype)
    want_C, want_labels, want_inertia = lloyd_oracle(X, init, max_iter)
    expect_equal(labels, want_labels, labels_rule or "after each update every point joins its nearest centre (ties "
                 "to the lower index); the labels returned are those of the returned centres", what=f"labels ({what})")
    expect_close(C, want_C, "each centre is the mean of its points; a centre without points keeps its position",
                 rtol=rtol, atol=atol, what=f"centres ({what})")
    expect_close(inertia, want_inertia, "inertia = sum over points of the squared distance to the returned nearest "
                 "centre", rtol=rtol, atol=atol, what=f"inertia ({what})")


# --------------------------------------------------------------------------------------------
# lloyd
# --------------------------------------------------------------------------------------------

@check("lloyd agrees with an independent Lloyd loop from the same starting centres (random data)", points=2)
def lloyd_agrees(run):
    for s in range(8):
        X = blobs(100 + s, sep=3.0 if s % 2 else 6.0)
        k = int(torch.randint(2, 6, (), generator=torch.Generator().manual_seed(s)))
        init = random_init(200 + s, X, k, rows=s < 5)
        expect_lloyd(run(V.run_lloyd, X, init), X, init, 300,
                     f"n={X.shape[0]}, d={X.shape[1]}, k={k}, init {'rows of X' if s < 5 else 'random points'}")


@check("max_iter counts update steps: max_iter = 1, 2, 3 stop after exactly that many updates")
def max_iter_counts(run):
    X = blobs(300, n=60, d=2, k=5, sep=2.0)
    init = X[:4].clone()                                          # a poor start: many iterations to converge
    for m, got in zip((1, 2, 3), run(V.lloyd_many, X, init, [1, 2, 3])):
        expect_lloyd(got, X, init, m, f"max_iter={m}", labels_rule="stop after max_iter updates, then return the "
                     "nearest-centre labels of the centres you return (assign once more after the last update)")


@check("the inertia never increases with more iterations, and equals the returned centres' inertia")
def inertia_monotone(run):
    X = blobs(400, n=80, d=3, k=6, sep=2.5)
    init = X[:6].clone()
    got = run(V.lloyd_many, X, init, list(range(0, 9)))
    values = []
    for m, r in enumerate(got):
        C, labels, inertia = V.result(r, 80, 6, 3, f"lloyd(..., max_iter={m})")
        own_labels, own_d2 = nearest(X, C.double())
        expect_equal(labels, own_labels, "the returned labels are the nearest-centre labels of the returned centres",
                     what=f"labels (max_iter={m})")
        expect_close(inertia, float(own_d2.sum()), "the returned inertia is the sum of squared distances to the "
                     "returned centres", rtol=1e-9, what=f"inertia (max_iter={m})")
        values.append(inertia)
    for m in range(1, len(values)):
        expect(values[m] <= values[m - 1] * (1 + 1e-12), "assign and update can only lower the inertia",
               f"inertia after {m - 1} updates {values[m - 1]:.10g}, after {m} updates {values[m]:.10g}")


@check("ties go to the lower-index centre; duplicate centres leave the higher one empty and in place")
def ties_and_duplicates(run):
    X = torch.tensor([[0.0, 0.0], [2.0, 0.0], [4.0, 0.0], [2.0, 5.0], [2.0, -5.0]])   # exact in float32
    init = torch.tensor([[2.0, 3.0], [2.0, -3.0], [9.0, 9.0]])          # rows 0-2 are equidistant from 0 and 1
    got = run(V.run_lloyd, X, init, 1)
    C, labels, _ = V.result(got, 5, 3, 2, "points equidistant from centres 0 and 1")
    expect_equal(labels[:3], torch.tensor([0, 0, 0]), "a point at equal distance from two centres joins the one "
                 "of lower index (argmin returns the first minimum)", what="labels of the three tied points")
    init = torch.tensor([[1.0, 0.0], [1.0, 0.0], [3.0, 0.0]])           # centres 0 and 1 identical
    expect_lloyd(run(V.run_lloyd, X, init), X, init, 300, "duplicate starting centres",
                 labels_rule="with two identical centres every tie goes to the lower index; the other one gets no "
                 "points and stays where it is")


@check("empty clusters keep their centre (random far-away starting points), no nan")
def empty_clusters(run):
    X = blobs(500, n=40, d=2, k=2, sep=4.0)
    init = torch.cat([X[:2], torch.tensor([[50.0, 50.0], [-60.0, 10.0]], dtype=torch.float64)])
    got = run(V.run_lloyd, X, init)
    expect_lloyd(got, X, init, 300, "two far-away starting centres")


@probe
def timed_lloyd(sub, X, init, max_iters):
    """Wall time of ``sub.lloyd`` for each max_iter (measured beside the learner's code), and the results."""
    out = []
    for m in max_iters:
        t = time.perf_counter()
        result = sub.lloyd(X, init.clone(), m)
        out.append({"seconds": time.perf_counter() - t, "out": result})
    return out


@check("lloyd stops as soon as no label changes: max_iter=60000 costs no more than max_iter=30 on easy data")
def stops_early(run):
    X = blobs(600, n=30, d=2, k=3, sep=20.0)
    init = random_init(601, X, 3)
    short, long = run(timed_lloyd, X, init, [30, 60_000])
    expect_lloyd(long, X, init, 60_000, "max_iter=60000")
    # Converged after a few iterations, both calls do the same work; without the stopping rule the second one
    # runs 60000 iterations (>= 20 us each even on a fast machine), far beyond this bound.
    bound = 20 * short["seconds"] + 0.5
    expect(long["seconds"] < bound, "stop when an assignment step changes no label (the next update would not move "
           "anything): max_iter is a cap, not the number of iterations to run",
           f"lloyd took {short['seconds'] * 1e3:.1f} ms with max_iter=30 but {long['seconds']:.2f} s with "
           f"max_iter=60000 on data that converges in a few iterations")


@check("float32 data: float32 centres, the same labels and centres as the float64 loop")
def float32(run):
    X = blobs(700, n=50, d=3, k=4, sep=8.0, dtype=torch.float32)
    init = random_init(701, X, 4)
    got = run(V.run_lloyd, X, init)
    V.result(got, 50, 4, 3, "float32 data", dtype=torch.float32)
    expect_lloyd(got, X, init, 300, "float32 data", rtol=1e-5, atol=1e-4)


@check("coordinates around 1e5 (float64): the same clusters, finite non-negative inertia")
def large_offset(run):
    X = blobs(800, n=40, d=2, k=3, sep=10.0, offset=1e5)
    init = random_init(801, X, 3)
    got = run(V.run_lloyd, X, init)
    C, labels, inertia = V.result(got, 40, 3, 2, "data around 1e5")
    expect(inertia >= 0 and inertia == inertia, "squared distances are never negative: clamp the expansion "
           "||x||^2 + ||c||^2 - 2 x.c at 0 (it rounds below 0 for nearby points far from the origin)",
           f"your inertia is {inertia}")
    expect_lloyd(got, X, init, 300, "data around 1e5", rtol=1e-6, atol=1e-3)


@check("lloyd modifies neither X nor init")
def inputs_untouched(run):
    X = blobs(900, n=30, d=2, k=3)
    init = random_init(901, X, 3)
    got = run(V.run_lloyd, X, init)
    expect_lloyd(got, X, init, 300, "n=30, d=2, k=3")
    expect_close(got["init_after"], init, "lloyd must not write the updated centres into the caller's init "
                 "(clone it first)", rtol=0, atol=0, what="init after lloyd")
    expect_close(got["X_after"], X, "lloyd must not modify X", rtol=0, atol=0, what="X after lloyd")


# --------------------------------------------------------------------------------------------
# k-means++
# --------------------------------------------------------------------------------------------

LINE = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [5.0, 0.0], [6.0, 0.0], [9.0, 0.0]],
                    dtype=torch.float64)
CLUSTER = [0, 0, 0, 0, 1, 1, 2]                  # {0, 1, 2, 3}, {5, 6}, {9} on a line
N_FIRST, N_DRAWS = 2000, 2500                   # n * min(p, 1 - p) >= 1000 for every rate checked


def plusplus_probability(X, k, event):
    """Exact probability of ``event(indices)`` under k-means++ (every draw sequence enumerated)."""
    n = X.shape[0]
    D2 = ((X[:, None] - X[None]) ** 2).sum(-1)                         # (n, n)
    total = 0.0

    def walk(chosen, p):
        nonlocal total
        if len(chosen) == k:
            total += p if event(chosen) else 0.0
            return
        w = torch.ones(n) if not chosen else D2[chosen].min(0).values
        w = w / w.sum()
        for j in range(n):
            if w[j] > 0:
                walk(chosen + [j], p * float(w[j]))

    walk([], 1.0)
    return total


def row_indices(C, X, rule):
    """The row of X that each centre is (a Fail when a centre is no row)."""
    d2 = ((C[..., None, :] - X) ** 2).sum(-1)                            # (..., k, n)
    best, idx = d2.min(-1)
    if (best > 0).any():
        raise Fail(rule, "every k-means++ centre is a row of X; some of yours are not")
    return idx


def draws(run, X, k, seeds, rule):
    got = run(V.seeding_many, X, k, list(seeds))
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != (len(seeds), k, X.shape[1]):
        raise Fail(rule, f"kmeans_plusplus(X (n, d), k) returns a (k, d) tensor; your code returned "
                         f"{describe(got) if not isinstance(got, list) else describe(got[0])}")
    return row_indices(got.double(), X, rule)


@check(f"k-means++ draws the first centre uniformly at random ({N_FIRST} seeds)")
def first_uniform(run):
    rule = "the first centre is a uniformly random row of X (torch.randint(n, (1,), generator=generator))"
    first = draws(run, LINE, 1, range(N_FIRST), rule)[:, 0]
    expect_rate(int((first <= 3).sum()), N_FIRST, 4 / 7, rule, what="share of first centres among rows 0-3 (4 of 7)")
    expect_rate(int(((first == 0) | (first >= 5)).sum()), N_FIRST, 3 / 7, rule,
                what="share of first centres at rows 0, 5 or 6 (3 of 7)")


@check("k-means++ draws each next centre with probability D^2 / sum D^2, D the distance to the NEAREST chosen "
       f"centre ({N_DRAWS} seeds)", points=2)
def d_squared(run):
    rule = ("draw each next centre with probability proportional to D(x)^2, where D(x) is the distance to the "
            "nearest centre chosen so far (keep a running minimum; not D, not the last or first centre, not argmax)")
    idx = draws(run, LINE, 3, range(10_000, 10_000 + N_DRAWS), rule)
    covered = [len({CLUSTER[int(i)] for i in row}) == 3 for row in idx]
    p = plusplus_probability(LINE, 3, lambda c: len({CLUSTER[i] for i in c}) == 3)
    expect_rate(sum(covered), N_DRAWS, p, rule, what="share of seedings whose 3 centres cover the 3 clusters "
                "{0, 1, 2, 3}, {5, 6}, {9} of points on a line")
    second_far = [int(row[1]) >= 4 for row in idx]
    p2 = plusplus_probability(LINE, 2, lambda c: c[1] >= 4)
    expect_rate(sum(second_far), N_DRAWS, p2, rule, what="share of seedings whose second centre is 5, 6 or 9")


@check("k-means++ uses only the generator it is given: same seed, same centres; the global RNG untouched")
def generator_only(run):
    probe_ = generator_probe
    X = blobs(1100, n=30, d=3, k=4)
    got = run(probe_, X, 4, 5)
    rule = ("draw every random number from `generator` (torch.randint(..., generator=generator), "
            "torch.multinomial(..., generator=generator)); never from the global RNG")
    expect_close(got["first"], got["second"], "the same generator seed gives the same centres: " + rule, rtol=0,
                 atol=0, what="centres of two calls with generator seed 5")
    expect(got["global_untouched"], rule, "torch's global RNG state changed during kmeans_plusplus")
    expect_close(got["X_after"], X, "kmeans_plusplus must not modify X", rtol=0, atol=0, what="X after the call")
    C = got["first"]
    expect(isinstance(C, torch.Tensor) and C.dtype == X.dtype and tuple(C.shape) == (4, X.shape[1]),
           "the centres are k rows of X, in X's dtype", f"your centres are {describe(C)}")
    row_indices(C, X, "kmeans_plusplus picks its centres among the rows of X")


@probe
def generator_probe(sub, X, k, seed):
    torch.manual_seed(1234)
    before = torch.get_rng_state()
    first = sub.kmeans_plusplus(X, k, torch.Generator().manual_seed(seed))
    untouched = torch.equal(before, torch.get_rng_state())
    second = sub.kmeans_plusplus(X, k, torch.Generator().manual_seed(seed))
    return {"first": first, "second": second, "global_untouched": untouched, "X_after": X}


@check("k = 1 and k = n: one uniformly drawn row; every row once, in a D^2 order")
def seeding_extremes(run):
    X = blobs(1200, n=7, d=2, k=3)
    for k in (1, 7):
        C = run(V.seeding, X, k, 3)["centres"]
        if not isinstance(C, torch.Tensor) or tuple(C.shape) != (k, 2):
            raise Fail("kmeans_plusplus returns a (k, d) tensor", f"k={k}: your code returned {describe(C)}")
        idx = row_indices(C.double(), X, "every centre is a row of X")
        expect(len(set(idx.tolist())) == k, "the centres are distinct rows of X (a chosen row has D = 0)",
               f"k={k}: rows {idx.tolist()}")


# --------------------------------------------------------------------------------------------
# kmeans
# --------------------------------------------------------------------------------------------

@probe
def chain_probe(sub, X, k, max_iter, seed):
    init = sub.kmeans_plusplus(X, k, torch.Generator().manual_seed(seed))
    out = sub.kmeans(X, k, max_iter, torch.Generator().manual_seed(seed))
    torch.manual_seed(seed)
    a = sub.kmeans(X, k, max_iter)
    torch.manual_seed(seed)
    b = sub.kmeans(X, k, max_iter)
    return {"init": init, "out": out, "global_a": a, "global_b": b}


@check("kmeans = lloyd from kmeans_plusplus with the same generator; generator=None follows torch.manual_seed")
def kmeans_chain(run):
    for s in range(3):
        X = blobs(1300 + s)
        k = 3
        got = run(chain_probe, X, k, 300, s)
        init = got["init"]
        if not isinstance(init, torch.Tensor) or tuple(init.shape) != (k, X.shape[1]):
            raise Fail("kmeans_plusplus returns a (k, d) tensor", f"your code returned {describe(init)}")
        expect_lloyd(got, X, init, 300, f"kmeans(X, k=3, generator seed {s}) vs lloyd(X, kmeans_plusplus(X, 3, "
                     f"same seed))", labels_rule="kmeans seeds with kmeans_plusplus(X, k, generator) and then runs "
                     "lloyd from those centres")
        a = V.result({"out": got["global_a"]}, X.shape[0], k, X.shape[1], "kmeans with generator=None")
        b = V.result({"out": got["global_b"]}, X.shape[0], k, X.shape[1], "kmeans with generator=None")
        expect_close(a[0], b[0], "with generator=None, kmeans draws its randomness from torch's global RNG: the "
                     "same torch.manual_seed gives the same result", rtol=0, atol=0, what="centres of two runs")
