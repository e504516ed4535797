"""Hidden graders of fairness/calibration: reliability bins, ECE, MCE and per-group ECE against a
plain-Python loop oracle that assigns bins with exact rational arithmetic (no edge rounding), on
random miscalibrated data with 1 to 20 bins; confidences exactly on bin edges (right-closed bins,
0 in the first bin, 1 in the last); empty bins; a calibrated-by-construction case (ECE 0);
float64 accumulation of a large float32 input; top-label confidence with ties; label dtypes and
untouched inputs.  tests/test_twins_fairness_calibration.py checks the reference and this oracle
against sklearn.calibration.calibration_curve(strategy="uniform")."""
import math
from fractions import Fraction

import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_equal, visible_module

V = visible_module("fairness/calibration")
NAN = math.nan
TOL = dict(rtol=1e-12, atol=1e-12)
RIGHT_CLOSED = "bin b holds the confidences p with b/n_bins < p <= (b+1)/n_bins (p = 0 in bin 0, p = 1 in the last)"


# --------------------------------------------------------------------------------------------
# Oracle: loops, bins by exact arithmetic
# --------------------------------------------------------------------------------------------

def bin_of(p: float, n_bins: int) -> int:
    """The bin of p: the b with b/n_bins < p <= (b+1)/n_bins, decided exactly (p = 0 -> 0)."""
    return max(math.ceil(Fraction(p) * n_bins) - 1, 0)


def oracle(confidences, correct, n_bins):
    ps = confidences.double().tolist()
    ys = [int(v != 0) for v in correct.tolist()]
    members = [[] for _ in range(n_bins)]
    for p, y in zip(ps, ys):
        members[bin_of(p, n_bins)].append((p, y))
    count = [len(m) for m in members]
    acc = [sum(y for _, y in m) / len(m) if m else NAN for m in members]
    conf = [math.fsum(p for p, _ in m) / len(m) if m else NAN for m in members]
    gaps = [abs(a - c) for a, c, k in zip(acc, conf, count) if k]
    n = len(ps)
    ece = math.fsum(k / n * abs(a - c) for a, c, k in zip(acc, conf, count) if k)
    f64 = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    return {"count": torch.tensor(count), "accuracy": f64(acc), "confidence": f64(conf), "ece": ece, "mce": max(gaps)}


def group_oracle(confidences, correct, sensitive, n_bins):
    groups = sorted(set(sensitive.tolist()))
    ece = [oracle(confidences[sensitive == g], correct[sensitive == g], n_bins)["ece"] for g in groups]
    return {"groups": torch.tensor(groups, dtype=sensitive.dtype), "ece": torch.tensor(ece, dtype=torch.float64),
            "max_gap": max(ece) - min(ece)}


def dataset(seed, n=None, dtype=torch.float64):
    """Miscalibrated random predictions: confidences p skewed towards 0 or 1, and correct ~
    Bernoulli(p ** a) with a random a (over- or under-confident)."""
    g = torch.Generator().manual_seed(seed)
    n = n or int(torch.randint(40, 400, (), generator=g))
    skew = float(torch.empty(()).uniform_(0.3, 3.0, generator=g))
    p = torch.rand(n, generator=g, dtype=torch.float64) ** skew
    a = float(torch.empty(()).uniform_(0.5, 2.0, generator=g))
    correct = (torch.rand(n, generator=g, dtype=torch.float64) < p ** a).long()
    n_bins = [1, 2, 3, 5, 7, 10, 15, 20][seed % 8]
    return p.to(dtype), correct, n_bins


def expect_bins(got, want, n_bins, what):
    got = V.bin_table(got, n_bins, what)
    expect_equal(got["count"], want["count"], RIGHT_CLOSED, what=f"count ({what})")
    expect_close(got["accuracy"], want["accuracy"], "accuracy of a bin = fraction of its predictions that are "
                 "correct (NaN when empty)", what=f"accuracy ({what})", **TOL)
    expect_close(got["confidence"], want["confidence"], "confidence of a bin = mean confidence of its "
                 "predictions (NaN when empty)", what=f"confidence ({what})", **TOL)


