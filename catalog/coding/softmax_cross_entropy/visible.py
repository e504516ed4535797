"""Visible checks: softmax and log-softmax of tiny vectors, huge logits, and the mean, ignored
rows and class weights of cross-entropy on a 3-row batch."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect_close, probe


@probe
def apply(sub, name, x, dim=-1):
    """``sub.<name>(x, dim)`` for name in softmax / log_softmax; also ``x`` afterwards."""
    return {"out": getattr(sub, name)(x, dim), "x_after": x}


@probe
def apply_many(sub, name, cases):
    """``apply`` for each ``(x, dim)`` in ``cases``, in one call."""
    return [apply.fn(sub, name, x, dim) for x, dim in cases]


@probe
def loss(sub, logits, target, weight=None, ignore_index=None):
    """``sub.cross_entropy``, passing ``ignore_index`` only when given; also the inputs afterwards."""
    kwargs = {} if ignore_index is None else {"ignore_index": ignore_index}
    out = sub.cross_entropy(logits, target, weight, **kwargs)
    return {"loss": out, "logits_after": logits, "target_after": target, "weight_after": weight}


@probe
def losses(sub, cases):
    """``loss`` for each ``(logits, target, weight, ignore_index)`` in ``cases``, in one call."""
    return [loss.fn(sub, *case) for case in cases]


@probe
def gradient(sub, name, x, args=(), v=None):
    """Float64 autograd: d/dx of ``sub.<name>(x, *args)`` (a scalar) or of ``(out * v).sum()``."""
    x = x.detach().clone().requires_grad_(True)
    out = getattr(sub, name)(x, *args)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        return {"out": out, "grad": None}
    (g,) = torch.autograd.grad(out if v is None else (out * v).sum(), x)
    return {"out": out.detach(), "grad": g}


def tensor_out(got, like, what, rule):
    """Judge side: ``got`` must be a tensor of the shape of ``like``."""
    if not isinstance(got, torch.Tensor):
        raise Fail(rule, f"{what}: expected a tensor of shape {list(like.shape)}, your code returned {describe(got)}")
    if got.shape != like.shape:
        raise Fail(rule, f"{what}: expected shape {list(like.shape)}, your code returned shape {list(got.shape)}")
    return got


def scalar(got, what, rule="cross_entropy returns the mean loss as a 0-dim tensor"):
    """Judge side: ``got["loss"]`` must be a 0-dim floating tensor."""
    out = got["loss"]
    if not isinstance(out, torch.Tensor) or out.dim() != 0 or not out.dtype.is_floating_point:
        raise Fail(rule, f"{what}: expected a 0-dim float tensor, your code returned {describe(out)}")
    return out


@check("softmax([1, 2, 3]) = exp(x) / sum(exp(x)), which sums to 1")
def softmax_small(run):
    x = torch.tensor([1.0, 2.0, 3.0])
    e = [math.exp(v) for v in (1.0, 2.0, 3.0)]
    want = torch.tensor([v / sum(e) for v in e])
    got = tensor_out(run(apply, "softmax", x)["out"], x, "softmax([1, 2, 3])", "softmax keeps the input's shape")
    expect_close(got, want, "softmax(x)_i = exp(x_i) / sum_j exp(x_j)", what="softmax([1, 2, 3])")


@check("log_softmax of each row of a (2, 3) batch, along dim=-1")
def log_softmax_rows(run):
    x = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, -1.0]])
    lse = math.log(math.e + 1 + 1 / math.e)
    want = torch.tensor([[-math.log(3)] * 3, [1 - lse, -lse, -1 - lse]])
    got = tensor_out(run(apply, "log_softmax", x)["out"], x, "log_softmax of a (2, 3) batch",
                     "log_softmax keeps the input's shape")
    expect_close(got, want, "log_softmax(x)_i = x_i - log(sum_j exp(x_j)), one row at a time",
                 what="log_softmax([[0, 0, 0], [1, 0, -1]])")


@check("huge logits [1000, 0, -1000] (float32): softmax [1, 0, 0], log_softmax [0, -1000, -2000], no nan")
def huge_logits(run):
    x = torch.tensor([1000.0, 0.0, -1000.0])
    rule = "subtract the maximum before exp (the log-sum-exp trick): exp(1000) overflows to inf, inf / inf is nan"
    sm = tensor_out(run(apply, "softmax", x)["out"], x, "softmax([1000, 0, -1000])", rule)
    expect_close(sm, torch.tensor([1.0, 0.0, 0.0]), rule, what="softmax([1000, 0, -1000])")
    lsm = tensor_out(run(apply, "log_softmax", x)["out"], x, "log_softmax([1000, 0, -1000])", rule)
    expect_close(lsm, torch.tensor([0.0, -1000.0, -2000.0]),
                 rule + "; and never log(softmax(x)): softmax underflows to 0 and log(0) = -inf",
                 what="log_softmax([1000, 0, -1000])")


LOGITS = torch.tensor([[2.0, 0.0, -1.0],
                       [0.5, 0.5, 3.0],
                       [1.0, -2.0, 0.0]])                 # (3, 3)


def nll(row, t):
    row = [float(v) for v in row]
    m = max(row)
    return m + math.log(sum(math.exp(v - m) for v in row)) - row[t]


@check("cross_entropy: the mean of -log p[target] over the rows, skipping rows whose target is -100")
def cross_entropy_mean_and_ignore(run):
    got = scalar(run(loss, LOGITS, torch.tensor([0, 2, 1])), "cross_entropy(logits, [0, 2, 1])")
    want = (nll(LOGITS[0], 0) + nll(LOGITS[1], 2) + nll(LOGITS[2], 1)) / 3
    expect_close(got, want, "loss = mean over rows n of -log_softmax(logits[n])[target[n]]",
                 what="cross_entropy(logits, [0, 2, 1])")
    got = scalar(run(loss, LOGITS, torch.tensor([0, -100, 1])), "cross_entropy(logits, [0, -100, 1])")
    want = (nll(LOGITS[0], 0) + nll(LOGITS[2], 1)) / 2
    expect_close(got, want, "a row whose target is ignore_index (-100) counts neither in the sum nor in the count",
                 what="cross_entropy(logits, [0, -100, 1])")


@check("class weights give a weighted mean: sum w[t] * loss / sum w[t]")
def cross_entropy_weights(run):
    weight = torch.tensor([1.0, 2.0, 0.5])
    got = scalar(run(loss, LOGITS, torch.tensor([0, 2, 1]), weight), "cross_entropy with weight [1, 2, 0.5]")
    want = (1.0 * nll(LOGITS[0], 0) + 0.5 * nll(LOGITS[1], 2) + 2.0 * nll(LOGITS[2], 1)) / (1.0 + 0.5 + 2.0)
    expect_close(got, want, "with weights, divide sum_n w[t_n] * loss_n by sum_n w[t_n] (not by the number of rows)",
                 what="cross_entropy(logits, [0, 2, 1], weight=[1, 2, 0.5])")
