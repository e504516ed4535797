"""Target (mean) encoding with smoothing, and out-of-fold encoding of the training set.

A high-cardinality categorical feature (user id, zip code, product) is too wide to one-hot.
Target encoding replaces each category by a number learned from the target: the mean of y over
the training rows of that category.  Two problems come with it, and this exercise handles both.

**Rare categories are noisy.**  A category seen once has a "mean" that is just that row's label.
Smoothing shrinks every category mean towards the global mean, more strongly the fewer rows it
has (Micci-Barreca, 2001, "A preprocessing scheme for high-cardinality categorical attributes"):

    enc(c) = (n_c * mean_c + m * global_mean) / (n_c + m)

with n_c the number of training rows of category c, mean_c their mean target, and the
smoothing strength m >= 0 acting like m extra rows at the global mean.  m = 0 gives the plain
category mean; m -> infinity gives the global mean for everything.  A category never seen in
training has n_c = 0 and gets the global mean (for every m, m = 0 included).

**Target leakage.**  Encoding a training row with a mean that includes its *own* label hands the
model a noisy copy of the answer: a category seen once is encoded as exactly its label, and the
downstream model learns to trust a feature that will be useless at test time.  The training set
is therefore encoded *out of fold*: the rows are split into K folds (given as a fold id per row),
and the rows of fold k are encoded by an encoder fitted on the other folds only -- with those
folds' own counts, means *and* global mean.  Test data is encoded by the encoder fitted on all
training rows.

This is the formula of ``sklearn.preprocessing.TargetEncoder(smooth=m)`` for a float ``smooth``
(binary or continuous target; ``fit_transform`` with ``cv`` = the given folds).  sklearn's default
``smooth="auto"`` is different: an empirical-Bayes shrinkage whose weight per category depends on
the variance of y within it.  Write it with numpy and plain Python, without scikit-learn.
"""
from typing import Dict, Hashable

import numpy as np


class TargetEncoder:
    """Smoothed target encoding of one categorical column.

    Args (constructor):
        smoothing: m >= 0 (finite), the weight of the global mean in ``enc(c)``.

    Fitted attributes (set by ``fit`` and by ``fit_transform``, from ALL the rows given):
        global_mean_: float, the mean of y.
        encodings_: dict mapping every category seen to its float encoding ``enc(c)``.
    """

    def __init__(self, smoothing: float = 1.0):
        self.smoothing = smoothing

    def fit(self, x: np.ndarray, y: np.ndarray) -> "TargetEncoder":
        """Learn ``global_mean_`` and ``encodings_``; return ``self``.

        Args:
            x: shape ``(n,)``, n >= 1, the categories (strings or ints; hashable values).
            y: shape ``(n,)``, the target: float, int or bool (bool/int are used as 0/1 numbers).
        Neither is modified.  Fitting again replaces what was learned.
        """
        ### BEGIN SOLUTION
        y = np.asarray(y, dtype=np.float64)
        self.global_mean_ = float(y.mean())
        sums: Dict[Hashable, float] = {}
        counts: Dict[Hashable, int] = {}
        for c, target in zip(np.asarray(x).tolist(), y.tolist()):
            sums[c] = sums.get(c, 0.0) + target
            counts[c] = counts.get(c, 0) + 1
        m = self.smoothing
        # n_c * mean_c is the category's sum of targets
        self.encodings_ = {c: (sums[c] + m * self.global_mean_) / (counts[c] + m) for c in sums}
        return self
        ### END SOLUTION

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Encode ``x`` ``(m_rows,)`` with the fitted encodings: a new float64 array ``(m_rows,)``.

        A category absent from ``encodings_`` is encoded as ``global_mean_``.
        """
        ### BEGIN SOLUTION
        return np.array([self.encodings_.get(c, self.global_mean_) for c in np.asarray(x).tolist()],
                        dtype=np.float64)
        ### END SOLUTION

    def fit_transform(self, x: np.ndarray, y: np.ndarray, folds: np.ndarray) -> np.ndarray:
        """Out-of-fold encodings of the training rows; afterwards the encoder is fitted on all rows.

        Args:
            x, y: as in ``fit``, shape ``(n,)``.
            folds: int array ``(n,)``, the fold id of every row (any integers, at least two
                distinct ids).  Not modified.

        For every fold id k, a fresh encoder with the same smoothing is fitted on the rows whose
        fold is not k (their own global mean included), and encodes the rows whose fold is k; a
        category absent from those other folds gets their global mean.  So no row's encoding
        depends on its own y.

        Returns:
            float64 array ``(n,)``.  Afterwards ``global_mean_`` and ``encodings_`` are those of
            ``fit(x, y)`` on all rows (ready to ``transform`` test data).
        """
        ### BEGIN SOLUTION
        x, y, folds = np.asarray(x), np.asarray(y), np.asarray(folds)
        out = np.empty(len(x), dtype=np.float64)
        for k in np.unique(folds):
            held_out = folds == k
            inner = TargetEncoder(self.smoothing).fit(x[~held_out], y[~held_out])
            out[held_out] = inner.transform(x[held_out])
        self.fit(x, y)
        return out
        ### END SOLUTION
