# BUG: drops ignored rows by multiplying with a 0/1 mask: a -inf log-probability times 0 is nan.
import torch


def softmax(x, dim=-1):
    e = (x - x.amax(dim=dim, keepdim=True)).exp()
    return e / e.sum(dim=dim, keepdim=True)


def log_softmax(x, dim=-1):
    z = x - x.amax(dim=dim, keepdim=True)
    return z - z.exp().sum(dim=dim, keepdim=True).log()


def cross_entropy(logits, target, weight=None, ignore_index=-100):
    logp = log_softmax(logits, dim=-1)
    mask = (target != ignore_index).to(logits.dtype)
    safe = target.clamp(min=0)
    nll = -logp.gather(1, safe.unsqueeze(1)).squeeze(1)
    w = torch.ones_like(nll) if weight is None else weight[safe]
    w = w * mask
    return (w * nll * mask).sum() / w.sum()
