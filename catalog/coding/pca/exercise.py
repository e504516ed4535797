"""Principal component analysis by the SVD of the centred data.

PCA finds the orthonormal directions along which the data vary most.  With the centred data
``Xc = X - mean(X)`` (n rows) and its thin SVD ``Xc = U diag(S) Vt`` (singular values in
decreasing order), the rows of ``Vt`` are the principal axes and the variance of the data
along axis ``i`` is

    explained_variance[i] = S[i]^2 / (n - 1)          (the unbiased, n - 1, estimate),

which are also the eigenvalues of the sample covariance ``Xc^T Xc / (n - 1)``.  The
``explained_variance_ratio`` divides them by the total variance -- the sum over ALL
``min(n, d)`` components (the trace of the covariance), not just the kept ones.

Why the SVD of ``Xc`` and not ``eigh`` of the covariance: forming ``Xc^T Xc`` squares every
singular value, so a direction whose spread is 1e-3 of the largest one has a covariance
eigenvalue 1e-6 of the largest, and eigh's rounding error (about eps times the largest) wipes
out its digits -- in float32 even at a spread ratio of 1e-2.  And centre first: the one-pass
formula ``X^T X / n - mean mean^T`` cancels catastrophically when the mean is large.

Signs are arbitrary (``v`` and ``-v`` are the same axis), so fix them as scikit-learn's
``svd_flip(u_based_decision=False)`` does: in each component the entry of largest absolute
value (the first one on a tie) is made positive.

Mirror ``sklearn.decomposition.PCA(n_components, svd_solver="full")`` (whiten=False): attributes
``mean_``, ``components_``, ``explained_variance_``, ``explained_variance_ratio_``,
``singular_values_``, ``n_components_``, and ``transform`` / ``inverse_transform``.  Write it in
torch (or numpy) without scikit-learn or ``torch.pca_lowrank``.
"""
from typing import Optional

import torch


class PCA:
    """PCA keeping ``n_components`` components (None: all ``min(n, d)``)."""

    def __init__(self, n_components: Optional[int] = None):
        self.n_components = n_components

    def fit(self, X: torch.Tensor) -> "PCA":
        """Fit on ``X`` (float tensor ``(n, d)``, float32 or float64; computed in its dtype).

        Sets, all in X's dtype, with ``k`` the number of kept components:

        * ``mean_`` ``(d,)``: the column means;
        * ``components_`` ``(k, d)``: unit-norm, mutually orthogonal rows, in decreasing order of
          explained variance, each with its largest-|value| entry positive;
        * ``explained_variance_`` ``(k,)``: ``S^2 / (n - 1)``, decreasing;
        * ``explained_variance_ratio_`` ``(k,)``: those divided by the total variance of all
          ``min(n, d)`` components;
        * ``singular_values_`` ``(k,)``: the singular values ``S`` of the centred data;
        * ``n_components_`` (int): ``k``.

        Raises:
            ValueError: if ``n < 2``, or ``n_components`` is not an int in ``1 .. min(n, d)``.

        Returns ``self``.  ``X`` is not modified.
        """
        ### BEGIN SOLUTION
        n, d = X.shape
        if n < 2:
            raise ValueError(f"PCA needs at least 2 samples, got {n}")
        k = min(n, d) if self.n_components is None else self.n_components
        if not isinstance(k, int) or not 1 <= k <= min(n, d):
            raise ValueError(f"n_components must be an int in 1..{min(n, d)}, got {self.n_components!r}")
        self.mean_ = X.mean(dim=0)                                          # (d,)
        U, S, Vt = torch.linalg.svd(X - self.mean_, full_matrices=False)    # (n, r), (r,), (r, d); r = min(n, d)
        # svd_flip: the largest-|value| entry of each row of Vt becomes positive
        top = Vt.abs().argmax(dim=1)                                        # (r,)
        Vt = Vt * torch.sign(Vt[torch.arange(Vt.shape[0]), top]).unsqueeze(1)
        var = S ** 2 / (n - 1)                                              # (r,)
        self.components_ = Vt[:k]
        self.explained_variance_ = var[:k]
        self.explained_variance_ratio_ = var[:k] / var.sum()
        self.singular_values_ = S[:k]
        self.n_components_ = k
        return self
        ### END SOLUTION

    def transform(self, X: torch.Tensor) -> torch.Tensor:
        """Coordinates of the rows of ``X`` ``(m, d)`` on the components: ``(X - mean_) components_^T``, ``(m, k)``."""
        ### BEGIN SOLUTION
        return (X - self.mean_) @ self.components_.T
        ### END SOLUTION

    def inverse_transform(self, Z: torch.Tensor) -> torch.Tensor:
        """Back to data space: ``Z components_ + mean_``, ``(m, d)`` for ``Z`` ``(m, k)``.

        For ``k = min(n, d)`` components ``inverse_transform(transform(X))`` gives ``X`` back
        (up to rounding) for rows in the span of the data; for fewer it is the projection onto
        the kept components.
        """
        ### BEGIN SOLUTION
        return Z @ self.components_ + self.mean_
        ### END SOLUTION
