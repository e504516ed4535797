"""Visible checks: smoothed encodings of a 3-category column, the global mean for an unseen
category, m = 0 (plain category means), and out-of-fold encoding with two folds."""
import numpy as np
import torch

from mlkata.checks import check, expect_close, probe


def _snap(v):
    return v.copy() if isinstance(v, np.ndarray) else v


def _plain_key(k):
    return k.item() if hasattr(k, "item") else k


@probe
def encode(sub, x_fit, y_fit, x_apply=None, smoothing=None, folds=None):
    """Fit ``sub.TargetEncoder(smoothing)`` by ``fit`` (or by ``fit_transform`` with ``folds``);
    report the out-of-fold encodings, global_mean_, encodings_, the encodings of ``x_fit`` and
    ``x_apply``, and the inputs afterwards.  ``smoothing=None`` leaves it at its default (1.0)."""
    enc = sub.TargetEncoder() if smoothing is None else sub.TargetEncoder(smoothing=smoothing)
    out = {}
    if folds is None:
        out["fit_returns_self"] = enc.fit(x_fit, y_fit) is enc
    else:
        out["oof"] = _snap(enc.fit_transform(x_fit, y_fit, folds))
    out["global_mean"] = getattr(enc, "global_mean_", None)
    encodings = getattr(enc, "encodings_", None)
    out["encodings"] = ({_plain_key(k): v for k, v in encodings.items()} if isinstance(encodings, dict)
                        else encodings)
    out["train"] = _snap(enc.transform(x_fit))
    if x_apply is not None:
        out["test"] = _snap(enc.transform(x_apply))
    out["inputs_after"] = {"x": np.asarray(x_fit).tolist(), "y": np.asarray(y_fit).tolist(),
                           "folds": None if folds is None else np.asarray(folds).tolist()}
    return out


def t(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


X = np.array(["a", "a", "a", "b", "b", "c"])
Y = np.array([1.0, 1.0, 0.0, 0.0, 0.0, 1.0])          # global mean 0.5


@check("enc(c) = (n_c * mean_c + m * global_mean) / (n_c + m), and global_mean_ is the mean of y")
def smoothed_means(run):
    got = run(encode, X, Y, smoothing=2.0)
    expect_close(got["global_mean"], 0.5, "global_mean_ is the mean of y over all fitted rows", what="global_mean_")
    want = {"a": (3 * (2 / 3) + 2 * 0.5) / (3 + 2), "b": (2 * 0.0 + 2 * 0.5) / (2 + 2), "c": (1 * 1.0 + 2 * 0.5) / (1 + 2)}
    expect_close(got["encodings"], want, "enc(c) = (n_c * mean_c + m * global_mean) / (n_c + m)",
                 what="encodings_ with m = 2")
    expect_close(got["train"], t([want[c] for c in X]), "transform looks each category up in encodings_",
                 what="transform(x) with m = 2")


@check("a category never seen in fit is encoded as the global mean")
def unseen_global_mean(run):
    got = run(encode, X, Y, x_apply=np.array(["d", "zz"]), smoothing=2.0)
    expect_close(got["test"], t([0.5, 0.5]), "an unseen category has n_c = 0, so its encoding is the global "
                 "mean (0.5 here)", what="transform(['d', 'zz']) with m = 2")


@check("m = 0 gives the plain category means, unseen categories still the global mean (no 0/0)")
def no_smoothing(run):
    got = run(encode, X, Y, x_apply=np.array(["c", "new"]), smoothing=0.0)
    expect_close(got["train"], t([2 / 3, 2 / 3, 2 / 3, 0.0, 0.0, 1.0]), "with m = 0, enc(c) = mean_c",
                 what="transform(x) with m = 0")
    expect_close(got["test"], t([1.0, 0.5]), "an unseen category gets the global mean, even with m = 0 (the formula "
                 "would be 0 / 0)", what="transform(['c', 'new']) with m = 0")


@check("fit_transform encodes each fold with an encoder fitted on the other folds only")
def out_of_fold(run):
    folds = np.array([0, 1, 0, 1, 0, 1])
    got = run(encode, X, Y, folds=folds)                     # smoothing: the default, 1.0
    # fold 0 (rows 0, 2, 4) is encoded from rows 1, 3, 5: a -> y [1], b -> [0], c -> [1], global mean 2/3
    # fold 1 (rows 1, 3, 5) is encoded from rows 0, 2, 4: a -> [1, 0], b -> [0], c unseen, global mean 1/3
    g0, g1 = 2 / 3, 1 / 3
    want = [(1 + g0) / 2, (1 + g1) / 3, (1 + g0) / 2, (0 + g1) / 2, (0 + g0) / 2, g1]
    expect_close(got["oof"], t(want), "row i in fold k is encoded by an encoder fitted on the rows of the other folds "
                 "(their counts, means and global mean): its own y never enters its encoding",
                 what="fit_transform(x, y, folds=[0, 1, 0, 1, 0, 1]) with m = 1")
