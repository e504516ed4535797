# CORRECT, written differently: log-sum-exp with max().values, softmax = exp(log_softmax), and cross-entropy
# on the counted rows selected by boolean indexing with a one-hot mask instead of gather.
import torch


def _logsumexp(x, dim):
    m = x.max(dim=dim, keepdim=True).values
    m = torch.where(torch.isinf(m), torch.zeros_like(m), m)     # an all -inf slice: keep -inf (then nan), no inf - inf
    return m + (x - m).exp().sum(dim=dim, keepdim=True).log()


def log_softmax(x, dim=-1):
    return x - _logsumexp(x, dim)


def softmax(x, dim=-1):
    return log_softmax(x, dim).exp()


def cross_entropy(logits, target, weight=None, ignore_index=-100):
    keep = target != ignore_index
    rows, t = logits[keep], target[keep]                       # (M, C), (M,)
    onehot = torch.arange(logits.size(1)) == t[:, None]        # (M, C) bool
    nll = -(log_softmax(rows, -1).masked_fill(~onehot, 0.0)).sum(1)
    w = torch.ones(len(t), dtype=logits.dtype) if weight is None else weight.index_select(0, t)
    return (w * nll).sum() / w.sum()
