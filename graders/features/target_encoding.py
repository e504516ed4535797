"""Hidden graders of features/target_encoding: the smoothed encoder against the grader's own loop
oracle (tests/test_twins_features_target_encoding.py shows it and the reference agree with
sklearn.preprocessing.TargetEncoder(smooth=m, cv=PredefinedSplit(folds)) for continuous and binary
targets) on random columns; unseen categories, m = 0 and m -> infinity; out-of-fold encoding with
arbitrary fold ids; the leakage property (a row's own y never moves its encoding); the fold's own
global mean; the encoder's state after fit_transform; target dtypes; untouched inputs."""
import numpy as np
import torch

from mlkata.checks import check, expect, expect_close, expect_tensor, visible_module

V = visible_module("features/target_encoding")
t = V.t


# --------------------------------------------------------------------------------------------
# The oracle: explicit loops over rows, written from the formula
# --------------------------------------------------------------------------------------------

def oracle_fit(x, y, m):
    x, y = list(np.asarray(x).tolist()), [float(v) for v in np.asarray(y).tolist()]
    g = sum(y) / len(y)
    enc = {}
    for c in set(x):
        ys = [yi for xi, yi in zip(x, y) if xi == c]
        mean_c = sum(ys) / len(ys)
        enc[c] = (len(ys) * mean_c + m * g) / (len(ys) + m)
    return g, enc


def oracle_transform(fitted, x):
    g, enc = fitted
    return np.array([enc[c] if c in enc else g for c in np.asarray(x).tolist()], dtype=np.float64)


def oracle_oof(x, y, folds, m):
    x, y, folds = np.asarray(x), np.asarray(y), np.asarray(folds)
    out = np.zeros(len(x))
    for i in range(len(x)):
        others = [j for j in range(len(x)) if folds[j] != folds[i]]
        out[i] = oracle_transform(oracle_fit(x[others], y[others], m), x[i:i + 1])[0]
    return out


def random_column(seed, n=None, binary=None):
    """(x, y, folds, x_test): categories with skewed frequencies (some seen once), strings or ints."""
    rng = np.random.default_rng(seed)
    n = n or int(rng.integers(8, 60))
    k = int(rng.integers(2, 12))
    probs = rng.dirichlet(np.full(k, 0.7))
    codes = rng.choice(k, size=n, p=probs)
    if seed % 2:
        names = np.array([f"cat_{i}" for i in range(k + 3)])
    else:
        names = np.arange(k + 3) * 7 - 10
    x = names[codes]
    binary = seed % 3 == 0 if binary is None else binary
    if binary:
        y = (rng.random(n) < 0.2 + 0.6 * (codes % 3) / 2).astype(np.float64)
    else:
        y = rng.normal(codes * 0.5, 1.0) * 10
    folds = rng.integers(0, int(rng.integers(2, 6)), size=n)
    folds[:2] = [0, 1]                                   # at least two folds
    x_test = names[rng.integers(0, k + 3, size=10)]      # k .. k + 2 are never seen
    return x, y, folds, x_test


ENC = "enc(c) = (n_c * mean_c + m * global_mean) / (n_c + m) over the fitted rows"
UNSEEN = "a category not seen in fit is encoded as global_mean_"
OOF = ("fit_transform: row i in fold k is encoded by an encoder fitted on the rows of the OTHER folds only "
       "(their counts, means and global mean); a category absent from them gets their global mean")


@check("fit + transform agree with sklearn's TargetEncoder(smooth=m) on random columns, unseen categories "
       "included", points=2)
def agrees_random(run):
    for seed, m in zip(range(8), (1.0, 0.5, 10.0, 3.0, 0.0, 20.0, 1.0, 100.0)):
        x, y, _, x_test = random_column(seed)
        fitted = oracle_fit(x, y, m)
        got = run(V.encode, x, y, x_apply=x_test, smoothing=m)
        what = f"n = {len(x)}, m = {m}, seed {seed}"
        expect_close(got["global_mean"], fitted[0], "global_mean_ is the mean of y", rtol=1e-9,
                     what=f"global_mean_ ({what})")
        expect_close(got["train"], t(oracle_transform(fitted, x)), ENC, rtol=1e-9, atol=1e-12,
                     what=f"transform of the fitted x ({what})")
        expect_close(got["test"], t(oracle_transform(fitted, x_test)), ENC + "; " + UNSEEN, rtol=1e-9, atol=1e-12,
                     what=f"transform of a test column ({what})")


@check("fit_transform gives out-of-fold encodings that agree with sklearn's cross-fitting on random folds",
       points=2)
def oof_agrees(run):
    for seed, m in zip(range(10, 18), (1.0, 5.0, 0.0, 2.0, 50.0, 0.3, 1.0, 8.0)):
        x, y, folds, _ = random_column(seed)
        got = run(V.encode, x, y, smoothing=m, folds=folds)
        expect_close(got["oof"], t(oracle_oof(x, y, folds, m)), OOF, rtol=1e-9, atol=1e-12,
                     what=f"fit_transform (n = {len(x)}, {len(set(folds.tolist()))} folds, m = {m}, seed {seed})")


