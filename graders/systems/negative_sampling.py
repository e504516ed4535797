"""Hidden graders of systems/negative_sampling: the distribution exactly (float64 oracle), the
sampler's conditional rates with expect_rate (every expected count >= 1000), exclusion of the
positive, zero-probability items, reproducibility and the untouched global RNG; alias tables by
their exact implied distribution, and alias_sample's rates on hand-made tables."""
import torch

from mlkata.checks import check, expect, expect_close, expect_equal, expect_rate, expect_tensor, visible_module

V = visible_module("systems/negative_sampling")
F64 = torch.float64


def oracle_distribution(counts, power):
    c = [float(v) for v in counts.tolist()]
    w = [v ** power if v > 0 else 0.0 for v in c]
    total = sum(w)
    return torch.tensor([v / total for v in w], dtype=F64)


# A flat-ish distribution: every item has P >= 0.033, so 40 000 draws expect >= 1000 of each.
COUNTS = torch.tensor([400, 200, 100, 60, 40, 30, 20, 16])
P = oracle_distribution(COUNTS, 0.75)
N_ITEMS = len(COUNTS)


def counts_of(draws, V):
    return torch.bincount(draws.reshape(-1), minlength=V)


@check("unigram_distribution agrees with count^power / sum on random counts (int and float, powers 0.75, 1, 0.5)",
       points=2)
def distribution_random(run):
    g = torch.Generator().manual_seed(0)
    cases = [(torch.randint(0, 1000, (50,), generator=g), 0.75),
             (torch.randint(0, 10**12, (20,), generator=g), 0.75),
             (torch.rand(30, generator=g, dtype=F64) * 100, 1.0),
             (torch.rand(30, generator=g) * 5, 0.5),
             (torch.tensor([7]), 0.75)]
    for counts, power in cases:
        got = run(V.distribution, counts, power)
        expect_close(got["out"], oracle_distribution(counts, power), "P(w) = count(w)^power / sum_v count(v)^power, "
                     "returned as float64", rtol=1e-12, atol=1e-15, check_dtype=True,
                     what=f"unigram_distribution of {len(counts)} {counts.dtype} counts, power {power}")
        expect_equal(got["counts_after"], counts, "unigram_distribution must not modify counts", what="counts afterwards")


@check("an item with count 0 has probability 0 for every power, power 0 included")
def zero_counts(run):
    counts = torch.tensor([0, 3, 0, 5])
    for power, want in ((0.0, [0.0, 0.5, 0.0, 0.5]), (0.75, oracle_distribution(counts, 0.75).tolist())):
        got = run(V.distribution, counts, power)
        expect_close(got["out"], torch.tensor(want, dtype=F64), "a never-seen item is never sampled: count 0 gives "
                     "probability 0 even for power 0 (where 0 ** 0 = 1 in torch)", rtol=1e-12, atol=0,
                     what=f"unigram_distribution([0, 3, 0, 5], power={power})")


@check("with the most frequent item as every positive, negatives follow P(w) / (1 - P(positive)) over the others",
       points=2)
def conditional_rates(run):
    B, k = 100, 450
    got = run(V.negatives, P, torch.zeros(B, dtype=torch.long), k, 11)
    draws = expect_tensor(got["out"], "sample_negatives returns a (B, k) int64 tensor", shape=(B, k), dtype=torch.int64)
    expect(bool(((draws >= 0) & (draws < N_ITEMS)).all()), "negatives are item ids in [0, V)",
           f"ids seen: {draws.unique().tolist()[:10]}")
    counts = counts_of(draws, N_ITEMS)
    expect(int(counts[0]) == 0, "no negative equals its row's positive", f"item 0 (the positive) was drawn {int(counts[0])} times")
    n = B * k
    for j in range(1, N_ITEMS):
        expect_rate(int(counts[j]), n, float(P[j] / (1 - P[0])), "a hit on the positive is REDRAWN from probs, so "
                    "each negative is distributed as P(w) / (1 - P(positive)) -- not shifted to a neighbour, not uniform",
                    what=f"rate of item {j}")


@check("random positives: no negative equals its row's positive, and the item rates are right", points=2)
def mixed_positives(run):
    B, k = 400, 100
    positives = torch.randint(0, N_ITEMS, (B,), generator=torch.Generator().manual_seed(1))
    got = run(V.negatives, P, positives, k, 12)
    draws = expect_tensor(got["out"], "sample_negatives returns a (B, k) int64 tensor", shape=(B, k), dtype=torch.int64)
    hits = int((draws == positives[:, None]).sum())
    expect(hits == 0, "every negative differs from the positive of ITS row (compare with positives[:, None])",
           f"{hits} of {B * k} negatives equal their row's positive")
    # each row draws item j with P[j] / (1 - P[pos]) (0 for j = pos); the rate is the average over rows
    cond = P[None, :] / (1 - P[positives])[:, None]                          # (B, V)
    cond[torch.arange(B), positives] = 0
    want = cond.mean(0)
    counts = counts_of(draws, N_ITEMS)
    for j in range(N_ITEMS):
        expect_rate(int(counts[j]), B * k, float(want[j]), "each row's negatives follow probs conditioned on "
                    "differing from that row's positive", what=f"rate of item {j}")


