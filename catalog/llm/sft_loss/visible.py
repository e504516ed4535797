"""Visible checks: labels of a right- and a left-padded batch, and both ways to average the loss."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, probe


@probe
def labels(sub, input_ids, prompt_lengths, attention_mask, ignore_index=None):
    """Call completion_labels; report its result and the input ids afterwards."""
    kwargs = {} if ignore_index is None else {"ignore_index": ignore_index}
    out = sub.completion_labels(input_ids, prompt_lengths, attention_mask, **kwargs)
    return {"labels": out, "ids_after": input_ids}


@probe
def loss(sub, logits, labels, normalize=None, ignore_index=None, grad=False):
    """Call sft_loss (defaults where an argument is None); with ``grad``, report d loss / d logits."""
    kwargs = {} if normalize is None else {"normalize": normalize}
    if ignore_index is not None:
        kwargs["ignore_index"] = ignore_index
    x = logits.detach().clone().requires_grad_(True) if grad else logits
    out = sub.sft_loss(x, labels, **kwargs)
    g = None
    if grad and isinstance(out, torch.Tensor) and out.requires_grad:
        out.backward()
        g = x.grad
    return {"loss": out, "grad": g}


def scalar(got, what, rule="sft_loss returns the mean loss as a 0-dim float tensor"):
    out = got["loss"]
    if not isinstance(out, torch.Tensor) or out.dim() != 0 or not out.dtype.is_floating_point:
        raise Fail(rule, f"{what}: expected a 0-dim float tensor, your code returned {describe(out)}")
    return out


def nll(row, target):
    """-log softmax(row)[target], in float64."""
    row = [float(v) for v in row]
    m = max(row)
    return m + math.log(sum(math.exp(v - m) for v in row)) - row[target]


IDS = torch.tensor([[5, 6, 7, 8, 9, 0],          # prompt 5 6, response 7 8 9, one pad
                    [4, 3, 2, 0, 0, 0]])         # prompt 4, response 3 2, three pads
MASK = torch.tensor([[1, 1, 1, 1, 1, 0],
                     [1, 1, 1, 0, 0, 0]])


@check("labels keep the response tokens; prompt and padding become -100 (right padding)")
def right_padded_labels(run):
    got = run(labels, IDS, torch.tensor([2, 1]), MASK)
    want = torch.tensor([[-100, -100, 7, 8, 9, -100],
                         [-100, 3, 2, -100, -100, -100]])
    expect_equal(got["labels"], want, "labels[b, t] = input_ids[b, t] on the response's real tokens, -100 on the "
                 "prompt (the first prompt_lengths[b] real tokens) and on padding", what="labels")


@check("with left padding the prompt starts at the first real token, not at position 0")
def left_padded_labels(run):
    ids = torch.tensor([[0, 0, 4, 3, 2, 1],
                        [5, 6, 7, 8, 9, 1]])
    mask = torch.tensor([[0, 0, 1, 1, 1, 1],
                         [1, 1, 1, 1, 1, 1]])
    got = run(labels, ids, torch.tensor([2, 3]), mask)
    want = torch.tensor([[-100, -100, -100, -100, 2, 1],
                         [-100, -100, -100, 8, 9, 1]])
    expect_equal(got["labels"], want, "the prompt is the first prompt_lengths[b] REAL tokens: row 0's prompt is "
                 "positions 2 and 3 (after two pads), its response positions 4 and 5", what="labels")


LOGITS = torch.tensor([[[2.0, 0.5, -1.0, 0.0], [0.0, 3.0, 1.0, -2.0], [1.0, 1.0, 4.0, 0.0], [-1.0, 0.0, 0.0, 2.5]],
                       [[0.5, 0.5, 0.0, 1.0], [1.0, -1.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0], [3.0, 1.0, 0.0, -1.0]]])
LABELS = torch.tensor([[-100, -100, 2, 3],           # targets at t = 2, 3 (predicted by logits 1, 2)
                       [-100, 1, -100, -100]])       # target at t = 1 (predicted by logits 0)


@check("'tokens' (the default): the shifted loss summed over the batch's response tokens / their number")
def token_mean(run):
    got = scalar(run(loss, LOGITS, LABELS), "sft_loss(logits (2, 4, 4), labels with 3 targets)")
    want = (nll(LOGITS[0, 1], 2) + nll(LOGITS[0, 2], 3) + nll(LOGITS[1, 0], 1)) / 3
    expect_close(got, want, "logits[:, :-1] predict labels[:, 1:]; -100 is skipped; normalize='tokens' divides by "
                 "the 3 counted targets of the batch", what="loss")


@check("'sequences': each sequence's mean over its own targets, then the mean over sequences")
def sequence_mean(run):
    got = scalar(run(loss, LOGITS, LABELS, "sequences"), "sft_loss(..., normalize='sequences')")
    want = ((nll(LOGITS[0, 1], 2) + nll(LOGITS[0, 2], 3)) / 2 + nll(LOGITS[1, 0], 1)) / 2
    expect_close(got, want, "normalize='sequences': row 0 averages its 2 targets, row 1 has 1 target, and the "
                 "result is the mean of the two row means", what="loss")
