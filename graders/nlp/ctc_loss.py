"""Hidden graders of nlp/ctc_loss: the log-likelihood against brute-force enumeration of every
frame-level path on tiny cases, the batched loss and its gradients against torch.nn.functional.ctc_loss
(padded targets, input and target lengths, empty targets, all reductions, zero_infinity, another
blank id), a 150-frame float32 sequence, and greedy decoding against a literal argmax-merge-drop."""
import itertools
import math

import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, probe, visible_module

V = visible_module("nlp/ctc_loss")


# --------------------------------------------------------------------------------------------
# Oracles
# --------------------------------------------------------------------------------------------

def collapse(path, blank=0):
    merged = [s for i, s in enumerate(path) if i == 0 or s != path[i - 1]]
    return [s for s in merged if s != blank]


def brute_force_log_likelihood(log_probs, target, blank=0):
    """log of the summed probability of every path of T symbols that collapses to ``target``."""
    T, C = log_probs.shape
    lp = log_probs.double().tolist()
    terms = [sum(lp[t][s] for t, s in enumerate(path)) for path in itertools.product(range(C), repeat=T)
             if collapse(list(path), blank) == list(target)]
    if not terms:
        return -math.inf
    m = max(terms)
    return m + math.log(sum(math.exp(x - m) for x in terms))


def torch_ctc(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=blank, reduction=reduction,
                      zero_infinity=zero_infinity)


