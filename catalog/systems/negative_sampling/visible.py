"""Visible checks: the distribution of two counts, the shape of the negatives and the exclusion
rule, an alias table for three items, and reproducibility under a seed."""
import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_equal, expect_tensor, probe


@probe
def distribution(sub, counts, power=None):
    """``unigram_distribution``; ``power=None`` leaves it at its default (0.75)."""
    out = sub.unigram_distribution(counts) if power is None else sub.unigram_distribution(counts, power)
    return {"out": out, "counts_after": counts}


@probe
def negatives(sub, probs, positives, k, seed):
    """``sample_negatives`` with a fresh generator seeded ``seed``; also the global RNG state."""
    before = torch.get_rng_state()
    out = sub.sample_negatives(probs, positives, k, torch.Generator().manual_seed(seed))
    return {"out": out, "rng_before": before, "rng_after": torch.get_rng_state(),
            "probs_after": probs, "positives_after": positives}


@probe
def alias_table(sub, probs):
    table = sub.build_alias_table(probs)
    return {"table": table, "probs_after": probs}


@probe
def alias_draws(sub, prob, alias, n, seed):
    before = torch.get_rng_state()
    out = sub.alias_sample(prob, alias, n, torch.Generator().manual_seed(seed))
    return {"out": out, "rng_before": before, "rng_after": torch.get_rng_state()}


def implied(prob, alias):
    """Judge side: the distribution an alias table draws from (float64)."""
    V = prob.shape[0]
    mass = prob.double().clone()
    mass.index_add_(0, alias.long(), 1 - prob.double())
    return mass / V


def table_of(got, V, what):
    """Judge side: (prob float64 (V,), alias int64 (V,)) with valid entries, or a Fail."""
    rule = "build_alias_table returns (prob, alias): prob a float64 tensor (V,) in [0, 1], alias an int64 tensor (V,)"
    t = got["table"]
    if not isinstance(t, (tuple, list)) or len(t) != 2:
        raise Fail(rule, f"{what}: your code returned {describe(t)}")
    prob = expect_tensor(t[0], rule + f" ({what}: prob)", shape=(V,), dtype=torch.float64)
    alias = expect_tensor(t[1], rule + f" ({what}: alias)", shape=(V,), dtype=torch.int64)
    expect(bool(((prob >= 0) & (prob <= 1)).all()), rule, f"{what}: prob has entries outside [0, 1]: {prob.tolist()[:8]}")
    expect(bool(((alias >= 0) & (alias < V)).all()), rule, f"{what}: alias has ids outside [0, {V}): {alias.tolist()[:8]}")
    return prob, alias


def expect_negatives(got, positives, k, V):
    """Judge side: (B, k) int64 ids in [0, V), none equal to its row's positive."""
    got = expect_tensor(got, "sample_negatives returns a (B, k) int64 tensor", shape=(len(positives), k),
                        dtype=torch.int64)
    expect(bool(((got >= 0) & (got < V)).all()), "negatives are item ids in [0, V)", f"ids seen: {got.unique().tolist()}")
    hits = int((got == positives[:, None]).sum())
    expect(hits == 0, "a draw equal to the row's positive must be redrawn: no negative equals its positive",
           f"{hits} of {got.numel()} negatives equal their row's positive")
    return got


def expect_alias_draws(got, n, prob, alias):
    """Judge side: n int64 ids, each one a table may yield (i, or alias[i] where prob[i] < 1), more than one
    of them (n >= 60 draws from a table with two or more likely ids)."""
    got = expect_tensor(got, "alias_sample returns an (n,) int64 tensor", shape=(n,), dtype=torch.int64)
    possible = implied(prob, alias) > 0
    ok = bool(((got >= 0) & (got < len(prob))).all()) and bool(possible[got.clamp(0, len(prob) - 1)].all())
    expect(ok and got.unique().numel() > 1, "alias_sample picks a column i uniformly, then returns i with "
           "probability prob[i] and alias[i] otherwise", f"draws seen: {got.unique().tolist()}")
    return got


P3 = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)


@check("counts [1, 16, 0] with power 0.75 give [1/9, 8/9, 0]")
def small_distribution(run):
    got = run(distribution, torch.tensor([1, 16, 0]))
    expect_close(got["out"], torch.tensor([1 / 9, 8 / 9, 0.0], dtype=torch.float64),
                 "P(w) = count(w)^0.75 / sum_v count(v)^0.75 (16^0.75 = 8), as float64", rtol=1e-12, atol=0,
                 check_dtype=True, what="unigram_distribution([1, 16, 0])")


@check("sample_negatives returns (B, k) int64 ids, none equal to its row's positive")
def negatives_exclude_positive(run):
    positives = torch.tensor([0, 1, 2, 0])
    expect_negatives(run(negatives, P3, positives, 50, 0)["out"], positives, 50, 3)


@check("an alias table for [0.5, 0.25, 0.25] draws exactly that distribution")
def small_alias_table(run):
    prob, alias = table_of(run(alias_table, P3), 3, "build_alias_table([0.5, 0.25, 0.25])")
    expect_close(implied(prob, alias), P3, "column i yields i with probability prob[i] and alias[i] otherwise; "
                 "the columns together must reproduce probs", rtol=0, atol=1e-12, what="distribution of the table")


@check("the same seed gives the same draws")
def reproducible(run):
    a = expect_negatives(run(negatives, P3, torch.tensor([0, 1]), 20, 7)["out"], torch.tensor([0, 1]), 20, 3)
    b = run(negatives, P3, torch.tensor([0, 1]), 20, 7)["out"]
    expect_equal(b, a, "all randomness comes from the generator argument: the same seed gives the same negatives",
                 what="second run with seed 7")
    prob = torch.tensor([1.0, 0.5, 0.5], dtype=torch.float64)
    alias = torch.tensor([0, 0, 0])
    a = expect_alias_draws(run(alias_draws, prob, alias, 60, 3)["out"], 60, prob, alias)   # P(one id only) < 1e-10
    b = run(alias_draws, prob, alias, 60, 3)["out"]
    expect_equal(b, a, "alias_sample draws only from the generator argument: same seed, same draws",
                 what="second alias_sample run with seed 3")
