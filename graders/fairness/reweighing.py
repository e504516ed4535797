"""Hidden graders of fairness/reweighing: the weight table and per-sample weights against a
counting loop (arbitrary integer group ids and class labels, 2 to 5 groups, 1 to 4 classes),
weighted label rates under random weights, the independence the weights are for (equal weighted
base rates, cell masses n_g n_y / n, total weight n), empty (group, class) cells (0.0, never inf
or NaN), already-independent data (all weights 1), one group or one class, a group of zero total
weight, dtypes, float64 precision on 100,000 samples and untouched inputs.  No production
library is imported at grading time; tests/test_twins_fairness_reweighing.py shows that a
scikit-learn logistic regression fitted with these weights predicts the same base rate for every
group."""
import math

import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, visible_module

V = visible_module("fairness/reweighing")
TOL = dict(rtol=1e-12, atol=1e-12)
FORMULA = "W(g, y) = n_g n_y / (n n_gy) -- P(g) P(y) / P(g, y)"


# --------------------------------------------------------------------------------------------
# Oracle: counting loops
# --------------------------------------------------------------------------------------------

def oracle(sensitive, labels, w=None):
    s, y = sensitive.tolist(), labels.tolist()
    groups, classes, n = sorted(set(s)), sorted(set(y)), len(s)
    w = [1.0] * n if w is None else w.double().tolist()
    n_g = {g: s.count(g) for g in groups}
    n_y = {c: y.count(c) for c in classes}
    n_gy = {(g, c): 0 for g in groups for c in classes}
    mass = {(g, c): 0.0 for g in groups for c in classes}
    for gi, ci, wi in zip(s, y, w):
        n_gy[gi, ci] += 1
        mass[gi, ci] += wi
    table = [[n_g[g] * n_y[c] / (n * n_gy[g, c]) if n_gy[g, c] else 0.0 for c in classes] for g in groups]
    rates = []
    for g in groups:
        tot = math.fsum(mass[g, c] for c in classes)
        rates.append([mass[g, c] / tot if tot > 0 else math.nan for c in classes])
    pos = {g: i for i, g in enumerate(groups)}
    col = {c: j for j, c in enumerate(classes)}
    f64 = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    return {"groups": torch.tensor(groups, dtype=sensitive.dtype),
            "classes": torch.tensor(classes, dtype=labels.dtype),
            "table": f64(table), "weights": f64([table[pos[a]][col[b]] for a, b in zip(s, y)]),
            "rates": f64(rates), "marginal": f64([n_y[c] / n for c in classes])}


def dataset(seed, full=True, n=None):
    """Random (sensitive, labels) whose label distribution depends on the group; with ``full``
    every (group, class) cell holds at least one sample."""
    g = torch.Generator().manual_seed(seed)
    G = int(torch.randint(2, 6, (), generator=g))
    C = int(torch.randint(2, 5, (), generator=g))
    ids = torch.randperm(100, generator=g)[:G] - 50
    cls = torch.randperm(20, generator=g)[:C] - 5
    n = n or int(torch.randint(30, 300, (), generator=g))
    gi = torch.randint(0, G, (n,), generator=g)
    logits = torch.randn(G, C, generator=g) * 1.5                                # group-dependent labels
    ci = torch.multinomial(logits.softmax(1)[gi], 1, generator=g).squeeze(1)
    if full:
        gi = torch.cat([gi, torch.arange(G).repeat_interleave(C)])
        ci = torch.cat([ci, torch.arange(C).repeat(G)])
    perm = torch.randperm(gi.numel(), generator=g)
    return ids[gi[perm]], cls[ci[perm]]


def expect_table(got, want, what):
    got = V.weight_table(got, what)
    expect_equal(got["groups"], want["groups"], "groups are the distinct ids of sensitive, ascending",
                 what=f"groups ({what})")
    expect_equal(got["classes"], want["classes"], "classes are the distinct labels, ascending",
                 what=f"classes ({what})")
    expect_close(got["table"], want["table"], FORMULA + "; rows follow groups, columns follow classes",
                 what=f"table ({what})", **TOL)
    return got


# --------------------------------------------------------------------------------------------
# Agreement with the counting oracle
# --------------------------------------------------------------------------------------------