@check("no target leakage: changing a row's own y never changes its out-of-fold encoding", points=2)
def oof_no_leakage(run):
    x, y, folds, _ = random_column(21, n=30, binary=False)
    shape_rule = "fit_transform returns a float array of shape (n,)"
    base = expect_tensor(run(V.encode, x, y, smoothing=2.0, folds=folds)["oof"], shape_rule, shape=(len(x),))
    for i in (0, 7, 19):
        y2 = y.copy()
        y2[i] += 1000.0
        got = expect_tensor(run(V.encode, x, y2, smoothing=2.0, folds=folds)["oof"], shape_rule, shape=(len(x),))
        same_fold = torch.as_tensor(folds == folds[i])
        expect_close(got[same_fold], base[same_fold], "the rows of fold k are encoded WITHOUT the y of fold k: "
                     f"changing y of row {i} (fold {folds[i]}) by +1000 must leave every encoding of fold {folds[i]} "
                     "unchanged", rtol=1e-9, atol=1e-12,
                     what=f"out-of-fold encodings of fold {folds[i]} after changing y[{i}]")


@check("inside a fold, a category missing from the other folds gets THEIR global mean, not the overall one")
def oof_fold_global_mean(run):
    x = np.array(["a", "a", "b", "b", "c", "a", "b", "a"])
    y = np.array([1.0, 0.0, 5.0, 7.0, 100.0, 1.0, 6.0, 3.0])
    folds = np.array([0, 0, 0, 1, 1, 1, 2, 2])          # 'c' lives only in fold 1
    got = run(V.encode, x, y, folds=folds)                   # smoothing: the default, 1.0
    want = oracle_oof(x, y, folds, 1.0)
    expect_close(got["oof"], t(want), OOF + f" (row 4, 'c', is encoded as the mean of folds 0 and 2, "
                 f"{want[4]:.4g}; the mean of all rows is {y.mean():.4g})", rtol=1e-9, what="fit_transform")


@check("after fit_transform the encoder is fitted on ALL rows: transform(test) equals fit(x, y).transform(test)")
def state_after_fit_transform(run):
    x, y, folds, x_test = random_column(31, n=40)
    fitted = oracle_fit(x, y, 3.0)
    got = run(V.encode, x, y, x_apply=x_test, smoothing=3.0, folds=folds)
    rule = ("after the fold loop, fit_transform leaves the encoder fitted on all rows (global_mean_ and encodings_ "
            "of fit(x, y)), not on the last fold's subset")
    expect_close(got["global_mean"], fitted[0], rule, rtol=1e-9, what="global_mean_ after fit_transform")
    expect_close(got["test"], t(oracle_transform(fitted, x_test)), rule, rtol=1e-9, atol=1e-12,
                 what="transform of a test column after fit_transform")


@check("m = 0 gives exact category means; a huge m (1e12) gives the global mean everywhere")
def smoothing_limits(run):
    x, y, _, x_test = random_column(41, n=50, binary=False)
    groups = {}
    for c, v in zip(x.tolist(), y.tolist()):
        groups.setdefault(c, []).append(v)
    got = run(V.encode, x, y, x_apply=x_test, smoothing=0.0)
    expect_close(got["train"], t([np.mean(groups[c]) for c in x.tolist()]), "with m = 0 the encoding is the plain "
                 "category mean", rtol=1e-9, atol=1e-12, what="transform with m = 0")
    expect_close(got["test"], t(oracle_transform(oracle_fit(x, y, 0.0), x_test)), UNSEEN + " -- also for m = 0, "
                 "where the formula would give 0 / 0 = nan", rtol=1e-9, atol=1e-12, what="transform of test with m = 0")
    got = run(V.encode, x, y, x_apply=x_test, smoothing=1e12)
    expect_close(got["train"], t(np.full(len(x), y.mean())), "as m grows the encoding tends to the global mean "
                 "(m acts like m extra rows at the global mean)", rtol=1e-6, atol=1e-9, what="transform with m = 1e12")


@check("fold ids can be any integers (e.g. 7, 3, 11), not only 0..K-1")
def arbitrary_fold_ids(run):
    x, y, folds, _ = random_column(51, n=25)
    relabel = np.array([7, 3, 11, 42, -2])[folds]
    got = run(V.encode, x, y, smoothing=1.5, folds=relabel)
    expect_close(got["oof"], t(oracle_oof(x, y, relabel, 1.5)), OOF + "; loop over the distinct fold ids present",
                 rtol=1e-9, atol=1e-12, what=f"fit_transform with fold ids {sorted(set(relabel.tolist()))}")


@check("bool and int targets are used as numbers; x, y and folds are left unchanged")
def target_dtypes_and_inputs(run):
    x, y, folds, x_test = random_column(61, n=30, binary=True)
    for yy, name in ((y.astype(bool), "bool"), (y.astype(np.int64), "int64")):
        got = run(V.encode, x, yy, smoothing=2.0, folds=folds)
        expect_close(got["oof"], t(oracle_oof(x, y, folds, 2.0)), OOF + f" ({name} y counts as 0/1)", rtol=1e-9,
                     atol=1e-12, what=f"fit_transform with {name} y")
        expect(got["inputs_after"]["y"] == yy.tolist() and got["inputs_after"]["x"] == x.tolist()
               and got["inputs_after"]["folds"] == folds.tolist(),
               "fit_transform leaves x, y and folds unchanged", f"an input changed after fit_transform ({name} y)")
        got = run(V.encode, x, yy, x_apply=x_test, smoothing=2.0)
        expect_close(got["test"], t(oracle_transform(oracle_fit(x, y, 2.0), x_test)),
                     ENC + f" ({name} y counts as 0/1)", rtol=1e-9, atol=1e-12, what=f"transform with {name} y")
