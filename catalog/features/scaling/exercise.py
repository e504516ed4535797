"""Feature scaling: standardisation and min-max scaling, fitted on the training set only.

Many models care about the scale of their inputs: gradient descent zig-zags when one feature
is in metres and another in millimetres, k-NN and k-means measure distance in raw units, and
an L2 penalty punishes a weight more for a feature with small units.  The two classic fixes:

* **Standardisation**: ``z = (x - mean) / std`` per feature (column), so every feature has
  mean 0 and (population) standard deviation 1 on the data it was fitted on.
* **Min-max scaling**: ``z = a + (x - min) * (b - a) / (max - min)`` per feature, mapping the
  fitted data's range onto ``feature_range = (a, b)``.

The statistics are a *model*: ``fit`` learns them from the training set, and ``transform``
applies those fitted numbers to any data -- the training set, a test set, tomorrow's traffic.
Recomputing them on the test set leaks test information into the pipeline (and makes a
single-row batch meaningless).  ``inverse_transform`` maps scaled values back to raw units.

Two details decide agreement with scikit-learn (``sklearn.preprocessing.StandardScaler`` and
``sklearn.preprocessing.MinMaxScaler``, which these classes mirror with their default options):

* the standard deviation is the *population* one (divide by n, ``ddof=0``), not the sample one;
* a constant feature (all fitted values equal) would divide by zero: its scale is taken as 1
  instead, so it standardises to 0 and min-max scales to ``a``.

Write it with numpy (float64 throughout), without scikit-learn.
"""
from typing import Tuple

import numpy as np


class StandardScaler:
    """Per-feature standardisation ``(x - mean_) / scale_``, as sklearn's ``StandardScaler()``.

    Fitted attributes (set by ``fit``; each a float64 array of shape ``(d,)``):
        mean_: the mean of every column of the fitted ``X``.
        var_: the population variance of every column (``sum((x - mean)^2) / n``, ddof=0).
        scale_: ``sqrt(var_)``, except 1.0 for a constant column.

    A column is constant when all its fitted values are equal.  Decide that exactly (max == min):
    the computed variance of a constant column can be rounding noise instead of 0 (seven copies
    of 0.1 give var 1.9e-34), and dividing by its square root would blow that noise up to +-1.
    sklearn treats such noise-level variances as 0 too.
    """

    def fit(self, X: np.ndarray) -> "StandardScaler":
        """Learn ``mean_``, ``var_`` and ``scale_`` from ``X``; return ``self``.

        Args:
            X: array of shape ``(n, d)``, n >= 1, any real dtype (ints included), finite.
               Not modified.  Fitting again replaces the statistics (it does not accumulate).
        """
        ### BEGIN SOLUTION
        X = np.asarray(X, dtype=np.float64)
        self.mean_ = X.mean(axis=0)                                   # (d,)
        self.var_ = ((X - self.mean_) ** 2).mean(axis=0)              # (d,) two-pass: no cancellation
        constant = X.max(axis=0) == X.min(axis=0)                     # exact, unlike var_ == 0
        self.scale_ = np.where(constant, 1.0, np.sqrt(self.var_))     # constant column: divide by 1
        return self
        ### END SOLUTION

    def transform(self, X: np.ndarray) -> np.ndarray:
        """``(X - mean_) / scale_`` with the FITTED statistics.

        Args:
            X: array of shape ``(m, d)`` (any m >= 1; the same d as at fit), not modified.

        Returns:
            a new float64 array of shape ``(m, d)``.
        """
        ### BEGIN SOLUTION
        X = np.asarray(X, dtype=np.float64)
        return (X - self.mean_) / self.scale_
        ### END SOLUTION

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``: the same result and the same fitted state."""
        ### BEGIN SOLUTION
        return self.fit(X).transform(X)
        ### END SOLUTION

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        """Undo ``transform``: ``Z * scale_ + mean_`` (float64 ``(m, d)``; ``Z`` not modified)."""
        ### BEGIN SOLUTION
        Z = np.asarray(Z, dtype=np.float64)
        return Z * self.scale_ + self.mean_
        ### END SOLUTION


class MinMaxScaler:
    """Per-feature min-max scaling onto ``feature_range``, as sklearn's ``MinMaxScaler(feature_range)``.

    Args (constructor):
        feature_range: ``(a, b)`` with ``a < b``; the fitted minimum of each column maps to a,
            the fitted maximum to b.

    Fitted attributes (set by ``fit``; each a float64 array of shape ``(d,)``):
        data_min_, data_max_: the column minima and maxima of the fitted ``X``.
        scale_: ``(b - a) / (data_max_ - data_min_)``, with a zero range replaced by 1, so a
            constant column gets ``scale_ = b - a``.
        min_: ``a - data_min_ * scale_``, so that ``transform(X) = X * scale_ + min_``.

    Values outside the fitted range map outside ``[a, b]`` (no clipping).
    """

    def __init__(self, feature_range: Tuple[float, float] = (0.0, 1.0)):
        self.feature_range = feature_range

    def fit(self, X: np.ndarray) -> "MinMaxScaler":
        """Learn ``data_min_``, ``data_max_``, ``scale_`` and ``min_`` from ``X`` (n, d); return ``self``.

        ``X``: any real dtype, finite, n >= 1; not modified.  Fitting again replaces the statistics.
        """
        ### BEGIN SOLUTION
        X = np.asarray(X, dtype=np.float64)
        a, b = self.feature_range
        self.data_min_ = X.min(axis=0)                                # (d,)
        self.data_max_ = X.max(axis=0)
        data_range = self.data_max_ - self.data_min_
        data_range = np.where(data_range == 0, 1.0, data_range)      # constant column: divide by 1
        self.scale_ = (b - a) / data_range
        self.min_ = a - self.data_min_ * self.scale_
        return self
        ### END SOLUTION

    def transform(self, X: np.ndarray) -> np.ndarray:
        """``X * scale_ + min_`` with the FITTED statistics: a new float64 ``(m, d)`` array."""
        ### BEGIN SOLUTION
        X = np.asarray(X, dtype=np.float64)
        return X * self.scale_ + self.min_
        ### END SOLUTION

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        ### BEGIN SOLUTION
        return self.fit(X).transform(X)
        ### END SOLUTION

    def inverse_transform(self, Z: np.ndarray) -> np.ndarray:
        """Undo ``transform``: ``(Z - min_) / scale_`` (float64 ``(m, d)``; ``Z`` not modified)."""
        ### BEGIN SOLUTION
        Z = np.asarray(Z, dtype=np.float64)
        return (Z - self.min_) / self.scale_
        ### END SOLUTION
