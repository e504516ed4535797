"""Visible checks: the masked logits and targets of a tiny batch, and the loss of perfectly aligned views."""
import math

import torch

from mlkata.checks import Fail, check, expect_close, expect_equal, probe


@probe
def logits_of(sub, z1, z2, temperature=None):
    return sub.nt_xent_logits(z1, z2) if temperature is None else sub.nt_xent_logits(z1, z2, temperature)


@probe
def loss_of(sub, z1, z2, temperature=None, grad=False):
    a = z1.detach().clone().requires_grad_(True) if grad else z1
    b = z2.detach().clone().requires_grad_(True) if grad else z2
    out = sub.nt_xent_loss(a, b) if temperature is None else sub.nt_xent_loss(a, b, temperature)
    grads = [None, None]
    if grad and isinstance(out, torch.Tensor) and out.requires_grad:
        out.backward()
        grads = [a.grad, b.grad]
    return {"loss": out, "grads": grads}


def pair(got):
    if not isinstance(got, (list, tuple)) or len(got) != 2 or not all(isinstance(x, torch.Tensor) for x in got):
        raise Fail("nt_xent_logits returns (logits, targets), two tensors", f"got {got!r}"[:300])
    return got


Z1 = torch.tensor([[3.0, 0.0], [0.0, 2.0]])          # two images, 2-d embeddings (not normalised)
Z2 = torch.tensor([[1.0, 1.0], [0.0, -1.0]])


@check("nt_xent_logits: cosine similarities / tau over [z1; z2], -inf on the diagonal, targets = the other view")
def logits_small(run):
    logits, targets = pair(run(logits_of, Z1, Z2, 1.0))
    r = 1 / math.sqrt(2)
    inf = float("-inf")
    want = torch.tensor([[inf, 0.0, r, 0.0], [0.0, inf, r, -1.0], [r, r, inf, -r], [0.0, -1.0, -r, inf]])
    expect_close(logits, want, "logits[i, j] = <z_i, z_j> / tau with every row of [z1; z2] normalised first; "
                 "the diagonal (an embedding with itself) is -inf", what="logits (tau = 1)")
    expect_equal(targets, torch.tensor([2, 3, 0, 1]), "row i's positive is the other view of its image: i + N in "
                 "the first half, i - N in the second", what="targets")


@check("nt_xent_loss: the mean over all 2N anchors of logsumexp(row) - row[positive]")
def loss_small(run):
    r = 1 / math.sqrt(2)
    rows = [([0.0, r, 0.0], 1), ([0.0, r, -1.0], 2), ([r, r, -r], 0), ([0.0, -1.0, -r], 1)]
    want = sum(math.log(sum(math.exp(v) for v in row)) - row[pos] for row, pos in rows) / 4
    got = run(loss_of, Z1, Z2, 1.0)["loss"]
    expect_close(got, want, "each of the 4 anchors: -log softmax over the OTHER 3 embeddings at its positive; "
                 "the mean of the 4", what="nt_xent_loss (tau = 1)")
