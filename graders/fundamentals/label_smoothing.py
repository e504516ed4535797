"""Hidden graders of fundamentals/label_smoothing: agreement with F.cross_entropy(label_smoothing=...)
on random batches for every reduction, with and without class weights and ignored examples, the
soft-target view (cross-entropy against smoothed_targets), gradients, dtypes, huge logits, the end
points eps = 0 and 1, and the error for an unknown reduction."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, expect_tensor, probe, visible_module

V = visible_module("fundamentals/label_smoothing")


def oracle(logits, target, smoothing=0.1, weight=None, ignore_index=-100, reduction="mean"):
    return F.cross_entropy(logits, target, weight=weight, ignore_index=ignore_index, reduction=reduction,
                           label_smoothing=smoothing)


def batch(seed, N=12, C=7, scale=2.0, p_ignore=0.0, weighted=False, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    logits = (torch.randn(N, C, generator=g, dtype=torch.float64) * scale).to(dtype)
    target = torch.randint(C, (N,), generator=g)
    if p_ignore:
        drop = torch.rand(N, generator=g) < p_ignore
        drop[0] = False
        target[drop] = -100
    weight = (torch.rand(C, generator=g, dtype=torch.float64) * 2 + 0.1).to(dtype) if weighted else None
    return logits, target, weight


def value(got, what):
    out = got["loss"]
    if not isinstance(out, torch.Tensor):
        raise Fail("label_smoothing_cross_entropy returns a tensor", f"{what}: your code returned {type(out).__name__}")
    return out


@check("smoothed_targets agrees with (1 - eps) one_hot + eps / C for random targets, C and eps")
def targets_random(run):
    for seed, (N, C, eps) in enumerate([(6, 5, 0.1), (10, 2, 0.5), (3, 11, 0.0), (4, 3, 1.0)]):
        y = torch.randint(C, (N,), generator=torch.Generator().manual_seed(seed))
        got = expect_tensor(run(V.targets, y, C, eps), "smoothed_targets returns a float32 (N, C) tensor",
                            shape=(N, C), dtype=torch.float32)
        want = (1 - eps) * F.one_hot(y, C).float() + eps / C
        expect_close(got, want, "q[i, c] = (1 - eps) * [c == y_i] + eps / C", atol=1e-7,
                     what=f"smoothed_targets (C={C}, eps={eps})")


@check("no weights: agrees with F.cross_entropy(label_smoothing=eps) for 'mean', 'sum' and 'none'", points=2)
def unweighted(run):
    for seed, eps in [(10, 0.1), (11, 0.3), (12, 0.05)]:
        logits, target, _ = batch(seed, p_ignore=0.2)
        for reduction in ("mean", "sum", "none"):
            got = value(run(V.loss, logits, target, {"smoothing": eps, "reduction": reduction}), reduction)
            expect_close(got, oracle(logits, target, eps, reduction=reduction), "loss_i = (1 - eps)(-log p_y) + "
                         "(eps / C) sum_c (-log p_c); ignored examples count nowhere; 'mean' divides by the number "
                         "of counted examples", check_dtype=True, rtol=1e-5, atol=1e-6,
                         what=f"loss (eps={eps}, reduction={reduction!r}, seed {seed})")


@check("class weights: each term weighted by its own class, 'mean' divided by sum_i w[y_i]", points=2)
def weighted(run):
    for seed, eps in [(20, 0.1), (21, 0.4), (22, 0.0)]:
        logits, target, weight = batch(seed, p_ignore=0.25, weighted=True)
        for reduction in ("mean", "none"):
            got = value(run(V.loss, logits, target, {"smoothing": eps, "weight": weight, "reduction": reduction}),
                        reduction)
            expect_close(got, oracle(logits, target, eps, weight, reduction=reduction), "with weights: "
                         "(1 - eps) w[y] (-log p_y) + (eps / C) sum_c w[c] (-log p_c); 'mean' divides the sum by "
                         "sum of w[y_i] over the counted examples", rtol=1e-5, atol=1e-6,
                         what=f"loss (weighted, eps={eps}, reduction={reduction!r}, seed {seed})")


@check("another ignore_index, and the end points eps = 0 (plain cross-entropy) and eps = 1 (uniform target)")
def ignore_and_end_points(run):
    logits, target, _ = batch(30, p_ignore=0.3)
    target[target == -100] = 3
    got = value(run(V.loss, logits, target, {"ignore_index": 3}), "ignore_index=3")
    expect_close(got, oracle(logits, target, ignore_index=3), "examples whose target equals ignore_index (3 here) are "
                 "skipped, whatever the value", rtol=1e-5, atol=1e-6, what="loss (ignore_index=3)")
    logits, target, _ = batch(31)
    for eps in (0.0, 1.0):
        got = value(run(V.loss, logits, target, {"smoothing": eps}), f"eps={eps}")
        expect_close(got, oracle(logits, target, eps), "eps = 0 is the ordinary cross-entropy; eps = 1 the "
                     "cross-entropy against the uniform distribution", rtol=1e-5, atol=1e-6, what=f"loss (eps={eps})")


@check("the loss equals the cross-entropy against smoothed_targets (the soft-target view)")
def soft_target_view(run):
    logits, target, _ = batch(35)
    q = run(V.targets, target, logits.shape[1], 0.2)
    got = value(run(V.loss, logits, target, {"smoothing": 0.2}), "eps=0.2")
    want = F.cross_entropy(logits, F.one_hot(target, logits.shape[1]).float() * 0.8 + 0.2 / logits.shape[1])
    expect_close(q, F.one_hot(target, logits.shape[1]).float() * 0.8 + 0.2 / logits.shape[1],
                 "smoothed_targets and the loss describe the same target distribution", atol=1e-7,
                 what="smoothed_targets")
    expect_close(got, want, "the smoothed loss is -sum_c q_c log p_c averaged over examples", rtol=1e-5, atol=1e-6,
                 what="loss")


@check("gradients w.r.t. the logits agree with torch's (float64, weighted, ignored examples)", points=2)
def gradients(run):
    for seed, reduction in [(40, "mean"), (41, "sum")]:
        logits, target, weight = batch(seed, p_ignore=0.2, weighted=True, dtype=torch.float64)
        got = run(V.loss, logits, target, {"smoothing": 0.15, "weight": weight, "reduction": reduction}, grad=True)
        value(got, reduction)
        if got["grad"] is None:
            raise Fail("the loss is differentiable w.r.t. the logits", "no gradient came back")
        x = logits.clone().requires_grad_(True)
        oracle(x, target, 0.15, weight, reduction=reduction).sum().backward()
        expect_close(got["grad"], x.grad, "d loss / d logits: softmax(logits) * (total weight) - the weighted "
                     "smoothed target, per example, scaled by the reduction", rtol=1e-7, atol=1e-10,
                     what=f"d loss / d logits (reduction={reduction!r})")


@check("numerics: float64 stays float64, logits of 1e4 give the exact finite loss")
def numerics(run):
    logits, target, weight = batch(50, dtype=torch.float64, weighted=True)
    got = value(run(V.loss, logits, target, {"weight": weight}), "float64")
    expect_close(got, oracle(logits, target, weight=weight), "the loss in the logits' dtype", check_dtype=True,
                 rtol=1e-10, atol=1e-12, what="loss (float64)")
    logits, target, _ = batch(51, scale=1e4)
    got = value(run(V.loss, logits, target, {"smoothing": 0.1}), "huge logits")
    expect(bool(torch.isfinite(got).all()), "use log_softmax (stable): exp(1e4) overflows",
           f"your loss is {got.tolist()}")
    expect_close(got, oracle(logits, target, 0.1), "the loss of huge logits is large but finite", rtol=1e-5,
                 what="loss (logits of 1e4)")


@probe
def bad_reduction(sub, logits, target):
    try:
        sub.label_smoothing_cross_entropy(logits, target, reduction="batchmean")
    except ValueError:
        return "raised ValueError"
    return "returned a value"


@check("an unknown reduction raises ValueError")
def unknown_reduction(run):
    logits, target, _ = batch(60)
    got = run(bad_reduction, logits, target)
    expect(got == "raised ValueError", "reduction is 'none', 'sum' or 'mean'; anything else raises ValueError",
           f"reduction='batchmean': expected ValueError, your code {got}")