# --------------------------------------------------------------------------------------------
# Agreement on random data
# --------------------------------------------------------------------------------------------

@check("reliability_bins agrees with a loop oracle on random miscalibrated data (1 to 20 bins)", points=2)
def bins_agree(run):
    for seed in range(8):
        c, y, n_bins = dataset(seed)
        expect_bins(run(V.bins, c, y, n_bins)["bins"], oracle(c, y, n_bins), n_bins, f"seed {seed}, {n_bins} bins")


@check("expected_calibration_error agrees with sum (n_b / n) |acc_b - conf_b| on random data", points=2)
def ece_agrees(run):
    for seed in range(10, 18):
        c, y, n_bins = dataset(seed)
        expect_close(run(V.only, "expected_calibration_error", c, y, n_bins), oracle(c, y, n_bins)["ece"],
                     "ECE = sum over non-empty bins of (n_b / n) * |acc_b - conf_b|",
                     what=f"expected_calibration_error (seed {seed}, {n_bins} bins)", **TOL)


@check("n_bins defaults to 10 in all four functions")
def default_bins(run):
    c, y, _ = dataset(40, n=400)
    s = torch.randint(0, 3, (c.numel(),), generator=torch.Generator().manual_seed(40))
    want = oracle(c, y, 10)
    expect_bins(run(V.only, "reliability_bins", c, y), want, 10, "reliability_bins(confidences, correct)")
    for name in ("expected_calibration_error", "maximum_calibration_error"):
        expect_close(run(V.only, name, c, y), want["ece" if name.startswith("expected") else "mce"],
                     "n_bins defaults to 10 equal-width bins", what=f"{name}(confidences, correct)", **TOL)
    expect_close(run(V.only, "group_calibration_gap", c, y, s)["max_gap"], group_oracle(c, y, s, 10)["max_gap"],
                 "n_bins defaults to 10 equal-width bins", what="group_calibration_gap(...)['max_gap']", **TOL)


@check("maximum_calibration_error agrees with the largest |acc_b - conf_b| of a non-empty bin")
def mce_agrees(run):
    for seed in range(20, 28):
        c, y, n_bins = dataset(seed)
        expect_close(run(V.only, "maximum_calibration_error", c, y, n_bins), oracle(c, y, n_bins)["mce"],
                     "MCE = max over non-empty bins of |acc_b - conf_b| (empty bins take no part)",
                     what=f"maximum_calibration_error (seed {seed}, {n_bins} bins)", **TOL)


@check("group_calibration_gap agrees with per-group ECEs (each on the group's own n) and their max - min",
       points=2)
def groups_agree(run):
    for seed in range(30, 36):
        c, y, n_bins = dataset(seed)
        g = torch.Generator().manual_seed(seed)
        ids = torch.randperm(50, generator=g)[:int(torch.randint(2, 5, (), generator=g))] - 20
        s = ids[torch.randint(0, ids.numel(), (c.numel(),), generator=g)]
        want = group_oracle(c, y, s, n_bins)
        got = run(V.groups, c, y, s, n_bins)
        if not isinstance(got, dict):
            raise Fail("group_calibration_gap returns a dict", f"your code returned {describe(got)}")
        expect_equal(got.get("groups"), want["groups"], "groups are the distinct ids, ascending",
                     what=f"groups (seed {seed})")
        expect_close(got.get("ece"), want["ece"], "each group's ECE uses only that group's predictions, weighted "
                     "by n_b / n_group (not / n of everyone)", what=f"ece (seed {seed})", **TOL)
        expect_close(got.get("max_gap"), want["max_gap"], "max_gap = max - min of the groups' ECEs",
                     what=f"max_gap (seed {seed})", **TOL)


