"""Visible checks: Gaussian naive Bayes fitted on six points of two classes, its posterior of
two new points, multinomial naive Bayes on a four-document corpus, and predict's tie rule."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, probe


@probe
def fit(sub, kind, X, y, C, **kwargs):
    """``gaussian_nb_fit`` or ``multinomial_nb_fit``; the model and the inputs afterwards."""
    model = (sub.gaussian_nb_fit if kind == "gaussian" else sub.multinomial_nb_fit)(X, y, C, **kwargs)
    return {"model": model, "after": [X, y]}


@probe
def fit_predict(sub, kind, X, y, C, X_test, **kwargs):
    """Fit with the learner's code, then log_proba and predict on X_test with the learner's model."""
    model = (sub.gaussian_nb_fit if kind == "gaussian" else sub.multinomial_nb_fit)(X, y, C, **kwargs)
    log_proba = (sub.gaussian_nb_log_proba if kind == "gaussian" else sub.multinomial_nb_log_proba)(model, X_test)
    return {"log_proba": log_proba, "predict": sub.predict(log_proba)}


@probe
def log_proba_of(sub, kind, model, X_test):
    """log_proba with a GIVEN model (the oracle's), so prediction is graded apart from fitting."""
    return (sub.gaussian_nb_log_proba if kind == "gaussian" else sub.multinomial_nb_log_proba)(model, X_test)


def gaussian_oracle(X, y, C, var_smoothing=1e-9):
    X64 = X.double()
    mean = torch.stack([X64[y == c].mean(0) for c in range(C)])
    var = torch.stack([X64[y == c].var(0, correction=0) for c in range(C)])
    eps = var_smoothing * X64.var(0, correction=0).max()
    prior = torch.tensor([float((y == c).sum()) / len(y) for c in range(C)], dtype=torch.float64)
    return {"log_prior": prior.log(), "mean": mean, "var": var + eps}


def multinomial_oracle(X, y, C, alpha=1.0):
    X64 = X.double()
    counts = torch.stack([X64[y == c].sum(0) for c in range(C)]) + alpha
    prior = torch.tensor([float((y == c).sum()) / len(y) for c in range(C)], dtype=torch.float64)
    return {"log_prior": prior.log(), "feature_log_prob": (counts / counts.sum(1, keepdim=True)).log()}


def log_proba_oracle(kind, model, X_test):
    X = X_test.double()
    if kind == "gaussian":
        mean, var = model["mean"].double(), model["var"].double()
        joint = torch.stack([(-0.5 * ((X - mean[c]) ** 2 / var[c] + torch.log(2 * math.pi * var[c]))).sum(1)
                             for c in range(mean.shape[0])], 1)
    else:
        joint = X @ model["feature_log_prob"].double().T
    joint = joint + model["log_prior"].double()
    return joint - torch.logsumexp(joint, 1, keepdim=True)


FIT_RULES = {"log_prior": "log_prior[c] = log(N_c / N): the class frequencies",
             "mean": "mean[c] = the mean of the rows of class c",
             "var": "var[c] = the BIASED variance of the rows of class c, plus var_smoothing * (largest per-feature "
                    "variance of X)",
             "feature_log_prob": "feature_log_prob[c, d] = log((N_cd + alpha) / (N_c + alpha * D))"}


def expect_model(got, want, what, rtol=1e-6, atol=1e-9):
    model = got["model"]
    if not isinstance(model, dict) or not set(want) <= set(model):
        raise Fail(f"the fit returns a dict with keys {sorted(want)}", f"{what}: your code returned {describe(model)}")
    for key in want:
        expect_close(model[key], want[key].to(model[key].dtype) if hasattr(model[key], "dtype") else want[key],
                     FIT_RULES[key], rtol=rtol, atol=atol, what=f"{key} ({what})")


def expect_log_proba(got, want, what, rtol=1e-6, atol=1e-6):
    expect_close(got, want.to(got.dtype) if hasattr(got, "dtype") else want,
                 "log p(c | x) = joint[c] - logsumexp over classes of joint, joint = log prior + sum_d log p(x_d | c)",
                 rtol=rtol, atol=atol, what=f"log_proba ({what})")


X6 = torch.tensor([[1.0, 2.0], [2.0, 2.5], [3.0, 1.5], [6.0, 8.0], [7.0, 9.0], [8.0, 7.0]], dtype=torch.float64)
Y6 = torch.tensor([0, 0, 0, 1, 1, 1])
DOCS = torch.tensor([[2.0, 1.0, 0.0, 0.0], [3.0, 0.0, 1.0, 0.0], [0.0, 0.0, 2.0, 3.0], [0.0, 1.0, 1.0, 2.0]],
                    dtype=torch.float64)
LABELS = torch.tensor([0, 0, 1, 1])


@check("gaussian_nb_fit on 6 points: priors, means and biased variances (+ epsilon)")
def gaussian_small(run):
    expect_model(run(fit, "gaussian", X6, Y6, 2), gaussian_oracle(X6, Y6, 2), "6 points, 2 classes")


@check("gaussian_nb_log_proba of two new points, and their predicted classes")
def gaussian_posterior(run):
    X_test = torch.tensor([[2.0, 2.0], [5.0, 5.0]], dtype=torch.float64)
    got = run(fit_predict, "gaussian", X6, Y6, 2, X_test)
    want = log_proba_oracle("gaussian", gaussian_oracle(X6, Y6, 2), X_test)
    expect_log_proba(got["log_proba"], want, "Gaussian, 2 test points")
    expect_equal(got["predict"], want.argmax(1), "predict is the argmax of the log posterior", what="predictions")


@check("multinomial_nb_fit and log_proba on a 4-document, 4-word corpus (alpha = 1)")
def multinomial_small(run):
    expect_model(run(fit, "multinomial", DOCS, LABELS, 2), multinomial_oracle(DOCS, LABELS, 2), "4 documents")
    X_test = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]], dtype=torch.float64)
    got = run(fit_predict, "multinomial", DOCS, LABELS, 2, X_test)
    expect_log_proba(got["log_proba"], log_proba_oracle("multinomial", multinomial_oracle(DOCS, LABELS, 2), X_test),
                     "multinomial, 2 test documents")


@check("predict: the argmax of each row, a tie to the lower class index")
def predict_ties(run):
    log_proba = torch.log(torch.tensor([[0.25, 0.5, 0.25], [0.4, 0.2, 0.4], [0.1, 0.45, 0.45]]))
    expect_equal(run("predict", log_proba), torch.tensor([1, 0, 1]), "predict returns the most probable class; a tie "
                 "goes to the lower index", what="predict")
