# CORRECT, written differently: the noise as -log(E) with E = -log(U + eps) + eps computed in two
# named steps; the softmax written out with a max shift; the one-hot by comparison with arange; the
# straight-through trick as y + (y_hard - y).detach().
import torch


def sample_gumbel(shape, generator, dtype=torch.float32):
    uniform = torch.rand(shape, dtype=dtype, generator=generator)
    exponential = -torch.log(uniform + 1e-20) + 1e-20
    return -torch.log(exponential)


def gumbel_max_sample(logits, generator):
    scores = logits + sample_gumbel(logits.shape, generator, logits.dtype)
    return torch.max(scores, dim=-1).indices


def gumbel_softmax(logits, tau, hard, generator):
    z = (logits + sample_gumbel(logits.shape, generator, logits.dtype)) / tau
    z = z - z.amax(dim=-1, keepdim=True)
    y = z.exp() / z.exp().sum(dim=-1, keepdim=True)
    if hard:
        k = torch.arange(y.shape[-1])
        one_hot = (k == y.argmax(dim=-1, keepdim=True)).to(y.dtype)
        return y + (one_hot - y).detach()
    return y