# --------------------------------------------------------------------------------------------
# Edges, empty bins and special cases
# --------------------------------------------------------------------------------------------

@check("confidences exactly on bin edges go to the lower bin; 0 goes to the first bin and 1 to the last",
       points=2)
def edges(run):
    c = torch.tensor([0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0, 0.5, 1.0, 0.0], dtype=torch.float64)
    y = torch.tensor([1, 0, 1, 1, 0, 1, 0, 1, 1, 1, 0, 0])
    for n_bins in (4, 8, 2):
        want = oracle(c, y, n_bins)
        expect_bins(run(V.bins, c, y, n_bins)["bins"], want, n_bins, f"confidences on the edges, {n_bins} bins")
    got = run(V.bins, c, y, 8)
    expect_close(got["ece"], oracle(c, y, 8)["ece"], "a confidence of exactly 0 counts (in bin 0): dropping it "
                 "(p > lower edge in every bin) changes n and the first bin", what="ECE with edges", **TOL)


@check("empty bins are NaN in the diagram and take no part in ECE or MCE")
def empty_bins_excluded(run):
    c = torch.tensor([0.05, 0.08, 0.93, 0.97, 0.99], dtype=torch.float64)    # 10 bins: only 0 and 9 used
    y = torch.tensor([0, 1, 1, 1, 0])
    want = oracle(c, y, 10)
    got = run(V.bins, c, y, 10)
    expect_bins(got["bins"], want, 10, "8 of 10 bins empty")
    expect_close(got["ece"], want["ece"], "empty bins add nothing to ECE", what="ECE", **TOL)
    expect_close(got["mce"], want["mce"], "MCE is a max over the non-empty bins only", what="MCE", **TOL)


@check("one bin: ECE = |overall accuracy - mean confidence|; a calibrated-by-construction input has ECE 0")
def one_bin_and_calibrated(run):
    c, y, _ = dataset(40)
    want = abs(y.double().mean().item() - c.mean().item())
    expect_close(run(V.only, "expected_calibration_error", c, y, 1), want,
                 "with n_bins = 1, ECE = |mean(correct) - mean(confidence)|", what="ECE, n_bins=1", **TOL)
    # 0.2 x5 (1 correct), 0.6 x5 (3 correct), 0.9 x10 (9 correct): every bin is calibrated
    c = torch.tensor([0.2] * 5 + [0.6] * 5 + [0.9] * 10, dtype=torch.float64)
    y = torch.tensor([1, 0, 0, 0, 0] + [1, 1, 1, 0, 0] + [1] * 9 + [0])
    for name in ("expected_calibration_error", "maximum_calibration_error"):
        expect_close(run(V.only, name, c, y, 10), 0.0, "accuracy equal to confidence in every bin gives 0",
                     what=f"{name} (calibrated input)", rtol=0, atol=1e-12)


@check("a single group gives max_gap 0; groups with ids -5, 3, 40 are found and sorted")
def group_edges(run):
    c, y, _ = dataset(41)
    got = run(V.groups, c, y, torch.full((c.numel(),), 7), 10)
    expect_close(got.get("max_gap") if isinstance(got, dict) else got, 0.0, "one group: max - min of one ECE is 0",
                 what="max_gap (one group)", **TOL)
    s = torch.tensor([40, -5, 3])[torch.arange(c.numel()) % 3]
    want = group_oracle(c, y, s, 10)
    got = run(V.groups, c, y, s, 10)
    expect_equal(got.get("groups") if isinstance(got, dict) else got, want["groups"],
                 "groups are the distinct ids of sensitive, ascending", what="groups")
    expect_close(got["ece"], want["ece"], "each group's ECE on its own predictions", what="ece", **TOL)


# --------------------------------------------------------------------------------------------
# Top-label confidence
# --------------------------------------------------------------------------------------------

