"""Naive Bayes: Gaussian and multinomial, fitted by counting and predicted in log space.

Naive Bayes classifies with Bayes' rule and one bold assumption -- the features are independent
given the class:

    log p(c | x) = log p(c) + sum_d log p(x_d | c) - log sum_c' exp(the same for c')

so fitting is counting (no optimisation) and predicting is a sum of logs.  Two likelihoods:

* **Gaussian** (continuous features): ``p(x_d | c) = N(x_d; mu_cd, var_cd)`` with the class's
  mean and BIASED variance of feature ``d``.  As in scikit-learn, every variance gets
  ``epsilon = var_smoothing * max_d var(X[:, d])`` added (the largest per-feature variance of the
  whole training set), so a feature that is constant within a class does not divide by zero.
* **Multinomial** (counts, e.g. word counts): ``p(x | c) ~ prod_d theta_cd ^ x_d`` with
  ``theta_cd = (N_cd + alpha) / (N_c + alpha * D)``, ``N_cd`` the total count of feature ``d``
  in class ``c`` and ``N_c = sum_d N_cd`` (Laplace / Lidstone smoothing: an unseen word does not
  zero the class).  The multinomial coefficient is the same for every class and is dropped.

The priors are the class frequencies.  Normalise with log-sum-exp: the joint log-likelihoods of
far-away points are around -1e4 and ``exp`` of them is 0.

This mirrors ``sklearn.naive_bayes.GaussianNB`` (``var_smoothing``) and ``MultinomialNB``
(``alpha``, ``fit_prior=True``): their ``class_log_prior_`` / ``theta_`` / ``var_`` /
``feature_log_prob_`` and ``predict_log_proba``.
"""
import math
from typing import Dict

import torch


def gaussian_nb_fit(X: torch.Tensor, y: torch.Tensor, n_classes: int, var_smoothing: float = 1e-9
                    ) -> Dict[str, torch.Tensor]:
    """Fit a Gaussian naive Bayes model.

    Args:
        X: float ``(N, D)``.
        y: int64 ``(N,)`` in ``[0, n_classes)``; every class occurs at least once.
        n_classes: ``C``.
        var_smoothing: the fraction of the largest feature variance added to every variance.

    Returns:
        ``{"log_prior": (C,), "mean": (C, D), "var": (C, D)}`` in ``X``'s dtype: ``log(N_c / N)``,
        the per-class means, and the per-class biased variances plus ``epsilon``.
        ``X`` and ``y`` are not modified.
    """
    ### BEGIN SOLUTION
    onehot = torch.nn.functional.one_hot(y, n_classes).to(X.dtype)    # (N, C)
    counts = onehot.sum(0)                                            # (C,)
    mean = onehot.T @ X / counts[:, None]                             # (C, D)
    var = onehot.T @ (X - mean[y]) ** 2 / counts[:, None]             # (C, D) biased, two-pass
    epsilon = var_smoothing * X.var(dim=0, correction=0).max()
    return {"log_prior": torch.log(counts / X.shape[0]), "mean": mean, "var": var + epsilon}
    ### END SOLUTION


def gaussian_nb_log_proba(model: Dict[str, torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """``log p(c | x)`` for every row of ``X (N, D)``: ``(N, C)`` in ``X``'s dtype, each row's
    ``exp`` summing to 1, finite for points far from every class."""
    ### BEGIN SOLUTION
    mean, var = model["mean"], model["var"]                           # (C, D)
    log_lik = -0.5 * (torch.log(2 * math.pi * var).sum(1)[None, :]
                      + (((X[:, None, :] - mean[None]) ** 2) / var[None]).sum(-1))   # (N, C)
    joint = log_lik + model["log_prior"][None, :]
    return joint - torch.logsumexp(joint, dim=1, keepdim=True)
    ### END SOLUTION


def multinomial_nb_fit(X: torch.Tensor, y: torch.Tensor, n_classes: int, alpha: float = 1.0
                       ) -> Dict[str, torch.Tensor]:
    """Fit a multinomial naive Bayes model.

    Args:
        X: non-negative counts ``(N, D)``, float.
        y: int64 ``(N,)`` in ``[0, n_classes)``; every class occurs at least once.
        alpha: the additive smoothing (``> 0``).

    Returns:
        ``{"log_prior": (C,), "feature_log_prob": (C, D)}`` in ``X``'s dtype: ``log(N_c / N)``
        (class frequencies) and ``log theta_cd``.  ``X`` and ``y`` are not modified.
    """
    ### BEGIN SOLUTION
    onehot = torch.nn.functional.one_hot(y, n_classes).to(X.dtype)    # (N, C)
    feature_counts = onehot.T @ X + alpha                             # (C, D) N_cd + alpha
    log_theta = torch.log(feature_counts) - torch.log(feature_counts.sum(1, keepdim=True))
    return {"log_prior": torch.log(onehot.sum(0) / X.shape[0]), "feature_log_prob": log_theta}
    ### END SOLUTION


def multinomial_nb_log_proba(model: Dict[str, torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """``log p(c | x)`` for every row of the count matrix ``X (N, D)``: ``(N, C)``, rows
    normalised in log space."""
    ### BEGIN SOLUTION
    joint = X @ model["feature_log_prob"].T + model["log_prior"][None, :]   # (N, C)
    return joint - torch.logsumexp(joint, dim=1, keepdim=True)
    ### END SOLUTION


def predict(log_proba: torch.Tensor) -> torch.Tensor:
    """The most probable class of each row, int64 ``(N,)``; a tie goes to the lower class index."""
    ### BEGIN SOLUTION
    return log_proba.argmax(dim=1)
    ### END SOLUTION
