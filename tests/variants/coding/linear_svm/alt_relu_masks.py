# CORRECT, written differently: hinge via relu, the active set via torch.heaviside with value 0 at the
# kink (margin exactly 1 contributes 0), the subgradient as an einsum, the Pegasos loop in the
# multiplicative (1 - eta lam) w form of the paper.
import torch


def hinge_objective(w, b, X, y, lam):
    return lam / 2 * torch.dot(w, w) + torch.relu(1 - y * (torch.mv(X, w) + b)).sum() / len(y)


def hinge_subgradient(w, b, X, y, lam):
    slack = 1 - y * (torch.mv(X, w) + b)
    active = torch.heaviside(slack, torch.zeros((), dtype=slack.dtype))       # 0 at slack == 0
    gw = lam * w - torch.einsum("n,n,nd->d", active, y, X) / len(y)
    return gw, -(active * y).sum() / len(y)


def fit_linear_svm(X, y, lam, iterations):
    w = X.new_zeros(X.shape[1])
    b = X.new_zeros(())
    for t in range(1, iterations + 1):
        eta = 1 / (lam * t)
        slack = 1 - y * (X @ w + b)
        active = (slack > 0).to(X.dtype)
        w = (1 - eta * lam) * w + eta * (active * y) @ X / len(y)
        b = b + eta * (active * y).sum() / len(y)
    return w, b


def predict(w, b, X):
    return torch.sign(X @ w + b + 0.0).where(X @ w + b != 0, torch.ones(())).long()
