"""One-hot encoding of categorical columns, with unseen categories and a dropped baseline.

A categorical feature (colour, country, product id) has no order, so feeding its codes 0, 1, 2
to a linear model invents one.  One-hot encoding gives each category its own 0/1 column instead:
a column with k categories becomes k indicator columns, exactly one of which is 1 per row.

The category list is *learned* by ``fit`` from the training data, and fixed from then on:

* the categories of each column are its distinct values **sorted** (numbers numerically,
  strings by code point: ``"B" < "_" < "a" < "é"``), so the output layout does not depend on
  the order the rows came in;
* at ``transform`` time a value never seen in ``fit`` (a new country in production) cannot get a
  column of its own -- with ``handle_unknown="ignore"`` its block is all zeros;
* ``drop="first"`` removes the first category's column from every block: with an intercept,
  the k indicators of a block sum to 1 and are collinear, and k - 1 of them carry the same
  information (the dropped category is the all-zero baseline).  A column with a single
  category then contributes no columns at all.

This mirrors ``sklearn.preprocessing.OneHotEncoder(handle_unknown="ignore", sparse_output=False)``
(and ``drop="first"``), with its ``categories_`` and ``get_feature_names_out`` naming.  Write it
with numpy and plain Python, without scikit-learn or pandas.
"""
from typing import List, Optional, Sequence

import numpy as np


class OneHotEncoder:
    """One-hot encoder of the columns of a 2-D array; unseen categories encode as all zeros.

    Args (constructor):
        drop: None (keep every category) or ``"first"`` (drop each column's first category).

    Fitted attribute (set by ``fit``):
        categories_: a list of d 1-D numpy arrays; ``categories_[j]`` holds the distinct values of
            column j of the fitted data, sorted ascending.

    Output layout: the blocks of columns 0, 1, ..., d-1 side by side; block j has one column per
    category of ``categories_[j]`` in sorted order (minus the first one when ``drop="first"``).
    """

    def __init__(self, drop: Optional[str] = None):
        self.drop = drop

    def fit(self, X: np.ndarray) -> "OneHotEncoder":
        """Learn ``categories_`` from ``X``; return ``self``.

        Args:
            X: numpy array of shape ``(n, d)``, n >= 1: strings (dtype ``<U``), ints, or dtype
               object where each column holds only strings or only ints.  No missing values.
               Not modified.  Fitting again replaces the categories.
        """
        ### BEGIN SOLUTION
        X = np.asarray(X)
        self.categories_ = [np.unique(X[:, j]) for j in range(X.shape[1])]      # sorted distinct values
        return self
        ### END SOLUTION

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Encode ``X`` ``(m, d)`` with the FITTED categories.

        Returns:
            a new float64 array of shape ``(m, n_out)``, ``n_out = sum_j len(categories_[j])``
            (minus one per column when ``drop="first"``): 1.0 where row i holds that column's
            category, else 0.0.  A value not in ``categories_[j]`` gives zeros in all of block j
            (never an error, never a new column).  ``X`` is not modified.
        """
        ### BEGIN SOLUTION
        X = np.asarray(X)
        first = 1 if self.drop == "first" else 0
        blocks = []
        for j, cats in enumerate(self.categories_):
            hits = X[:, j][:, None] == cats[None, :]          # (m, k): unseen values match nothing
            blocks.append(hits[:, first:].astype(np.float64))  # (m, k - first)
        return np.concatenate(blocks, axis=1)
        ### END SOLUTION

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        ### BEGIN SOLUTION
        return self.fit(X).transform(X)
        ### END SOLUTION

    def get_feature_names(self, input_features: Optional[Sequence[str]] = None) -> List[str]:
        """Names of the output columns, in output order: ``f"{input_features[j]}_{category}"``.

        Args:
            input_features: the d column names; None means ``["x0", "x1", ...]``.

        Returns:
            a list of ``n_out`` strings (``str(category)``: the int 10 gives ``"x1_10"``); the
            dropped first categories have no name, as they have no column.
        """
        ### BEGIN SOLUTION
        if input_features is None:
            input_features = [f"x{j}" for j in range(len(self.categories_))]
        first = 1 if self.drop == "first" else 0
        return [f"{input_features[j]}_{c}" for j, cats in enumerate(self.categories_)
                for c in cats.tolist()[first:]]
        ### END SOLUTION