@check("top_label_confidence agrees with the row max and first argmax on random 2-D inputs, ties included")
def top_label_agrees(run):
    g = torch.Generator().manual_seed(50)
    for dtype in (torch.float32, torch.float64):
        logits = torch.randint(0, 4, (200, 5), generator=g).to(dtype)          # many ties
        probs = logits.softmax(dim=1)
        labels = torch.randint(0, 5, (200,), generator=g)
        got = run(V.top_label, probs, labels)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Fail("top_label_confidence returns (confidences, correct)", f"your code returned {describe(got)}")
        conf = [max(row) for row in probs.tolist()]
        first = [row.index(max(row)) for row in probs.tolist()]
        expect_close(got[0], torch.tensor(conf, dtype=dtype), "the confidence is the row's largest probability, "
                     "in the dtype of probs", rtol=0, atol=0, check_dtype=True, what=f"confidences ({dtype})")
        expect_equal(got[1], torch.tensor([f == l for f, l in zip(first, labels.tolist())]),
                     "correct: the predicted class is the FIRST index of the row's largest probability",
                     what=f"correct ({dtype})")
        expect(got[1].dtype == torch.bool, "correct is a bool tensor", f"your code returned dtype {got[1].dtype}")


# --------------------------------------------------------------------------------------------
# Precision, dtypes, inputs
# --------------------------------------------------------------------------------------------

@check("50,000 float32 confidences: sums are accumulated in float64 (ECE exact to 1e-10)")
def float32_large(run):
    g = torch.Generator().manual_seed(60)
    n = 50_000
    c = torch.rand(n, generator=g) ** 0.5                                     # float32
    y = (torch.rand(n, generator=g) < c.double() ** 1.5).long()
    # vectorised float64 oracle (the loop would be slow here): bins by ceil(p * 10) - 1, exact for float32 p
    p = c.double()
    b = (torch.ceil(p * 10) - 1).clamp(min=0).long()
    count = torch.bincount(b, minlength=10).double()
    acc = torch.bincount(b, weights=y.double(), minlength=10) / count
    conf = torch.bincount(b, weights=p, minlength=10) / count
    got = run(V.bins, c, y, 10)
    expect_close(V.bin_table(got["bins"], 10, "float32 input")["confidence"], conf,
                 "the bin means are computed in float64 (convert the confidences with .double() first; "
                 "float32 keeps only about 7 digits)", rtol=1e-12, atol=1e-12, check_dtype=True,
                 what="confidence (float32 input, n = 50,000)")
    want_ece = float(((acc - conf).abs() * count).sum() / n)
    expect_close(got["ece"], want_ece, "ECE computed in float64", rtol=1e-10, atol=1e-12, what="ECE")


@check("accepts bool, int and float outcomes and float32 confidences; returns float64, Python floats; "
       "modifies no input")
def dtypes_and_inputs(run):
    c, y, n_bins = dataset(70, dtype=torch.float32)
    want = oracle(c, y, n_bins)
    for yy, name in ((y.bool(), "bool"), (y.int(), "int32"), (y.float(), "float")):
        before = [c.clone(), yy.clone()]
        got = run(V.bins, c, yy, n_bins)
        expect_bins(got["bins"], want, n_bins, f"{name} outcomes")
        for k in ("accuracy", "confidence"):
            expect(got["bins"][k].dtype == torch.float64, "accuracy and confidence are float64 tensors",
                   f"{k} has dtype {got['bins'][k].dtype}")
        expect(got["bins"]["count"].dtype == torch.int64, "count is an int64 tensor",
               f"count has dtype {got['bins']['count'].dtype}")
        for k in ("ece", "mce"):
            expect(isinstance(got[k], float), "ECE and MCE are Python floats (use float(...) or .item())",
                   f"{k}: your code returned {describe(got[k])}")
        for b, a, arg in zip(before, got["inputs_after"], ("confidences", "correct")):
            expect(isinstance(a, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b),
                   "the inputs must not be modified", f"{arg} changed ({name} outcomes)")
