"""Visible checks: log-softmax and the hand-written gradients on a tiny fixed batch, compared
with torch's autograd through F.cross_entropy."""
from contextlib import contextmanager

import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_tensor, probe


# torch's softmax family as *tensor methods* (z.log_softmax(-1)) escapes mlkata's scan for
# forbidden calls, so the probes watch those methods themselves while the learner's code runs.
WATCHED = ("softmax", "log_softmax", "logsumexp")


@contextmanager
def watch_tensor_methods():
    used, saved = [], {}
    for name in WATCHED:
        saved[name] = torch.Tensor.__dict__.get(name)
        original = getattr(torch.Tensor, name)

        def spy(self, *args, __original=original, __name=name, **kwargs):
            used.append(__name)
            return __original(self, *args, **kwargs)

        setattr(torch.Tensor, name, spy)
    try:
        yield used
    finally:
        for name, before in saved.items():
            if before is None:
                delattr(torch.Tensor, name)
            else:
                setattr(torch.Tensor, name, before)


@probe
def grads(sub, X, W, b, y, **kwargs):
    """Call linear_cross_entropy; report its 4 results, the inputs afterwards, and any use of
    torch's softmax family as tensor methods."""
    with watch_tensor_methods() as used:
        out = sub.linear_cross_entropy(X, W, b, y, **kwargs)
    return {"out": out, "after": [X, W, b, y], "used": sorted(set(used))}


@probe
def lsm(sub, z):
    """Call log_softmax(z), watching for torch's softmax family used as tensor methods."""
    with watch_tensor_methods() as used:
        out = sub.log_softmax(z)
    return {"out": out, "used": sorted(set(used))}


def expect_by_hand(got, what):
    """Judge side: the learner's code did not call Tensor.softmax / log_softmax / logsumexp."""
    expect(not got["used"], "compute the softmax and the log-sum-exp yourself: torch's softmax, log_softmax and "
                            "logsumexp (also as tensor methods) are what this exercise asks you to write",
           f"{what} called Tensor.{', Tensor.'.join(got['used'])}")


def log_softmax_of(got):
    expect_by_hand(got, "your log_softmax")
    return got["out"]


def autograd_oracle(X, W, b, y, ignore_index=-100, label_smoothing=0.0):
    """(loss, dW, db, dX) from torch's autograd through F.cross_entropy."""
    X, W, b = (t.detach().clone().requires_grad_(True) for t in (X, W, b))
    loss = F.cross_entropy(X @ W + b, y, ignore_index=ignore_index, label_smoothing=label_smoothing)
    loss.backward()
    return loss.detach(), W.grad, b.grad, X.grad


NAMES = ("loss", "dW", "db", "dX")
RULES = {
    "loss": "loss = mean over the counted rows of -sum_c Q[i, c] log softmax(X W + b)[i, c]",
    "dW": "dL/dW = X^T dL/dZ with dL/dZ = (softmax(Z) - Q) / n",
    "db": "dL/db = dL/dZ summed over the rows, with dL/dZ = (softmax(Z) - Q) / n",
    "dX": "dL/dX = dL/dZ W^T with dL/dZ = (softmax(Z) - Q) / n",
}


def unpack(got, X, W, b):
    """Judge side: a 4-tuple (loss, dW, db, dX) with the right shapes and X's dtype."""
    expect_by_hand(got, "your linear_cross_entropy")
    rule = "linear_cross_entropy returns a tuple (loss, dW, db, dX)"
    out = got["out"]
    if not isinstance(out, (tuple, list)) or len(out) != 4:
        raise Fail(rule, f"expected a tuple of 4 tensors, your code returned {describe(out)}")
    for name, value, shape in zip(NAMES, out, ((), W.shape, b.shape, X.shape)):
        expect_tensor(value, f"{name} is a tensor of shape {list(shape)} and dtype {X.dtype} "
                             f"(the shape of {'a 0-dim scalar' if name == 'loss' else name[1:]})",
                      shape=shape, dtype=X.dtype)
    return out


def expect_agrees(got, want, what, rtol=1e-4, atol=1e-6, only=NAMES, note=""):
    """Judge side: each of (loss, dW, db, dX) named in ``only`` equals autograd's; ``note`` adds the
    part of the contract the case is about to the rule."""
    for name, g, w in zip(NAMES, got, want):
        if name in only:
            expect_close(g, w, RULES[name] + (f"; {note}" if note else ""), rtol=rtol, atol=atol,
                         what=f"{name} ({what})")


def tiny():
    X = torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0], [2.0, 0.5, -1.0], [-1.0, -1.0, 3.0]])
    W = torch.tensor([[0.5, -0.25, 1.0, 0.0], [1.0, 0.5, -0.5, 0.25], [-0.75, 0.5, 0.25, 1.0]])
    b = torch.tensor([0.1, 0.0, -0.2, 0.3])
    y = torch.tensor([2, 0, 3, 1])
    return X, W, b, y


@check("log_softmax([[1, 2, 3], [0, 0, 0]]) matches torch")
def log_softmax_small(run):
    z = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    got = log_softmax_of(run(lsm, z))
    expect_close(got, z.log_softmax(-1), "log_softmax(z)_c = z_c - log(sum_j exp(z_j)) along the last dim",
                 what="log_softmax")


@check("log_softmax([1000, 0, -1000]) is finite: [0, -1000, -2000]")
def log_softmax_stable(run):
    z = torch.tensor([[1000.0, 0.0, -1000.0]])
    got = log_softmax_of(run(lsm, z))
    expect_tensor(got, "log_softmax returns a tensor shaped like its input", shape=z.shape)
    expect(bool(got.isfinite().all()), "subtract the row max before exp, and never take log of an underflowed 0",
           f"your log_softmax gave {got.tolist()}")
    expect_close(got, torch.tensor([[0.0, -1000.0, -2000.0]]), "log_softmax is exact for huge logits",
                 what="log_softmax")


@check("the loss on a 4x3 batch with 4 classes equals F.cross_entropy")
def tiny_loss(run):
    X, W, b, y = tiny()
    out = unpack(run(grads, X, W, b, y), X, W, b)
    expect_agrees(out, autograd_oracle(X, W, b, y), "4x3 batch, 4 classes", only=("loss",))


@check("dW, db and dX on the same batch equal autograd's")
def tiny_gradients(run):
    X, W, b, y = tiny()
    out = unpack(run(grads, X, W, b, y), X, W, b)
    expect_agrees(out, autograd_oracle(X, W, b, y), "4x3 batch, 4 classes", only=("dW", "db", "dX"))