def batch(seed, T=10, N=3, C=6, S=4, blank=0, dtype=torch.float64, min_input=1, repeats=False):
    """(logits, targets, input_lengths, target_lengths): labels avoid ``blank``; lengths vary."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(T, N, C, generator=g, dtype=torch.float64).to(dtype) * 2
    labels = [c for c in range(C) if c != blank]
    targets = torch.tensor(labels)[torch.randint(len(labels), (N, S), generator=g)]
    if repeats:
        targets[:, 1] = targets[:, 0]                             # a doubled label in every row
    target_lengths = torch.randint(0, S + 1, (N,), generator=g)
    target_lengths[0] = S
    input_lengths = torch.randint(min_input, T + 1, (N,), generator=g)
    input_lengths[0] = T
    return logits, targets, input_lengths, target_lengths


@probe
def batched(sub, logits, targets, input_lengths, target_lengths, options=None, grad=False):
    """ctc_loss on log_softmax(logits); with ``grad``, d sum(loss) / d logits (through the log_softmax,
    where torch's CTC gradient is defined)."""
    x = logits.detach().clone().requires_grad_(True) if grad else logits
    out = sub.ctc_loss(torch.log_softmax(x, dim=-1), targets, input_lengths, target_lengths, **(options or {}))
    g = None
    if grad and isinstance(out, torch.Tensor) and out.requires_grad:
        out.sum().backward()
        g = x.grad
    return {"loss": out, "grad": g}


def loss_of(got, what):
    out = got["loss"]
    if not isinstance(out, torch.Tensor):
        raise Fail("ctc_loss returns a tensor", f"{what}: your code returned {type(out).__name__}")
    return out


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------

@check("extend_with_blanks on random targets and blank ids")
def extend_random(run):
    g = torch.Generator().manual_seed(0)
    for blank in (0, 4, 9):
        for L in (0, 1, 4):
            target = [int(v) + (int(v) >= blank) for v in torch.randint(0, 9, (L,), generator=g)]
            want = [blank] + [x for y in target for x in (y, blank)]
            expect_equal(run(V.extend, target, blank), want, "[blank, y1, blank, ..., yL, blank]: 2L + 1 states",
                         what=f"extend_with_blanks({target}, blank={blank})")


@check("ctc_log_likelihood equals the log-sum over every path that collapses to the target (brute force)", points=2)
def brute_force(run):
    g = torch.Generator().manual_seed(1)
    cases = [([1], 3), ([1, 2], 4), ([2, 2], 4), ([1, 2, 1], 5), ([2, 2, 2], 6), ([], 3), ([1, 1], 2)]
    for target, T in cases:
        lp = torch.log_softmax(torch.randn(T, 3, generator=g, dtype=torch.float64) * 1.5, dim=-1)
        want = brute_force_log_likelihood(lp, target)
        got = run(V.log_likelihood, lp, target)
        if not isinstance(got, torch.Tensor) and not isinstance(got, float):
            raise Fail("ctc_log_likelihood returns a 0-dim tensor", f"target {target}: your code returned {got!r}")
        expect_close(got, want, "log p(y | x) sums every path: stay, advance, or skip a blank between DIFFERENT "
                     "labels; start in the first two states, end in the last two; -inf when no path fits; the "
                     "blank defaults to 0",
                     rtol=1e-9, atol=1e-9, what=f"log p({target}) over {T} frames")


@check("ctc_loss agrees with F.ctc_loss for 'none', 'sum' and 'mean' (padded targets, varying lengths)", points=2)
def agrees_with_torch(run):
    for seed, repeats in [(10, False), (11, True)]:
        logits, targets, il, tl = batch(seed, repeats=repeats)
        lp = torch.log_softmax(logits, -1)
        for reduction in ("none", "sum", "mean"):
            got = loss_of(run(batched, logits, targets, il, tl, {"reduction": reduction}), reduction)
            expect_close(got, torch_ctc(lp, targets, il, tl, reduction=reduction), "sequence n uses its first "
                         "input_lengths[n] frames and target_lengths[n] labels; 'mean' divides each loss by its target "
                         "length before averaging", check_dtype=True, rtol=1e-9, atol=1e-9,
                         what=f"ctc_loss(reduction={reduction!r}, seed {seed}, input {il.tolist()}, targets {tl.tolist()})")


@check("gradients w.r.t. the logits (through log_softmax) agree with F.ctc_loss's and are finite", points=2)
def gradients(run):
    for seed, options in [(20, {}), (21, {"reduction": "sum"})]:
        logits, targets, il, tl = batch(seed, T=10, N=4, min_input=7, repeats=seed == 21)
        got = run(batched, logits, targets, il, tl, options, grad=True)
        loss_of(got, f"seed {seed}")
        if got["grad"] is None:
            raise Fail("the loss is differentiable w.r.t. log_probs", "no gradient came back")
        expect(bool(torch.isfinite(got["grad"]).all()), "gradients must be finite: torch.logsumexp of terms that are "
               "all -inf (states not yet reachable) has a nan gradient -- use the log_add helper",
               f"seed {seed}: your gradient has {int((~torch.isfinite(got['grad'])).sum())} non-finite entries")
        x = logits.clone().requires_grad_(True)
        torch_ctc(torch.log_softmax(x, -1), targets, il, tl, **options).sum().backward()
        expect_close(got["grad"], x.grad, "the gradient of -log p(y | x): posterior occupation of each state, through "
                     "the log_softmax", rtol=1e-7, atol=1e-10, what=f"d loss / d logits ({options or 'mean'})")


@check("impossible alignments give inf; zero_infinity turns them into 0 with zero gradient")
def infeasible(run):
    logits = torch.randn(3, 2, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(30))
    targets = torch.tensor([[1, 1, 1], [2, 3, 0]])           # row 0 needs 5 frames, row 1 fits in 3
    il, tl = torch.tensor([3, 3]), torch.tensor([3, 2])
    lp = torch.log_softmax(logits, -1)
    got = loss_of(run(batched, logits, targets, il, tl, {"reduction": "none"}), "reduction none")
    expect_close(got, torch_ctc(lp, targets, il, tl, reduction="none"), "a target that cannot fit in the frames "
                 "('1 _ 1 _ 1' needs 5) has probability 0: loss inf", what="losses")
    got = run(batched, logits, targets, il, tl, {"reduction": "sum", "zero_infinity": True}, grad=True)
    x = logits.clone().requires_grad_(True)
    torch_ctc(torch.log_softmax(x, -1), targets, il, tl, reduction="sum", zero_infinity=True).backward()
    expect_close(loss_of(got, "zero_infinity"), torch_ctc(lp, targets, il, tl, reduction="sum", zero_infinity=True),
                 "zero_infinity replaces the infinite loss by 0", what="loss (zero_infinity)")
    if got["grad"] is None:
        raise Fail("the loss is differentiable w.r.t. log_probs", "no gradient came back")
    expect_close(got["grad"], x.grad, "with zero_infinity the impossible sequence contributes no gradient (and no nan)",
                 rtol=1e-7, atol=1e-10, what="d loss / d logits (zero_infinity)")


@check("another blank id (the last class) and float32 inputs")
def other_blank(run):
    logits, targets, il, tl = batch(40, C=5, blank=4, dtype=torch.float32)
    lp = torch.log_softmax(logits, -1)
    got = loss_of(run(batched, logits, targets, il, tl, {"blank": 4, "reduction": "none"}), "blank 4")
    expect_close(got, torch_ctc(lp, targets, il, tl, blank=4, reduction="none"), "the blank is whatever id `blank` "
                 "says (4 here), in the extended target and in the skip rule", check_dtype=True, rtol=1e-5, atol=1e-5,
                 what="losses (blank = 4, float32)")


@check("a 150-frame float32 sequence: the log-space recursion stays finite and exact")
def long_sequence(run):
    logits, targets, il, tl = batch(50, T=150, N=1, C=8, S=12, dtype=torch.float32)
    tl[:] = 12
    lp = torch.log_softmax(logits, -1)
    got = loss_of(run(batched, logits, targets, il, tl, {"reduction": "none"}), "T = 150")
    expect(bool(torch.isfinite(got).all()), "multiply float32 probabilities over 150 frames and they underflow to 0 "
           "(below 1e-38): stay in log space (add log-probabilities, combine with log-sum-exp)",
           f"your loss: {got.tolist()}")
    expect_close(got, torch_ctc(lp, targets, il, tl, reduction="none"), "the loss of a long sequence",
                 rtol=1e-4, atol=1e-3, what="loss (T = 150, float32)")


@check("greedy_decode agrees with argmax, merge repeats, drop blanks, per sequence length")
def greedy_random(run):
    for seed, blank in [(60, 0), (61, 2)]:
        g = torch.Generator().manual_seed(seed)
        # few classes and sticky frames, so repeats and blanks between equal labels occur
        base = torch.randint(0, 3, (20, 5), generator=g)
        sticky = torch.rand(20, 5, generator=g) < 0.5
        for t in range(1, 20):
            base[t] = torch.where(sticky[t], base[t - 1], base[t])
        log_probs = torch.full((20, 5, 3), -3.0)
        log_probs.scatter_(2, base.unsqueeze(-1), -0.2)
        lengths = torch.randint(1, 21, (5,), generator=g)
        want = [collapse(base[: int(lengths[n]), n].tolist(), blank) for n in range(5)]
        expect_equal(run(V.decode, log_probs, lengths, blank), want, "per sequence: argmax of each of its first "
                     "input_lengths[n] frames, merge consecutive repeats, then remove blanks",
                     what=f"greedy_decode (blank={blank}, lengths {lengths.tolist()})")
