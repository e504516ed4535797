"""Hidden graders of vision/focal_loss: both forms against brute-force oracles computed element by
element in float64 from the paper's formula (the sigmoid one is torchvision.ops.sigmoid_focal_loss's
definition; tests/test_twins_vision_focal_loss.py compares the reference with torchvision when it
imports) on random logits, alphas, gammas, soft targets and reductions; gamma = 0 giving the plain
cross-entropy, gradients, ignored examples, logits of 1e3, and unknown reductions."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, probe, visible_module

V = visible_module("vision/focal_loss")


def _log_sigmoid(x):
    return -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))


def oracle_sigmoid(logits, targets, alpha=0.25, gamma=2.0, reduction="none"):
    out = []
    for x, t in zip(logits.double().reshape(-1).tolist(), targets.double().reshape(-1).tolist()):
        p = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))
        ce = -(t * _log_sigmoid(x) + (1 - t) * _log_sigmoid(-x))
        p_t = p * t + (1 - p) * (1 - t)
        loss = ce * (1 - p_t) ** gamma
        if alpha >= 0:
            loss *= alpha * t + (1 - alpha) * (1 - t)
        out.append(loss)
    loss = torch.tensor(out, dtype=torch.float64).reshape(logits.shape)
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def oracle_softmax(logits, target, gamma=2.0, alpha=None, ignore_index=-100):
    terms = []
    for row, y in zip(logits.double().tolist(), target.tolist()):
        if y == ignore_index:
            continue
        m = max(row)
        log_p = row[y] - (m + math.log(sum(math.exp(v - m) for v in row)))
        a = 1.0 if alpha is None else float(alpha[y])
        terms.append(-a * (1 - math.exp(log_p)) ** gamma * log_p)
    return torch.tensor(sum(terms) / len(terms), dtype=torch.float64)


def sig_batch(seed, shape=(6, 5), scale=3.0, soft=False, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    logits = (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)
    targets = torch.rand(*shape, generator=g) if soft else (torch.rand(*shape, generator=g) < 0.3).float()
    return logits, targets.to(dtype)


def cls_batch(seed, N=10, C=6, scale=3.0, p_ignore=0.0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    logits = (torch.randn(N, C, generator=g, dtype=torch.float64) * scale).to(dtype)
    target = torch.randint(C, (N,), generator=g)
    if p_ignore:
        drop = torch.rand(N, generator=g) < p_ignore
        drop[0] = False
        target[drop] = -100
    alpha = (torch.rand(C, generator=g, dtype=torch.float64) + 0.1).to(dtype)
    return logits, target, alpha


def loss_of(got, what):
    out = got["loss"]
    if not isinstance(out, torch.Tensor):
        raise Fail("the focal losses return tensors", f"{what}: your code returned {type(out).__name__}")
    return out


@check("sigmoid_focal_loss agrees with the formula element by element: alphas, gammas, reductions", points=2)
def sigmoid_random(run):
    for seed, options in [(0, {}), (1, {"alpha": 0.5, "gamma": 1.0}), (2, {"alpha": -1.0, "gamma": 2.0}),
                          (3, {"alpha": 0.9, "gamma": 3.5, "reduction": "mean"}), (4, {"gamma": 0.0, "reduction": "sum"})]:
        logits, targets = sig_batch(seed)
        got = loss_of(run(V.sigmoid_fl, logits, targets, options), f"seed {seed}")
        expect_close(got, oracle_sigmoid(logits, targets, **options).float(), "loss = BCE_with_logits(x, t) * "
                     "(1 - p_t)^gamma * (alpha t + (1 - alpha)(1 - t)), the alpha factor only when alpha >= 0",
                     check_dtype=True, rtol=1e-5, atol=1e-6, what=f"sigmoid_focal_loss ({options or 'defaults'})")


@check("sigmoid_focal_loss: soft targets in [0, 1] and any shape (a detector's (B, anchors, classes))")
def sigmoid_soft_targets(run):
    logits, targets = sig_batch(10, shape=(2, 7, 3), soft=True)
    got = loss_of(run(V.sigmoid_fl, logits, targets, {"alpha": 0.3}), "soft targets")
    expect_close(got, oracle_sigmoid(logits, targets, 0.3).float(), "p_t = p t + (1 - p)(1 - t) and "
                 "alpha_t = alpha t + (1 - alpha)(1 - t) hold for soft targets too; the result keeps the input's shape",
                 rtol=1e-5, atol=1e-6, what="sigmoid_focal_loss (soft targets, shape (2, 7, 3))")


@check("sigmoid_focal_loss: gradient w.r.t. the logits agrees (float64)")
def sigmoid_gradient(run):
    logits, targets = sig_batch(20, dtype=torch.float64)
    got = run(V.sigmoid_fl, logits, targets, {"alpha": 0.25, "gamma": 2.0}, grad=True)
    if got["grad"] is None:
        raise Fail("the loss is differentiable w.r.t. the logits", "no gradient came back")
    x = logits.clone().requires_grad_(True)
    p = torch.sigmoid(x)
    ce = -(targets * F.logsigmoid(x) + (1 - targets) * F.logsigmoid(-x))
    p_t = p * targets + (1 - p) * (1 - targets)
    (ce * (1 - p_t) ** 2 * (0.25 * targets + 0.75 * (1 - targets))).sum().backward()
    expect_close(got["grad"], x.grad, "the focal factor is part of the graph: differentiate through (1 - p_t)^gamma "
                 "too (do not detach it)", rtol=1e-7, atol=1e-10, what="d sum(loss) / d logits")


@check("softmax_focal_loss agrees with the formula: gammas, per-class alphas, ignored examples", points=2)
def softmax_random(run):
    for seed, gamma, use_alpha in [(30, 2.0, False), (31, 0.5, True), (32, 5.0, True), (33, 1.0, False)]:
        logits, target, alpha = cls_batch(seed, p_ignore=0.2)
        options = {"gamma": gamma, **({"alpha": alpha} if use_alpha else {})}
        got = loss_of(run(V.softmax_fl, logits, target, options), f"seed {seed}")
        expect_close(got, oracle_softmax(logits, target, gamma, alpha if use_alpha else None).float(),
                     "loss = mean over counted examples of -alpha[y] (1 - p_y)^gamma log p_y, divided by their number",
                     rtol=1e-5, atol=1e-6, what=f"softmax_focal_loss (gamma={gamma}, alpha={'per class' if use_alpha else None})")


@check("gamma = 0 gives the ordinary cross-entropy (softmax form), another ignore_index is honoured")
def softmax_is_cross_entropy(run):
    logits, target, _ = cls_batch(40, p_ignore=0.3)
    got = loss_of(run(V.softmax_fl, logits, target, {"gamma": 0.0}), "gamma 0")
    expect_close(got, F.cross_entropy(logits, target), "without focusing the loss is the mean cross-entropy over the "
                 "counted examples", rtol=1e-5, atol=1e-6, what="softmax_focal_loss (gamma = 0)")
    target[target == -100] = 1
    got = loss_of(run(V.softmax_fl, logits, target, {"ignore_index": 1}), "ignore_index=1")
    expect_close(got, oracle_softmax(logits, target, ignore_index=1).float(), "examples whose target equals "
                 "ignore_index (1 here) count nowhere", rtol=1e-5, atol=1e-6, what="softmax_focal_loss (ignore_index=1)")


@check("softmax_focal_loss: gradient w.r.t. the logits agrees (float64)")
def softmax_gradient(run):
    logits, target, alpha = cls_batch(50, p_ignore=0.2, dtype=torch.float64)
    got = run(V.softmax_fl, logits, target, {"gamma": 2.0, "alpha": alpha}, grad=True)
    if got["grad"] is None:
        raise Fail("the loss is differentiable w.r.t. the logits", "no gradient came back")
    x = logits.clone().requires_grad_(True)
    keep = target != -100
    log_p = torch.log_softmax(x[keep], -1).gather(1, target[keep][:, None]).squeeze(1)
    (-(alpha[target[keep]]) * (1 - log_p.exp()) ** 2 * log_p).mean().backward()
    expect_close(got["grad"], x.grad, "differentiate through the focal factor (1 - p_y)^gamma as well; ignored rows "
                 "get zero gradient", rtol=1e-7, atol=1e-10, what="d loss / d logits")


@check("stability: logits of +-1000 give exact finite losses in both forms")
def huge_logits(run):
    logits, targets = sig_batch(60, scale=1e3)
    got = loss_of(run(V.sigmoid_fl, logits, targets, {"alpha": 0.25}), "huge logits")
    expect(bool(torch.isfinite(got).all()), "compute log sigmoid stably (F.logsigmoid or softplus): log(sigmoid(-1000))"
           " is log(0) = -inf", f"your losses: {got.reshape(-1)[:6].tolist()} ...")
    expect_close(got, oracle_sigmoid(logits, targets).float(), "the focal loss of huge logits", rtol=1e-5, atol=1e-6,
                 what="sigmoid_focal_loss (logits of 1e3)")
    logits, target, _ = cls_batch(61, scale=1e3)
    got = loss_of(run(V.softmax_fl, logits, target, {"gamma": 1.0}), "huge logits")
    expect(bool(torch.isfinite(got)), "use log_softmax: softmax of logits 1000 apart rounds to exactly 0",
           f"your loss: {got.item()}")
    expect_close(got, oracle_softmax(logits, target, 1.0).float(), "the focal loss of huge logits", rtol=1e-5,
                 what="softmax_focal_loss (logits of 1e3)")


@probe
def bad_reduction(sub, logits, targets):
    try:
        sub.sigmoid_focal_loss(logits, targets, reduction="batchmean")
    except ValueError:
        return "raised ValueError"
    return "returned a value"


@check("sigmoid_focal_loss: an unknown reduction raises ValueError")
def unknown_reduction(run):
    logits, targets = sig_batch(70)
    got = run(bad_reduction, logits, targets)
    expect(got == "raised ValueError", "reduction is 'none', 'mean' or 'sum' (torchvision raises ValueError otherwise)",
           f"reduction='batchmean': expected ValueError, your code {got}")
