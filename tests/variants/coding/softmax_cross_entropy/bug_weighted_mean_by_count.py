# BUG: with class weights, divides the weighted sum by the number of counted rows instead of the sum of weights.
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
    if weight is not None:
        nll = nll * weight[safe]
    return torch.where(counted, nll, torch.zeros_like(nll)).sum() / counted.sum()
