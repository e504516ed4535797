# BUG: takes the maximum along the last dim whatever `dim` is; the shift then varies along `dim`.
import torch


def softmax(x, dim=-1):
    e = (x - x.amax(dim=-1, keepdim=True)).exp()
    return e / e.sum(dim=dim, keepdim=True)


def log_softmax(x, dim=-1):
    z = x - x.amax(dim=-1, keepdim=True)
    return z - z.exp().sum(dim=dim, keepdim=True).log()


def cross_entropy(logits, target, weight=None, ignore_index=-100):
    logp = log_softmax(logits, dim=-1)
    counted = target != ignore_index
    safe = torch.where(counted, target, torch.zeros_like(target))
    nll = -logp.gather(1, safe.unsqueeze(1)).squeeze(1)
    w = torch.ones_like(nll) if weight is None else weight[safe].to(nll.dtype)
    w = torch.where(counted, w, torch.zeros_like(w))
    terms = torch.where(counted, w * nll, torch.zeros_like(nll))
    return terms.sum() / w.sum()

