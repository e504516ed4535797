"""Hidden graders of coding/softmax_cross_entropy: agreement with torch.nn.functional.softmax,
log_softmax and cross_entropy on random inputs (any dim, ignore_index, class weights), dtypes,
the stability tier (logits of +-1e4, rows of very different scale, underflowing probabilities,
-inf entries), gradients against PyTorch's in float64, and untouched inputs."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, visible_module

V = visible_module("coding/softmax_cross_entropy")

STABLE = ("subtract the maximum along dim before exp (the log-sum-exp trick): exp of a large logit overflows "
          "to inf and inf / inf is nan")
STABLE_LOG = STABLE + "; and take log_softmax as (x - m) - log(sum exp(x - m)), never log(softmax(x)) (log(0) = -inf)"


def randn(seed, *shape, scale=3.0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)


def shaped_cases(seed0):
    """Random (x, dim) pairs: 1-D to 4-D, every dim, negative dims too."""
    g = torch.Generator().manual_seed(seed0)
    cases = []
    for k in range(10):
        ndim = 1 + k % 4
        shape = [int(s) for s in torch.randint(1, 6, (ndim,), generator=g)]
        shape[int(torch.randint(ndim, (), generator=g))] = int(torch.randint(2, 9, (), generator=g))
        dim = int(torch.randint(-ndim, ndim, (), generator=g))
        cases.append((randn(seed0 + k, *shape), dim))
    return cases


def ce_batch(seed, N=None, C=None, p_ignore=0.0, weighted=False, ignore_index=-100, scale=3.0,
             dtype=torch.float32):
    """Random (logits, target, weight, ignore_index); about p_ignore of the rows are ignored (never all)."""
    g = torch.Generator().manual_seed(seed)
    N = N or int(torch.randint(1, 12, (), generator=g))
    C = C or int(torch.randint(2, 10, (), generator=g))
    logits = randn(seed, N, C, scale=scale, dtype=dtype)
    target = torch.randint(C, (N,), generator=g)
    if p_ignore:
        drop = torch.rand(N, generator=g) < p_ignore
        drop[0] = False                                              # one row always counts
        target[drop] = ignore_index
    weight = (torch.rand(C, generator=g, dtype=torch.float64) * 3 + 0.1).to(dtype) if weighted else None
    return logits, target, weight, ignore_index


def oracle(logits, target, weight=None, ignore_index=-100):
    w = None if weight is None else weight.double()
    return F.cross_entropy(logits.double(), target, weight=w, ignore_index=ignore_index)


def expect_loss(got, want, rule, what, rtol=1e-5, atol=1e-6):
    out = V.scalar(got, what)
    expect_close(out.item(), float(want), rule, rtol=rtol, atol=atol, what=what)
    return out


def _agree(run, name, lib, seed0, rule):
    cases = shaped_cases(seed0)
    for (x, dim), got in zip(cases, run(V.apply_many, name, cases)):
        what = f"{name}(x of shape {list(x.shape)}, dim={dim})"
        out = V.tensor_out(got["out"], x, what, f"{name} keeps the input's shape")
        expect_close(out, lib(x.double(), dim=dim).float(), rule, what=what)


# --------------------------------------------------------------------------------------------
# softmax and log_softmax
# --------------------------------------------------------------------------------------------

@check("softmax agrees with F.softmax on random 1-D to 4-D inputs along every dim", points=2)
def softmax_agrees(run):
    _agree(run, "softmax", F.softmax, 0, "softmax normalises along `dim` (any dim, negative ones too): "
           "exp(x) / exp(x).sum(dim, keepdim=True)")


@check("log_softmax agrees with F.log_softmax on random 1-D to 4-D inputs along every dim", points=2)
def log_softmax_agrees(run):
    _agree(run, "log_softmax", F.log_softmax, 100, "log_softmax(x) = x - log(sum exp(x)) along `dim` "
           "(any dim, negative ones too)")


@check("float64 in, float64 out (to 1e-12); the input tensor is not modified")
def dtype_and_inputs(run):
    x = randn(200, 4, 7, dtype=torch.float64)
    for name, lib in (("softmax", F.softmax), ("log_softmax", F.log_softmax)):
        got = run(V.apply, name, x, 1)
        out = V.tensor_out(got["out"], x, f"{name}(float64 x)", f"{name} keeps the input's shape")
        expect_close(out, lib(x, dim=1), f"{name} computes in the input's dtype (float64 here)", rtol=1e-12,
                     atol=1e-12, check_dtype=True, what=f"{name}(float64 x of shape [4, 7], dim=1)")
        expect_close(got["x_after"], x, f"{name} must not modify its input (no in-place x -= max)", rtol=0,
                     atol=0, what="x after the call")


@check("huge logits (+-1e4, float32 and float64) give finite, correct softmax and log_softmax", points=2)
def huge_logits(run):
    base = randn(300, 5, 6, scale=1.0)
    cases = [(base * 1e4, -1), (base * 1e4, 0), ((base * 1e4).double(), -1), (base + 3e4, -1), (base - 3e4, -1)]
    names = ["x * 1e4 (float32)", "x * 1e4 along dim 0", "x * 1e4 (float64)", "x + 3e4", "x - 3e4"]
    for name, lib, rule in (("softmax", F.softmax, STABLE), ("log_softmax", F.log_softmax, STABLE_LOG)):
        for (x, dim), label, got in zip(cases, names, run(V.apply_many, name, cases)):
            out = V.tensor_out(got["out"], x, f"{name}({label})", f"{name} keeps the input's shape")
            if not torch.isfinite(out).all():
                raise Fail(rule, f"{name}({label}): your output has {int((~torch.isfinite(out)).sum())} "
                                   f"non-finite entries, e.g. {out[~torch.isfinite(out)][0].item()}")
            # float32 logits near 3e4 carry an absolute rounding error of ~2e-3 (their ulp), which a correct
            # exp(x - logsumexp(x)) passes on to the probabilities: relative tolerance 5e-3.
            expect_close(out, lib(x.double(), dim=dim), rule, rtol=5e-3, atol=1e-4 if name == "softmax" else 1e-2,
                         what=f"{name}({label})")


@check("rows of very different scale: the maximum is taken per row (along dim), not over the whole tensor")
def per_row_max(run):
    x = torch.tensor([[1e4, 1e4 - 1.0, 1e4 - 3.0], [-1e4, -1e4 + 2.0, -1e4 - 1.0], [0.5, -0.5, 0.0]])
    rule = ("subtract the maximum OF EACH SLICE along dim (amax(dim, keepdim=True)): with one global maximum a "
            "row far below it underflows to all zeros and 0 / 0 is nan")
    for name, lib in (("softmax", F.softmax), ("log_softmax", F.log_softmax)):
        out = V.tensor_out(run(V.apply, name, x)["out"], x, f"{name}(rows around 1e4, -1e4 and 0)", rule)
        expect_close(out, lib(x.double(), dim=-1), rule, rtol=5e-3, atol=1e-3,
                     what=f"{name}(rows around 1e4, -1e4 and 0)")


@check("log_softmax stays finite where the probability underflows (a logit 2e4 below the maximum gives -2e4)")
def log_softmax_underflow(run):
    x = torch.tensor([[0.0, -2e4, -50.0], [3e3, -3e3, 0.0]], dtype=torch.float64)
    x32 = x.float()
    rule = ("compute log_softmax as (x - m) - log(sum exp(x - m)) with m the maximum of each slice, never "
            "log(softmax(x)): a probability that underflows to 0 gives log(0) = -inf instead of a finite "
            "log-probability")
    for label, xi in (("float64", x), ("float32", x32)):
        out = V.tensor_out(run(V.apply, "log_softmax", xi)["out"], xi, f"log_softmax ({label})", rule)
        bad = ~torch.isfinite(out)
        if bad.any():
            raise Fail(rule, f"log_softmax([[0, -2e4, -50], [3e3, -3e3, 0]]) ({label}): your output has "
                             f"{out[bad][0].item()} where {F.log_softmax(x, -1)[bad][0].item():.6g} was expected")
        expect_close(out, F.log_softmax(x, -1), rule, what=f"log_softmax ({label})")


@check("-inf entries (masked positions) get probability 0 / log-probability -inf; the rest still sums to 1")
def neg_inf_entries(run):
    inf = float("inf")
    x = torch.tensor([[-inf, 1.0, 2.0, -inf], [0.0, -inf, -inf, -inf], [3.0, 3.0, -inf, 0.0]])
    rule = "an entry of -inf has exp(-inf) = 0: softmax 0 and log_softmax -inf there, the other entries normalised"
    for name, lib in (("softmax", F.softmax), ("log_softmax", F.log_softmax)):
        out = V.tensor_out(run(V.apply, name, x)["out"], x, f"{name} with -inf entries", rule)
        expect_close(out, lib(x, dim=-1), rule, what=f"{name} with -inf entries")


# --------------------------------------------------------------------------------------------
# cross_entropy
# --------------------------------------------------------------------------------------------

def _ce_agree(run, cases, rule, label):
    for k, (case, got) in enumerate(zip(cases, run(V.losses, cases))):
        logits, target = case[0], case[1]
        n = int((target != case[3]).sum())
        expect_loss(got, oracle(*case), rule, f"loss of {label} batch {k} (N={logits.size(0)}, C={logits.size(1)}, "
                    f"{n} counted rows)")


@check("cross_entropy agrees with F.cross_entropy on random batches", points=2)
def ce_agrees(run):
    _ce_agree(run, [ce_batch(400 + s) for s in range(12)],
              "loss = mean over rows of -log_softmax(logits[n])[target[n]]", "random")


@check("ignore_index: ignored rows are skipped and the mean runs over the counted rows only", points=2)
def ce_ignore_index(run):
    cases = [ce_batch(500 + s, p_ignore=0.4) for s in range(6)]
    cases += [ce_batch(510 + s, p_ignore=0.4, ignore_index=-1) for s in range(3)]
    _ce_agree(run, cases, "rows whose target equals ignore_index count neither in the sum nor in the number of rows "
              "(use the ignore_index argument, not a hard-coded -100)", "ignore_index")
    logits, target, _, _ = ce_batch(520, N=9, C=4)
    target[:3] = 0                                                    # class 0 is a real class here ...
    got = run(V.loss, logits, target, None, 0)                        # ... and also the ignored one
    expect_loss(got, oracle(logits, target, None, 0), "ignore_index may be a real class id (0 here): every row "
                "with target 0 is skipped", "loss with ignore_index=0")


@check("class weights: sum_n w[t_n] * loss_n / sum_n w[t_n], also with ignored rows", points=2)
def ce_weights(run):
    cases = [ce_batch(600 + s, weighted=True) for s in range(6)]
    cases += [ce_batch(610 + s, weighted=True, p_ignore=0.4) for s in range(6)]
    _ce_agree(run, cases, "with class weights the loss is the weighted mean sum_n w[t_n] * loss_n / sum_n w[t_n] "
              "over the counted rows (divide by the sum of the weights, not by the number of rows)", "weighted")


@check("edge cases: one row, one class, and nan when every target is ignored (0 / 0, as PyTorch)")
def ce_edges(run):
    one = ce_batch(700, N=1, C=5)
    single_class = (randn(701, 4, 1), torch.zeros(4, dtype=torch.long), None, -100)
    all_ignored = (randn(702, 3, 4), torch.full((3,), -100), None, -100)
    got = run(V.losses, [one, single_class, all_ignored])
    expect_loss(got[0], oracle(*one), "cross_entropy works for N = 1", "loss of a single row")
    expect_loss(got[1], 0.0, "with a single class every probability is 1 and the loss is 0", "loss with C = 1")
    out = V.scalar(got[2], "loss when every target is -100")
    expect(bool(torch.isnan(out)), "when no row counts the mean is 0 / 0 = nan (what F.cross_entropy returns); "
           "do not return 0 or raise", f"your loss is {out.item()}")


@check("cross_entropy: float64 logits give a float64 loss (to 1e-12); no input is modified")
def ce_dtype_and_inputs(run):
    logits, target, _, ii = ce_batch(800, N=8, C=6, dtype=torch.float64)
    out = expect_loss(run(V.loss, logits, target), oracle(logits, target), "compute in the logits' dtype "
                      "(float64 here)", "float64 loss (no weights, no ignored rows)", rtol=1e-12, atol=0.0)
    expect(out.dtype == torch.float64, "the loss has the logits' dtype (float64 here)", f"your loss is {out.dtype}")
    logits, target, weight, ii = ce_batch(801, N=8, C=6, p_ignore=0.3, weighted=True)
    got = run(V.loss, logits, target, weight, ii)
    for key, want in (("logits_after", logits), ("target_after", target), ("weight_after", weight)):
        expect_close(got[key], want, "cross_entropy must not modify its inputs (e.g. shifting the logits or writing "
                     "0 into ignored targets in place)", rtol=0, atol=0, what=key.replace("_after", " after the call"))


@check("cross_entropy is finite and correct for logits of +-1e4 and with -inf logits of non-target classes", points=2)
def ce_stability(run):
    logits, target, weight, ii = ce_batch(900, N=10, C=7, scale=1.0)
    masked = logits.clone()
    masked[:, 0] = float("-inf")                                       # class 0 banned everywhere ...
    masked_target = torch.where(target == 0, torch.full_like(target, -100), target)   # ... and only an ignored target
    cases = [(logits * 1e4, target, None, ii), ((logits * 1e4).double(), target, None, ii), (logits + 3e4, target,
             None, ii), (masked, masked_target, None, ii)]
    names = ["logits * 1e4", "logits * 1e4 (float64)", "logits + 3e4", "-inf logits for class 0, whose rows are "
             "ignored"]
    rules = [STABLE_LOG] * 3 + ["a -inf logit of a class that is no counted target leaves the loss finite: drop "
                                "ignored rows with torch.where, not by multiplying with a 0/1 mask (-inf * 0 is nan)"]
    for case, name, rule, got in zip(cases, names, rules, run(V.losses, cases)):
        out = V.scalar(got, name)
        if not torch.isfinite(out):
            raise Fail(rule, f"{name}: your loss is {out.item()}, expected {oracle(*case).item():.6g}")
        expect_close(out.item(), float(oracle(*case)), "with extreme logits the loss still equals "
                     "F.cross_entropy's", rtol=1e-5, atol=1e-3, what=f"loss ({name})")


# --------------------------------------------------------------------------------------------
# Gradients
# --------------------------------------------------------------------------------------------

def library_grad(fn, x, args=(), v=None):
    x = x.detach().clone().requires_grad_(True)
    out = fn(x, *args)
    (g,) = torch.autograd.grad(out if v is None else (out * v).sum(), x)
    return g


def expect_grad(got, want, rule, what):
    if got["grad"] is None:
        raise Fail(rule, f"{what}: your output does not require grad -- build it from differentiable torch "
                         f"operations on x (no .detach(), .item(), numpy or torch.no_grad())")
    expect_close(got["grad"], want, rule, rtol=1e-7, atol=1e-10, what=what)


@check("gradients of softmax and log_softmax agree with PyTorch's (float64, random upstream gradients)", points=2)
def softmax_grads(run):
    for k, dim in enumerate((-1, 0, 1)):
        x = randn(1000 + k, 3, 5, 4, dtype=torch.float64)
        v = randn(1010 + k, 3, 5, 4, dtype=torch.float64)
        for name, lib in (("softmax", F.softmax), ("log_softmax", F.log_softmax)):
            got = run(V.gradient, name, x, (dim,), v)
            expect_grad(got, library_grad(lambda t, d: lib(t, dim=d), x, (dim,), v),
                        f"d/dx of sum(v * {name}(x)) matches autograd through PyTorch's {name}",
                        f"gradient of {name}(x, dim={dim})")


@check("gradient of cross_entropy (with weights and ignored rows) agrees with F.cross_entropy's", points=2)
def ce_grads(run):
    for k, (weighted, p_ignore) in enumerate(((False, 0.0), (True, 0.0), (True, 0.4), (False, 0.4))):
        logits, target, weight, ii = ce_batch(1100 + k, N=9, C=5, weighted=weighted, p_ignore=p_ignore,
                                              dtype=torch.float64)
        got = run(V.gradient, "cross_entropy", logits, (target, weight, ii))
        want = library_grad(lambda t, *a: F.cross_entropy(t, a[0], weight=a[1], ignore_index=a[2]), logits,
                            (target, weight, ii))
        expect_grad(got, want, "d loss / d logits = w[t_n] * (softmax(logits[n]) - onehot(t_n)) / sum w, zero for "
                    "ignored rows -- what autograd gives through a correct forward pass",
                    f"gradient of cross_entropy ({'weighted' if weighted else 'unweighted'}, "
                    f"{'with' if p_ignore else 'no'} ignored rows)")
