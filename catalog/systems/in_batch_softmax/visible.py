"""Visible checks: the logit matrix, the loss on a 2x2 batch, the symmetric average, logQ."""
import math

import torch

from mlkata.checks import check, expect_close, probe


@probe
def logits(sub, query, item, temperature=None, **kw):
    """``in_batch_logits``; ``temperature=None`` leaves it at its default (1.0)."""
    if temperature is None:
        return sub.in_batch_logits(query, item, **kw)
    return sub.in_batch_logits(query, item, temperature, **kw)


@probe
def loss(sub, query, item, temperature=None, **kw):
    """The loss, and the gradients of query and item after ``loss.backward()``; ``temperature=None``
    leaves it at its default (1.0)."""
    q = query.clone().requires_grad_(True)
    d = item.clone().requires_grad_(True)
    out = (sub.in_batch_softmax_loss(q, d, **kw) if temperature is None
           else sub.in_batch_softmax_loss(q, d, temperature, **kw))
    grads = {"query": None, "item": None}
    if isinstance(out, torch.Tensor) and out.requires_grad and out.numel() == 1:
        out.backward()
        grads = {"query": q.grad, "item": d.grad}
    return {"loss": out.detach() if isinstance(out, torch.Tensor) else out, "grads": grads,
            "query_after": q.detach(), "item_after": d.detach()}


Q = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
D = torch.tensor([[1.0, 1.0], [0.0, 1.0]])


@check("logits[i, j] = <query_i, item_j> / temperature (temperature 1 by default)")
def logit_matrix(run):
    expect_close(run(logits, Q, D, 0.5), torch.tensor([[2.0, 0.0], [4.0, 4.0]]),
                 "logits = query @ item.T / temperature: row i is query i, column j is item j", what="logits")
    expect_close(run(logits, Q, D), torch.tensor([[1.0, 0.0], [2.0, 2.0]]),
                 "the default temperature is 1: logits = query @ item.T", what="logits with the default temperature")


@check("the loss is the mean over rows of logsumexp(row) - logits[i, i]")
def loss_2x2(run):
    want = ((math.log(math.exp(1) + math.exp(0)) - 1) + (math.log(math.exp(2) + math.exp(2)) - 2)) / 2
    expect_close(run(loss, Q, D)["loss"], want, "cross-entropy of every row against its diagonal entry, "
                 "averaged over the batch", what="loss (temperature 1)")


@check("symmetric=True averages the query->item (rows) and item->query (columns) losses")
def symmetric_2x2(run):
    rows = ((math.log(math.exp(1) + 1) - 1) + (math.log(2 * math.exp(2)) - 2)) / 2
    cols = ((math.log(math.exp(1) + math.exp(2)) - 1) + (math.log(1 + math.exp(2)) - 2)) / 2
    expect_close(run(loss, Q, D, symmetric=True)["loss"], (rows + cols) / 2, "the symmetric (CLIP) loss is "
                 "(cross-entropy over rows + cross-entropy over columns) / 2", what="symmetric loss")


@check("logQ correction: column j of the logits loses log(sampling_prob[j])")
def logq_column(run):
    p = torch.tensor([0.5, 0.01])
    expect_close(run(logits, Q, D, 0.5, sampling_prob=p), torch.tensor([[2.0, 0.0], [4.0, 4.0]]) - p.log(),
                 "logits[i, j] = <q_i, d_j> / temperature - log(sampling_prob[j]): the correction is per item "
                 "(column), after the temperature", what="corrected logits")
