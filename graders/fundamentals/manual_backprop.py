"""Hidden graders of fundamentals/manual_backprop: the loss and the three gradients against
torch's autograd through F.cross_entropy on random batches; float64 agreement to 1e-10 and a
central finite-difference check (gradcheck-style); huge logits; ignore_index (the default -100
and a valid class id); label smoothing, alone and with ignore_index; tiny shapes; and that no
input is modified."""
import torch
import torch.nn.functional as F

from mlkata.checks import check, expect, expect_close, expect_equal, visible_module

V = visible_module("fundamentals/manual_backprop")


def batch(seed, N, D, C, dtype=torch.float32, scale=1.0, ignore=None, ignore_index=-100):
    g = torch.Generator().manual_seed(seed)
    X = (torch.randn(N, D, generator=g) * scale).to(dtype)
    W = torch.randn(D, C, generator=g).to(dtype)
    b = torch.randn(C, generator=g).to(dtype)
    y = torch.randint(0, C, (N,), generator=g)
    if ignore is not None:
        drop = torch.rand(N, generator=g) < ignore
        drop[0] = False                                   # at least one row is counted
        y[drop] = ignore_index
    return X, W, b, y


def _agree(run, X, W, b, y, what, rtol=1e-4, atol=1e-6, only=V.NAMES, note="", **kwargs):
    got = V.unpack(run(V.grads, X, W, b, y, **kwargs), X, W, b)
    want = V.autograd_oracle(X, W, b, y, **kwargs)
    V.expect_agrees(got, want, what, rtol=rtol, atol=atol, only=only, note=note)
    return got


@check("log_softmax agrees with torch on random 1-D, 2-D and 3-D inputs, float32 and float64")
def log_softmax_random(run):
    for i, (shape, dtype) in enumerate((((7,), torch.float32), ((5, 11), torch.float32), ((2, 3, 9), torch.float64))):
        z = torch.randn(shape, generator=torch.Generator().manual_seed(i), dtype=dtype) * 5
        got = V.log_softmax_of(run(V.lsm, z))
        expect_close(got, z.log_softmax(-1), "log_softmax normalizes along the last dimension only, in z's dtype",
                     check_dtype=True, rtol=1e-6 if dtype == torch.float64 else 1e-5, atol=1e-6,
                     what=f"log_softmax of shape {list(shape)} ({dtype})")


@check("log_softmax stays finite and exact for logits of +-1e30 and for rows of equal huge values")
def log_softmax_extreme(run):
    z = torch.tensor([[1e30, 0.0, -1e30], [3e4, 3e4, 3e4], [-1e30, -1e30, 5.0], [88.0, 89.0, 90.0]])
    got = V.log_softmax_of(run(V.lsm, z))
    ok_shape = isinstance(got, torch.Tensor) and got.shape == z.shape
    expect(ok_shape and bool(got.isfinite().all()),
           "log_softmax is finite for finite logits: shift by the row max, then log-sum-exp",
           f"your log_softmax gave {got.tolist() if isinstance(got, torch.Tensor) else got}")
    want = z.log_softmax(-1)
    for i in range(z.shape[0]):
        # float32 carries ~7 digits of the row's largest logit: allow rounding at that scale.
        scale = max(1.0, float(z[i].abs().max()))
        expect_close(got[i], want[i], "log_softmax is exact for huge logits (up to float32 rounding of the logits)",
                     rtol=1e-6, atol=1e-6 * scale, what=f"log_softmax of row {z[i].tolist()}")


@check("the loss agrees with F.cross_entropy on random batches", points=2)
def loss_random(run):
    for i, (N, D, C) in enumerate(((8, 5, 3), (32, 16, 10), (3, 7, 50), (64, 4, 2))):
        _agree(run, *batch(i, N, D, C), f"N={N}, D={D}, C={C}", only=("loss",))


@check("dW and db agree with autograd on random batches", points=2)
def dw_db_random(run):
    for i, (N, D, C) in enumerate(((8, 5, 3), (32, 16, 10), (3, 7, 50), (64, 4, 2))):
        _agree(run, *batch(10 + i, N, D, C), f"N={N}, D={D}, C={C}", only=("dW", "db"))


@check("dX agrees with autograd on random batches", points=2)
def dx_random(run):
    for i, (N, D, C) in enumerate(((8, 5, 3), (32, 16, 10), (3, 7, 50), (64, 4, 2))):
        _agree(run, *batch(20 + i, N, D, C), f"N={N}, D={D}, C={C}", only=("dX",))


