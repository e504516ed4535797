# BUG: masks ignored rows out of the loss but not out of the gradient.
import torch


def log_softmax(logits: torch.Tensor) -> torch.Tensor:
    shifted = logits - logits.amax(dim=-1, keepdim=True)               # (..., C), max entry 0
    return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()


def linear_cross_entropy(X: torch.Tensor, W: torch.Tensor, b: torch.Tensor, y: torch.Tensor,
                         ignore_index: int = -100, label_smoothing: float = 0.0):
    N, C = X.shape[0], W.shape[1]
    Z = X @ W + b                                                      # (N, C) logits
    logp = log_softmax(Z)                                              # (N, C)
    valid = (y != ignore_index).to(X.dtype)                            # (N,) 1 for counted rows
    n = valid.sum()
    target = torch.zeros_like(Z)                                       # (N, C) target distribution Q
    target[valid.bool(), y[valid.bool()]] = 1.0
    target = (1.0 - label_smoothing) * target + label_smoothing / C
    loss = (-(target * logp).sum(dim=1) * valid).sum() / n
    dZ = (logp.exp() - target) / n                  # (N, C), zero rows where ignored
    dW = X.T @ dZ                                                      # (D, C)
    db = dZ.sum(dim=0)                                                 # (C,)
    dX = dZ @ W.T                                                      # (N, D)
    return loss, dW, db, dX