@check("the weight table agrees with n_g n_y / (n n_gy) counted by loops (arbitrary ids and labels)", points=2)
def table_agrees(run):
    for seed in range(8):
        s, y = dataset(seed)
        expect_table(run(V.weights, s, y)["out"], oracle(s, y), f"seed {seed}")


@check("each sample's weight is the table entry of its own (group, label) cell", points=2)
def weights_agree(run):
    for seed in range(10, 16):
        s, y = dataset(seed)
        got = V.weight_table(run(V.weights, s, y)["out"], f"seed {seed}")
        expect_close(got["weights"], oracle(s, y)["weights"], "weights[i] = W(sensitive[i], labels[i]), in the "
                     "order of the samples", what=f"weights (seed {seed})", **TOL)


@check("weighted_label_rates agrees with a loop under random weights", points=2)
def rates_agree(run):
    for seed in range(20, 26):
        s, y = dataset(seed)
        w = torch.rand(s.numel(), generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 3
        want = oracle(s, y, w)
        got = V.rate_table(run(V.rates, s, y, w), f"seed {seed}")
        expect_equal(got["groups"], want["groups"], "groups are the distinct ids, ascending", what="groups")
        expect_equal(got["classes"], want["classes"], "classes are the distinct labels, ascending", what="classes")
        expect_close(got["rates"], want["rates"], "rates[g, y] = (total weight of group g with label y) / (total "
                     "weight of group g) -- divide by the group's weight, not by its count",
                     what=f"rates (seed {seed})", **TOL)


# --------------------------------------------------------------------------------------------
# The property the weights exist for
# --------------------------------------------------------------------------------------------

@check("under the reweighing weights every group's weighted label distribution equals P(y), "
       "and the total weight is n", points=2)
def independence(run):
    for seed in range(30, 36):
        s, y = dataset(seed)
        want = oracle(s, y)
        got = run(V.reweighed_rates, s, y)
        r = V.rate_table(got["rates"], f"seed {seed}")["rates"]
        G = want["groups"].numel()
        expect_close(r, want["marginal"].expand(G, -1), "reweighing makes group and label independent: "
                     "P_w(y | g) = P(y) for every group", what=f"weighted rates (seed {seed})", **TOL)
        expect_close(float(got["weights"].double().sum()), float(s.numel()), "with no empty cell the weights "
                     "sum to n (sum over cells of n_gy * W(g, y) = sum of n_g n_y / n)",
                     what=f"total weight (seed {seed})", **TOL)


@check("each cell's total weight is the count it would have under independence, n_g n_y / n")
def cell_mass(run):
    s, y = dataset(40)
    want = oracle(s, y)
    got = V.weight_table(run(V.weights, s, y)["out"], "seed 40")
    n = s.numel()
    gi = torch.searchsorted(want["groups"], s)
    ci = torch.searchsorted(want["classes"], y)
    G, C = want["groups"].numel(), want["classes"].numel()
    mass = torch.zeros(G, C, dtype=torch.float64).index_put_((gi, ci), got["weights"].double(), accumulate=True)
    n_g = torch.bincount(gi, minlength=G).double()
    n_y = torch.bincount(ci, minlength=C).double()
    expect_close(mass, n_g[:, None] * n_y[None, :] / n, "n_gy * W(g, y) = n_g n_y / n: the weighted cell counts "
                 "are the counts of an independent table", what="weighted cell counts", **TOL)


# --------------------------------------------------------------------------------------------
# Edge cases
# --------------------------------------------------------------------------------------------

@check("an empty (group, class) cell gets weight 0.0 -- never inf or NaN -- and the others are unchanged",
       points=2)
def empty_cells(run):
    # group 7 never has label 2; group -1 never has label 0
    s = torch.tensor([7, 7, 7, 7, -1, -1, -1, 3, 3, 3, 3, 3])
    y = torch.tensor([0, 0, 1, 1, 1, 2, 2, 0, 1, 2, 2, 2])
    want = oracle(s, y)
    got = V.weight_table(run(V.weights, s, y)["out"], "two empty cells")
    t = got["table"]
    if t.shape == want["table"].shape and not torch.isfinite(t).all():
        raise Fail("a cell with no samples has n_gy = 0: give it weight 0.0 instead of dividing by zero",
                   f"your table holds {t.tolist()}")
    expect_table(got, want, "two empty cells")
    expect_close(got["weights"], want["weights"], "weights[i] = W(sensitive[i], labels[i])", what="weights", **TOL)


@check("already independent data, one group, or one class: every weight is 1")
def all_ones(run):
    # 2 groups x 3 classes with counts proportional: rows [2, 4, 6] and [1, 2, 3]
    s = torch.tensor([0] * 12 + [1] * 6)
    y = torch.tensor([0] * 2 + [1] * 4 + [2] * 6 + [0] + [1] * 2 + [2] * 3)
    cases = [(s, y, "independent counts"),
             (torch.full((9,), 4), torch.tensor([0, 1, 1, 2, 2, 2, 0, 1, 2]), "one group"),
             (torch.tensor([0, 1, 2, 0, 1, 2, 5]), torch.full((7,), 1), "one class")]
    for si, yi, name in cases:
        got = V.weight_table(run(V.weights, si, yi)["out"], name)
        expect_close(got["weights"], torch.ones(si.numel(), dtype=torch.float64), "when group and label are "
                     "already independent, P(g) P(y) = P(g, y) and every weight is 1", what=f"weights ({name})",
                     **TOL)
        expect_table(got, oracle(si, yi), name)


@check("a group whose total weight is 0 gets a row of NaN in weighted_label_rates")
def zero_weight_group(run):
    s = torch.tensor([0, 0, 1, 1, 1])
    y = torch.tensor([0, 1, 0, 1, 1])
    w = torch.tensor([1.0, 3.0, 0.0, 0.0, 0.0])
    got = V.rate_table(run(V.rates, s, y, w), "group 1 has zero weight")
    expect_close(got["rates"], torch.tensor([[0.25, 0.75], [math.nan, math.nan]], dtype=torch.float64),
                 "a group with total weight 0 has no weighted distribution: 0 / 0 = NaN", what="rates", **TOL)


# --------------------------------------------------------------------------------------------
# Dtypes, precision, inputs
# --------------------------------------------------------------------------------------------

@check("int32 ids and int16 labels, float32 weights: float64 results, id/label dtypes kept, inputs unchanged")
def dtypes_and_inputs(run):
    s, y = dataset(50)
    want = oracle(s.int(), y.short())
    before = [s.int().clone(), y.short().clone()]
    got = run(V.weights, s.int(), y.short())
    expect_table(got["out"], want, "int32 ids, int16 labels")
    for k in ("table", "weights"):
        expect(got["out"][k].dtype == torch.float64, "the weights are float64 tensors",
               f"{k} has dtype {got['out'][k].dtype}")
    for b, a, arg in zip(before, got["inputs_after"], ("sensitive", "labels")):
        expect(isinstance(a, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b),
               "reweighing_weights must not modify its inputs", f"{arg} changed")
    w = torch.rand(s.numel(), generator=torch.Generator().manual_seed(50))          # float32
    got = V.rate_table(run(V.rates, s, y, w), "float32 weights")
    expect_close(got["rates"], oracle(s, y, w)["rates"], "weighted rates are computed in float64",
                 check_dtype=True, what="rates (float32 weights)", **TOL)


@check("100,000 samples: weights exact to float64 precision")
def large(run):
    s, y = dataset(60, n=100_000)
    g = torch.searchsorted(torch.unique(s), s)
    c = torch.searchsorted(torch.unique(y), y)
    G, C = int(g.max()) + 1, int(c.max()) + 1
    cell = torch.zeros(G, C, dtype=torch.float64).index_put_((g, c), torch.ones(s.numel(), dtype=torch.float64),
                                                              accumulate=True)
    table = cell.sum(1, keepdim=True) * cell.sum(0, keepdim=True) / (s.numel() * cell)
    got = V.weight_table(run(V.weights, s, y)["out"], "100,000 samples")
    expect_close(got["table"], table, FORMULA + ", in float64", check_dtype=True, what="table (n = 100,000)", **TOL)
