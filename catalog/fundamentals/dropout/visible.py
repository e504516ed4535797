"""Visible checks: inverted dropout on small fixed tensors."""
import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, expect_tensor, probe


@probe
def drop(sub, x, p, training=True, seed=None, global_seed=None, upstream=None):
    """Call dropout once (with a fresh generator seeded ``seed``, or none); report the output, x
    afterwards and -- when ``upstream`` is given -- x.grad after out.backward(upstream)."""
    if global_seed is not None:
        torch.manual_seed(global_seed)
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    if upstream is not None:
        x.requires_grad_(True)
    out = sub.dropout(x, p, training=training, generator=gen)
    grad = None
    if upstream is not None:
        if not (isinstance(out, torch.Tensor) and out.requires_grad):
            grad = "the output does not require grad"
        else:
            out.backward(upstream)
            grad = x.grad
    return {"out": out, "x_after": x, "grad": grad}


@probe
def drop_twice(sub, x, p, global_seed=0, seed=None):
    """Two calls in a row: with the global generator (seeded once), or with one shared generator."""
    torch.manual_seed(global_seed)
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    return [sub.dropout(x, p, training=True, generator=gen) for _ in range(2)]


@probe
def module(sub, x, p, modes, global_seed=0):
    """Build Dropout(p), run it once per mode ("train" or "eval", switched with .train()/.eval())."""
    torch.manual_seed(global_seed)
    m = sub.Dropout(p)
    outs = []
    for mode in modes:
        m.train() if mode == "train" else m.eval()
        outs.append(m(x))
    return {"outs": outs, "p": getattr(m, "p", None), "is_module": isinstance(m, torch.nn.Module),
            "params": [name for name, _ in m.named_parameters()], "x_after": x}


@probe
def error_for(sub, p, where="function", training=True):
    """The name of the exception raised for probability ``p`` (None if nothing is raised)."""
    try:
        if where == "function":
            sub.dropout(torch.ones(4), p, training=training)
        else:
            sub.Dropout(p)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - reported back to the check
        return type(e).__name__
    return None


def output(got, x, what="output"):
    """Judge side: the output must be a tensor with the shape and dtype of x."""
    return expect_tensor(got, f"dropout returns a tensor with the shape and dtype of x ({what})",
                         shape=x.shape, dtype=x.dtype)


def expect_zero_or_scaled(out, x, p, what="output"):
    """Every element is 0 (dropped) or x / (1 - p) (kept and scaled)."""
    kept = out != 0
    want = torch.where(kept, x / (1 - p), torch.zeros_like(x))
    if kept.any() and torch.allclose(out[kept].double(), x[kept].double(), rtol=1e-5, atol=0):
        raise Fail("inverted dropout scales every kept element by 1 / (1 - p) in training mode",
                   f"{what}: the kept elements equal x unscaled (expected x / (1 - p) = x * {1 / (1 - p):.6g})")
    expect_close(out, want, "in training mode each element is 0 (dropped) or x / (1 - p) (kept)",
                 rtol=1e-5, atol=1e-6, what=what)


def expect_dropped_and_kept(out, x, p, what="output"):
    """Every element is 0 or x / (1 - p), and a large input has both: dropping nothing (or
    everything) is not dropout.  (With 0 < p < 1 and 20+ elements, a correct implementation
    keeps all or drops all far less than once in 10^6 runs for the p used here.)"""
    expect_zero_or_scaled(out, x, p, what)
    n_zero = int((out == 0).sum())
    expect(0 < n_zero < x.numel(), f"in training mode each element is dropped with probability p = {p}: "
           f"some of the {x.numel()} elements are dropped and some kept", f"{what}: {n_zero} of {x.numel()} are 0")


X = torch.linspace(0.5, 4.4, 40).reshape(4, 10)     # no zeros, so a 0 in the output means "dropped"


@check("in eval mode (training=False) the output equals the input -- in training mode it does not")
def eval_is_identity(run):
    got = run(drop, X, 0.5, training=False)
    expect_close(output(got["out"], X), X, "in eval mode dropout is the identity: no element dropped, none scaled",
                 what="output with training=False")
    got = run(drop, X, 0.5, training=True, seed=3)
    expect_dropped_and_kept(output(got["out"], X), X, 0.5, "output of the same call with training=True")


@check("in training mode every element is either 0 or x / (1 - p)")
def zero_or_scaled(run):
    got = run(drop, X, 0.5, seed=0)
    out = output(got["out"], X)
    expect_zero_or_scaled(out, X, 0.5, "output with p=0.5")
    n_zero = int((out == 0).sum())
    expect(0 < n_zero < X.numel(), "with p=0.5 some of the 40 elements are dropped and some kept",
           f"{n_zero} of {X.numel()} elements are 0")


@check("p=0 keeps every value and p=1 gives all zeros (not NaN)")
def p_zero_and_one(run):
    got = run(drop, X, 0.0, seed=0)
    expect_close(output(got["out"], X), X, "with p=0 nothing is dropped and 1 / (1 - 0) = 1", what="output with p=0")
    got = run(drop, X, 1.0, seed=0)
    expect_equal(output(got["out"], X), torch.zeros_like(X),
                 "with p=1 every element is dropped: the output is all zeros (beware 0 / (1 - 1) = NaN)",
                 what="output with p=1")


@check("x itself is not modified")
def input_untouched(run):
    got = run(drop, X, 0.5, seed=1)
    expect_dropped_and_kept(output(got["out"], X), X, 0.5, "output with p=0.5")
    expect_equal(got["x_after"], X, "do not modify x: build a new tensor (x * mask), not x *= mask",
                 what="x after the call")


@check("the same generator seed gives the same output")
def reproducible(run):
    a = run(drop, X, 0.5, seed=7, global_seed=1)
    b = run(drop, X, 0.5, seed=7, global_seed=2)
    expect_dropped_and_kept(output(a["out"], X), X, 0.5, "output with p=0.5")
    expect_equal(output(b["out"], X), a["out"],
                 "take every random draw from `generator` when one is given (torch.rand(..., generator=generator))",
                 what="output of a second call with a generator of the same seed")
