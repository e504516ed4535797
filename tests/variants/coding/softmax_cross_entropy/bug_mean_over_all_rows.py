# BUG: zeroes the ignored rows but still averages over all N rows.
import torch


def softmax(x, dim=-1):
    e = (x - x.amax(dim=dim, keepdim=True)).exp()
    return e / e.sum(dim=dim, keepdim=True)


def log_softmax(x, dim=-1):
    z = x - x.amax(dim=dim, keepdim=True)
    return z - z.exp().sum(dim=dim, keepdim=True).log()


def cross_entropy(logits, target, weight=None, ignore_index=-100):
    logp = log_softmax(logits, dim=-1)
    counted = target != ignore_index
    safe = torch.where(counted, target, torch.zeros_like(target))
    nll = -logp.gather(1, safe.unsqueeze(1)).squeeze(1)
    w = torch.ones_like(nll) if weight is None else weight[safe]
    terms = torch.where(counted, w * nll, torch.zeros_like(nll))
    if weight is None:
        return terms.mean()
    return terms.sum() / w.sum()