@check("items of probability 0 are never drawn: with probs [0, 0.5, 0, 0.5] and positive 1, every negative is 3")
def zero_probability_items(run):
    probs = torch.tensor([0.0, 0.5, 0.0, 0.5], dtype=F64)
    got = run(V.negatives, probs, torch.tensor([1, 1, 3]), 40, 5)
    draws = expect_tensor(got["out"], "sample_negatives returns a (B, k) int64 tensor", shape=(3, 40), dtype=torch.int64)
    want = torch.tensor([[3] * 40, [3] * 40, [1] * 40])
    expect_equal(draws, want, "draw from probs (items of probability 0 never appear) and redraw hits on the "
                 "positive: the only other item left is the answer", what="negatives")


@check("sample_negatives uses only the generator: same seed same draws, other seed other draws, global RNG untouched")
def generator_only(run):
    positives = torch.tensor([0, 3, 5, 7, 2])
    a = run(V.negatives, P, positives, 30, 21)
    b = run(V.negatives, P, positives, 30, 21)
    c = run(V.negatives, P, positives, 30, 22)
    for got in (a, c):
        V.expect_negatives(got["out"], positives, 30, N_ITEMS)
    expect_equal(b["out"], a["out"], "the same seed must give the same negatives", what="negatives, seed 21 twice")
    expect(not torch.equal(a["out"], c["out"]), "different seeds must give different negatives",
           "seeds 21 and 22 gave identical negatives: is the generator used at all?")
    expect(torch.equal(a["rng_before"], a["rng_after"]), "pass generator= to every random call: the global RNG "
           "must not be consumed", "torch's global RNG state changed during sample_negatives")
    expect_equal(a["probs_after"], P, "sample_negatives must not modify probs", what="probs afterwards")
    expect_equal(a["positives_after"], positives, "sample_negatives must not modify positives",
                 what="positives afterwards")


@check("build_alias_table reproduces random distributions exactly (V = 1 to 2000, zeros included)", points=2)
def alias_exact(run):
    g = torch.Generator().manual_seed(2)
    cases = [torch.tensor([1.0], dtype=F64), torch.tensor([0.3, 0.7], dtype=F64), P,
             oracle_distribution(torch.randint(0, 50, (100,), generator=g), 0.75),
             oracle_distribution(torch.randint(1, 10**6, (2000,), generator=g), 0.75),
             torch.full((16,), 1 / 16, dtype=F64), oracle_distribution(torch.tensor([0, 0, 5, 0]), 1.0),
             oracle_distribution(torch.rand(7, generator=g, dtype=F64), 1.0).float()]
    for probs in cases:
        n = probs.shape[0]
        got = run(V.alias_table, probs)
        prob, alias = V.table_of(got, n, f"table for {n} items")
        expect_close(V.implied(prob, alias), probs.double(), "(prob[j] + sum over columns i aliased to j of "
                     "(1 - prob[i])) / V must equal probs[j]: scale by V, then move mass from large to small columns",
                     rtol=0, atol=1e-12 if probs.dtype == F64 else 1e-7, what=f"distribution of the table ({n} items)")
        expect_equal(got["probs_after"], probs, "build_alias_table must not modify probs", what="probs afterwards")


HAND_PROB = torch.tensor([0.3, 1.0, 0.6, 0.1], dtype=F64)
HAND_ALIAS = torch.tensor([1, 1, 3, 2])                    # draws 0.075, 0.425, 0.375, 0.125


@check("alias_sample draws what a table encodes (a hand-made table and the unigram table), at the right rates",
       points=2)
def alias_sample_rates(run):
    for prob, alias, name in ((HAND_PROB, HAND_ALIAS, "hand-made table"),) + ((None, None, "unigram table"),):
        if prob is None:                                    # a valid table for P, built here column by column
            prob, alias = vose(P)
        n = 40_000
        draws = expect_tensor(run(V.alias_draws, prob, alias, n, 31)["out"], "alias_sample returns an (n,) int64 "
                              "tensor", shape=(n,), dtype=torch.int64)
        want = V.implied(prob, alias)
        counts = counts_of(draws, len(prob))
        for j in range(len(prob)):
            expect_rate(int(counts[j]), n, float(want[j]), "pick a column i uniformly, then return i if a uniform "
                        "number is below prob[i], else alias[i]", what=f"rate of item {j} ({name})")


@check("alias_sample uses only the generator: same seed same draws, other seed other draws, global RNG untouched")
def alias_generator_only(run):
    a = run(V.alias_draws, HAND_PROB, HAND_ALIAS, 200, 41)
    b = run(V.alias_draws, HAND_PROB, HAND_ALIAS, 200, 41)
    c = run(V.alias_draws, HAND_PROB, HAND_ALIAS, 200, 42)
    for got in (a, c):
        V.expect_alias_draws(got["out"], 200, HAND_PROB, HAND_ALIAS)
    expect_equal(b["out"], a["out"], "the same seed must give the same draws", what="draws, seed 41 twice")
    expect(not torch.equal(a["out"], c["out"]), "different seeds must give different draws",
           "seeds 41 and 42 gave identical draws: is the generator used at all?")
    expect(torch.equal(a["rng_before"], a["rng_after"]), "pass generator= to torch.randint and torch.rand",
           "torch's global RNG state changed during alias_sample")


def vose(probs):
    """A valid alias table (judge side), used only as an input for alias_sample."""
    n = len(probs)
    scaled = [float(p) * n for p in probs]
    prob, alias = [1.0] * n, list(range(n))
    small = [i for i in range(n) if scaled[i] < 1]
    large = [i for i in range(n) if scaled[i] >= 1]
    while small and large:
        s, big = small.pop(), large.pop()
        prob[s], alias[s] = scaled[s], big
        scaled[big] -= 1 - scaled[s]
        (small if scaled[big] < 1 else large).append(big)
    return torch.tensor(prob, dtype=F64), torch.tensor(alias)
