"""Visible checks: the shift, the ignored positions and the batch mean on tiny fixed batches."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect_close, probe


@probe
def loss(sub, logits, labels, attention_mask=None, ignore_index=None, grad=False):
    """Call causal_lm_loss; report the loss, d loss / d logits when ``grad``, and the inputs after."""
    kwargs = {} if ignore_index is None else {"ignore_index": ignore_index}
    x = logits.detach().clone().requires_grad_(True) if grad else logits
    out = sub.causal_lm_loss(x, labels, attention_mask, **kwargs)
    g = None
    if grad and isinstance(out, torch.Tensor) and out.requires_grad:
        out.backward()
        g = x.grad
    return {"loss": out, "grad": g, "logits_after": None if grad else logits, "labels_after": labels,
            "mask_after": attention_mask}


@probe
def losses(sub, cases):
    """``loss`` for each ``(logits, labels, attention_mask, ignore_index)`` in ``cases``, in one call."""
    return [loss.fn(sub, *case) for case in cases]


@probe
def finite_differences(sub, logits, labels, directions, eps=1e-6):
    """Float64: autograd's directional derivatives <d loss / d logits, v> and central differences
    (loss(x + eps v) - loss(x - eps v)) / (2 eps) for each direction v (what gradcheck compares)."""
    x = logits.detach().clone().requires_grad_(True)
    out = sub.causal_lm_loss(x, labels)
    grad = torch.autograd.grad(out, x)[0] if isinstance(out, torch.Tensor) and out.requires_grad else None
    auto, numeric = [], []
    with torch.no_grad():
        for v in directions:
            auto.append(None if grad is None else float((grad * v).sum()))
            hi = sub.causal_lm_loss(logits + eps * v, labels)
            lo = sub.causal_lm_loss(logits - eps * v, labels)
            numeric.append(float((hi - lo) / (2 * eps)))
    return {"autograd": auto, "numeric": numeric}


def scalar(got, what, rule="causal_lm_loss returns the mean loss as a 0-dim tensor"):
    """Judge side: ``got["loss"]`` must be a 0-dim floating tensor."""
    out = got["loss"]
    if not isinstance(out, torch.Tensor) or out.dim() != 0 or not out.dtype.is_floating_point:
        raise Fail(rule, f"{what}: expected a 0-dim float tensor, your code returned {describe(out)}")
    return out


def nll(row, target):
    """-log softmax(row)[target], in float64."""
    row = [float(v) for v in row]
    m = max(row)
    return m + math.log(sum(math.exp(v - m) for v in row)) - row[target]


LOGITS = torch.tensor([[[2.0, 0.5, -1.0, 0.0],
                        [0.0, 3.0, 1.0, -2.0],
                        [1.0, 1.0, 4.0, 0.0],
                        [-1.0, 0.0, 0.0, 2.5]]])          # (1, 4, 4)
LABELS = torch.tensor([[3, 0, 1, 2]])                    # (1, 4)


@check("the logits at position t are scored against the label at t + 1 (the shift happens inside)")
def shifted(run):
    got = scalar(run(loss, LOGITS, LABELS), "causal_lm_loss(logits (1, 4, 4), labels [[3, 0, 1, 2]])")
    want = (nll(LOGITS[0, 0], 0) + nll(LOGITS[0, 1], 1) + nll(LOGITS[0, 2], 2)) / 3
    expect_close(got, want, "targets are labels[:, 1:], predicted by logits[:, :-1]: position 0 is never a "
                 "target and the last logits predict nothing", what="loss")


@check("a label equal to ignore_index (-100) is no target: the mean runs over the other positions only")
def ignores_minus_100(run):
    labels = torch.tensor([[3, 0, -100, 2]])
    got = scalar(run(loss, LOGITS, labels), "causal_lm_loss with labels [[3, 0, -100, 2]]")
    want = (nll(LOGITS[0, 0], 0) + nll(LOGITS[0, 2], 2)) / 2
    expect_close(got, want, "positions whose label is -100 are skipped, and the mean divides by the number of "
                 "counted targets (2 here), not by T - 1", what="loss")


@check("with an attention_mask, padded positions are no targets (labels may be the raw input ids)")
def attention_mask_pads(run):
    logits = torch.cat([LOGITS, LOGITS.flip(1)])                              # (2, 4, 4)
    labels = torch.tensor([[3, 0, 1, 2], [3, 1, 0, 0]])                       # row 1: two padding tokens (id 0)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    got = scalar(run(loss, logits, labels, mask), "causal_lm_loss(2 sequences, the second padded at the end)")
    terms = [nll(logits[0, 0], 0), nll(logits[0, 1], 1), nll(logits[0, 2], 2), nll(logits[1, 0], 1)]
    want = sum(terms) / len(terms)
    expect_close(got, want, "a target position whose attention_mask is 0 does not count; the mean is over the "
                 "4 counted targets of the whole batch", what="loss")


@check("the mean is over every counted target of the batch together, not an average of per-sequence means")
def token_mean_not_sequence_mean(run):
    logits = torch.cat([LOGITS, LOGITS.flip(2)])                              # (2, 4, 4)
    labels = torch.tensor([[3, 0, -100, -100], [0, 2, 3, 1]])                 # 1 target, then 3
    got = scalar(run(loss, logits, labels), "causal_lm_loss(a sequence with 1 target and one with 3)")
    terms = [nll(logits[0, 0], 0), nll(logits[1, 0], 2), nll(logits[1, 1], 3), nll(logits[1, 2], 1)]
    expect_close(got, sum(terms) / 4, "average over all 4 counted targets (each token weighs the same), not the "
                 "mean of the two sequences' means", what="loss")


@check("the loss is differentiable: d loss / d logits is softmax - one_hot(target), divided by the count")
def gradient(run):
    got = run(loss, LOGITS, LABELS, grad=True)
    scalar(got, "causal_lm_loss(logits (1, 4, 4), labels [[3, 0, 1, 2]])")
    probs = torch.softmax(LOGITS.double(), dim=-1)
    want = probs.clone()
    want[0, 3] = 0.0                                                          # the last logits predict nothing
    for t, target in enumerate(LABELS[0, 1:].tolist()):
        want[0, t, target] -= 1.0
    expect_close(got["grad"], (want / 3).float(), "build the loss from differentiable torch operations on logits "
                 "(no .item(), no detach); the last position gets zero gradient", what="d loss / d logits")
