# BUG: computes in numpy and wraps the result back into a tensor: the values are right but autograd sees nothing.
import numpy as np
import torch


def _np_log_softmax(a, axis):
    z = a - a.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def softmax(x, dim=-1):
    return torch.from_numpy(np.exp(_np_log_softmax(x.detach().numpy(), dim))).to(x.dtype)


def log_softmax(x, dim=-1):
    return torch.from_numpy(_np_log_softmax(x.detach().numpy(), dim)).to(x.dtype)


def cross_entropy(logits, target, weight=None, ignore_index=-100):
    logp = _np_log_softmax(logits.detach().numpy(), 1)
    t = target.numpy()
    keep = t != ignore_index
    w = np.ones(len(t)) if weight is None else weight.numpy()[np.where(keep, t, 0)]
    w = np.where(keep, w, 0.0)
    nll = np.where(keep, -logp[np.arange(len(t)), np.where(keep, t, 0)], 0.0)
    with np.errstate(invalid="ignore"):
        return torch.tensor((w * nll).sum() / w.sum(), dtype=logits.dtype)