@check("float64: agrees with autograd to 1e-10 and with central finite differences of the loss")
def float64_gradcheck(run):
    X, W, b, y = batch(30, 6, 4, 5, dtype=torch.float64)
    got = _agree(run, X, W, b, y, "float64", rtol=1e-10, atol=1e-12)
    h = 1e-6

    def loss_at(Xp, Wp, bp):
        return float(F.cross_entropy(Xp @ Wp + bp, y))

    for name, index in (("dW", 1), ("db", 2), ("dX", 3)):
        base = [X, W, b][[None, 1, 2, 0][index]]
        numeric = torch.zeros_like(base)
        for j in range(base.numel()):
            plus, minus = base.clone(), base.clone()
            plus.view(-1)[j] += h
            minus.view(-1)[j] -= h
            args_p = [X, W, b]
            args_m = [X, W, b]
            slot = [None, 1, 2, 0][index]
            args_p[slot], args_m[slot] = plus, minus
            numeric.view(-1)[j] = (loss_at(*args_p) - loss_at(*args_m)) / (2 * h)
        expect_close(got[index], numeric, V.RULES[name] + " (checked by central finite differences)",
                     rtol=1e-6, atol=1e-8, what=f"{name} (float64)")


@check("huge logits (|X W + b| around 1e4): finite loss and gradients that match torch", points=2)
def huge_logits(run):
    for i, (N, D, C) in enumerate(((16, 8, 6), (5, 3, 20))):
        X, W, b, y = batch(40 + i, N, D, C, scale=3e3)
        got = V.unpack(run(V.grads, X, W, b, y), X, W, b)
        finite = all(bool(t.isfinite().all()) for t in got)
        expect(finite, "the loss must be stable for huge logits: shift by the row max before exp, and take "
                       "log-probabilities as shifted - log(sum(exp(shifted))), never log(softmax)",
               "non-finite values in: " + ", ".join(n for n, t in zip(V.NAMES, got) if not bool(t.isfinite().all())))
        V.expect_agrees(got, V.autograd_oracle(X, W, b, y), f"logits ~1e4, N={N}, C={C}", rtol=1e-4, atol=1e-3)


@check("ignore_index: ignored rows count neither in the loss nor in the mean, and get zero gradient "
       "(default -100, and ignore_index=2, a real class id)", points=2)
def ignore_index(run):
    note = "rows labelled ignore_index are left out: n counts only the other rows, and ignored rows get zero gradient"
    for i, (ii, N, D, C) in enumerate(((-100, 16, 5, 4), (2, 20, 6, 5), (-100, 9, 3, 7))):
        X, W, b, y = batch(50 + i, N, D, C, ignore=0.4, ignore_index=ii)
        kwargs = {} if ii == -100 else {"ignore_index": ii}
        got = V.unpack(run(V.grads, X, W, b, y, **kwargs), X, W, b)
        ignored = y == ii
        expect_equal(got[3][ignored], torch.zeros(int(ignored.sum()), D),
                     "an ignored row gets no gradient at all: mask its row of dL/dZ, not only its loss",
                     what=f"dX rows of the rows labelled {ii}")
        V.expect_agrees(got, V.autograd_oracle(X, W, b, y, **kwargs),
                        f"ignore_index={ii}, {int(ignored.sum())} of {N} rows ignored", note=note)


@check("label smoothing: target (1 - eps) * onehot + eps / C, with eps = 0.1, 0.5, 1.0, and with ignore_index",
       points=2)
def label_smoothing(run):
    for i, (eps, ignore) in enumerate(((0.1, None), (0.5, None), (1.0, None), (0.2, 0.3))):
        X, W, b, y = batch(60 + i, 12, 5, 6, ignore=ignore)
        _agree(run, X, W, b, y, f"label_smoothing={eps}" + (", some rows ignored" if ignore else ""),
               note="with label smoothing Q = (1 - eps) * onehot(y) + eps / C: every class gets eps / C",
               label_smoothing=eps)


@check("tiny shapes: one row, one class (loss 0), two classes")
def tiny_shapes(run):
    for i, (N, D, C) in enumerate(((1, 1, 1), (1, 3, 4), (5, 2, 1), (2, 1, 2))):
        _agree(run, *batch(70 + i, N, D, C), f"N={N}, D={D}, C={C}")


@check("float64 inputs give float64 results, and no input is modified")
def dtype_and_inputs(run):
    X, W, b, y = batch(80, 10, 4, 3, dtype=torch.float64)
    got = run(V.grads, X, W, b, y, label_smoothing=0.1)
    V.expect_agrees(V.unpack(got, X, W, b), V.autograd_oracle(X, W, b, y, label_smoothing=0.1), "float64 inputs",
                    rtol=1e-10, atol=1e-12)
    for name, before, after in zip(("X", "W", "b", "y"), (X, W, b, y), got["after"]):
        expect_equal(after, before, "linear_cross_entropy does not modify its inputs", what=f"{name} after the call")
