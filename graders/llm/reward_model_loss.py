"""Hidden graders of llm/reward_model_loss: agreement with the torch formulation TRL's reward
trainer uses (``-F.logsigmoid(chosen - rejected - margin).mean()``) on random inputs, gradients
with respect to every input, the margin forms, mean-not-sum, broadcasting, and reward gaps of 1e4."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, expect_tensor, visible_module

V = visible_module("llm/reward_model_loss")


# ----------------------------------------------------------------------------------------------
# The oracle (also checked against TRL's formula in tests/test_twins_llm_reward_model_loss.py)
# ----------------------------------------------------------------------------------------------

def torch_bt_loss(chosen, rejected, margin=None):
    """TRL's reward loss written with torch: mean over pairs of -logsigmoid(chosen - rejected - margin)."""
    logits = chosen - rejected
    if margin is not None:
        logits = logits - margin
    return -F.logsigmoid(logits).mean()


def torch_bt_with_grads(chosen, rejected, margin=None):
    """The oracle's loss and its gradients with respect to chosen, rejected and (tensor) margin."""
    chosen = chosen.clone().requires_grad_(True)
    rejected = rejected.clone().requires_grad_(True)
    if isinstance(margin, torch.Tensor):
        margin = margin.clone().requires_grad_(True)
    loss = torch_bt_loss(chosen, rejected, margin)
    loss.backward()
    grads = {"chosen": chosen.grad, "rejected": rejected.grad,
             "margin": margin.grad if isinstance(margin, torch.Tensor) else None}
    return loss.detach(), grads


def random_rewards(seed, batch, dtype=torch.float32, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    chosen = (torch.randn(batch, generator=g, dtype=torch.float64) * scale).to(dtype)
    rejected = (torch.randn(batch, generator=g, dtype=torch.float64) * scale).to(dtype)
    return chosen, rejected


def scalar_loss(got, what):
    """The probe's loss, which must be a 0-dim tensor."""
    return expect_tensor(got["loss"], f"the loss is a 0-dim tensor: one number for the whole batch ({what})", shape=())


def fmt(t):
    """A short rendering of a tensor (or None) for messages."""
    if t is None:
        return "None"
    return "[" + ", ".join(f"{v:.4g}" for v in t.reshape(-1).tolist()) + "]"


def expect_differentiable(got, what):
    expect(got.get("differentiable", False),
           "the loss must be a 0-dim tensor that autograd can differentiate back to the rewards "
           "(stay in torch: no .item(), no numpy, no torch.no_grad())",
           f"{what}: the loss that came back has no gradient path to the inputs")


def expect_grads(got, want, rule, what, **tol):
    expect_differentiable(got, what)
    for name, g in want.items():
        if g is None:
            continue
        if got["grads"][name] is None:
            raise Fail(rule, f"{what}: no gradient reached `{name}` -- it must take part in the loss")
        expect_close(got["grads"][name], g, rule, what=f"{what}: gradient w.r.t. {name}", **tol)


# ----------------------------------------------------------------------------------------------
# preference_probability
# ----------------------------------------------------------------------------------------------

@check("preference_probability agrees with torch.sigmoid(a - b) on random rewards, any shape and dtype", points=2)
def probability_agrees(run):
    for seed, shape, dtype in [(0, (7,), torch.float32), (1, (3, 5), torch.float32), (2, (16,), torch.float64)]:
        g = torch.Generator().manual_seed(seed)
        a = (torch.randn(shape, generator=g, dtype=torch.float64) * 4).to(dtype)
        b = (torch.randn(shape, generator=g, dtype=torch.float64) * 4).to(dtype)
        got = run("preference_probability", a, b)
        expect_close(got, torch.sigmoid(a - b), "P(a > b) = sigmoid(r_a - r_b), elementwise, in the inputs' dtype",
                     check_dtype=True, rtol=1e-5, atol=1e-6, what=f"probability (shape {list(shape)}, {dtype})")


@check("preference_probability broadcasts: rewards of shape [3, 1] against [1, 4] give a [3, 4] table")
def probability_broadcasts(run):
    a = torch.tensor([[-1.0], [0.0], [2.0]])
    b = torch.tensor([[0.5, -0.5, 2.0, 0.0]])
    got = run("preference_probability", a, b)
    expect_close(got, torch.sigmoid(a - b), "shapes that broadcast give the broadcast shape, one probability per "
                 "(a, b) combination", what="probability table")


@check("p(a, b) + p(b, a) = 1, and the probability depends only on the reward difference")
def probability_antisymmetric(run):
    g = torch.Generator().manual_seed(3)
    a, b = torch.randn(10, generator=g) * 5, torch.randn(10, generator=g) * 5
    p_ab = run("preference_probability", a, b)
    p_ba = run("preference_probability", b, a)
    expect_tensor(p_ab, "preference_probability returns a tensor", shape=(10,))
    expect_tensor(p_ba, "preference_probability returns a tensor", shape=(10,))
    expect_close(p_ab + p_ba, torch.ones(10), "exactly one of the two responses is preferred: p(a, b) + p(b, a) = 1",
                 what="p(a, b) + p(b, a)")
    big = torch.tensor([1000.0, -5000.0, 1e4])
    got = run("preference_probability", big + 1.0, big)
    expect_close(got, torch.full((3,), 1 / (1 + math.exp(-1.0))),
                 "only the difference of the rewards matters: rewards 1000 and 999 give sigmoid(1) "
                 "(exp of a large reward overflows -- never exponentiate a reward on its own)",
                 what="probability for large rewards one apart")


@check("preference_probability saturates cleanly at 0 and 1 for reward gaps of +-1e4")
def probability_extreme(run):
    a = torch.tensor([1e4, -1e4, 0.0])
    b = torch.tensor([0.0, 0.0, 1e4])
    got = run("preference_probability", a, b)
    expect_close(got, torch.tensor([1.0, 0.0, 0.0]), "sigmoid of a huge gap is 1 (or 0 for a huge negative gap), "
                 "never NaN", what="probability at gaps of +-1e4")


# ----------------------------------------------------------------------------------------------
# bradley_terry_loss
# ----------------------------------------------------------------------------------------------

@check("bradley_terry_loss agrees with -logsigmoid(chosen - rejected).mean() on random rewards", points=2)
def loss_agrees(run):
    for seed, batch, dtype in [(10, 1, torch.float32), (11, 5, torch.float32), (12, 64, torch.float32),
                               (13, 9, torch.float64)]:
        chosen, rejected = random_rewards(seed, batch, dtype)
        what = f"loss (batch {batch}, {dtype}, seed {seed})"
        loss = scalar_loss(run(V.bt_loss, chosen, rejected), what)
        expect_close(loss, float(torch_bt_loss(chosen, rejected)),
                     "loss = mean over pairs of -log sigmoid(chosen - rejected)", rtol=1e-5, atol=1e-6, what=what)
        expect(loss.dtype == dtype, "the loss keeps the rewards' dtype",
               f"{what}: expected dtype {dtype}, your code produced {loss.dtype}")


@check("the chosen response should win: chosen ahead gives a loss below log 2, behind gives more; "
       "the gradient raises chosen and lowers rejected")
def chosen_should_win(run):
    chosen = torch.tensor([3.0, 2.0, 4.0])
    rejected = torch.tensor([0.0, -1.0, 1.0])
    ahead = run(V.bt_loss, chosen, rejected, grad=True)
    behind = run(V.bt_loss, rejected, chosen)
    l_ahead, l_behind = scalar_loss(ahead, "chosen ahead"), scalar_loss(behind, "chosen behind")
    expect(float(l_ahead) < math.log(2) < float(l_behind),
           "the pair is (chosen, rejected): the loss is small (below log 2) when the chosen reward is higher and "
           "large when it is lower",
           f"every chosen reward 3 ahead: loss {float(l_ahead):.6g}; every chosen reward 3 behind: loss "
           f"{float(l_behind):.6g}; log 2 = {math.log(2):.6g}")
    grads = ahead.get("grads", {})
    g_c, g_r = grads.get("chosen"), grads.get("rejected")
    expect_differentiable(ahead, "chosen ahead")
    expect(g_c is not None and g_r is not None, "the loss must be differentiable with respect to both rewards",
           "no gradient reached the chosen or the rejected rewards")
    expect(bool((g_c < 0).all()) and bool((g_r > 0).all()),
           "gradient descent must raise the chosen reward and lower the rejected one: d loss / d chosen < 0 and "
           "d loss / d rejected > 0", f"d loss / d chosen = {fmt(g_c)}, d loss / d rejected = {fmt(g_r)}")


@check("the loss is the mean over pairs, not the sum: repeating the batch does not change it")
def mean_not_sum(run):
    chosen, rejected = random_rewards(20, 6)
    once = scalar_loss(run(V.bt_loss, chosen, rejected), "6 pairs")
    expect_close(once, torch_bt_loss(chosen, rejected), "loss = mean over pairs of -log sigmoid(chosen - rejected)",
                 what="loss of 6 random pairs")
    twice = scalar_loss(run(V.bt_loss, chosen.repeat(2), rejected.repeat(2)), "the same 6 pairs twice")
    expect_close(twice, float(once), "average the per-pair losses over the batch (TRL uses .mean()): the same 6 pairs "
                 "twice have the same mean loss as once", what="loss of the 6 pairs repeated twice, against your loss "
                 "of the 6 pairs once")


@check("margin as a float: subtracted from every gap; margin=None and margin=0.0 mean no margin")
def margin_float(run):
    chosen, rejected = random_rewards(30, 8)
    for margin in (0.0, 0.5, 2.0, -1.0):
        got = scalar_loss(run(V.bt_loss, chosen, rejected, margin), f"margin={margin}")
        expect_close(got, float(torch_bt_loss(chosen, rejected, margin)),
                     "loss = mean of -log sigmoid(chosen - rejected - margin): the chosen reward must win by "
                     "the margin",
                     rtol=1e-5, atol=1e-6, what=f"loss with margin={margin}")
    got = run("bradley_terry_loss", chosen, rejected, None)
    expect_close(got, float(torch_bt_loss(chosen, rejected)), "margin=None means no margin (the same as 0)",
                 what="loss with margin=None passed explicitly")


@check("margin as a tensor: one margin per pair, a 0-dim tensor, or shape [1], with gradients", points=2)
def margin_tensor(run):
    chosen, rejected = random_rewards(40, 6, torch.float64)
    g = torch.Generator().manual_seed(41)
    margins = {
        "one margin per pair, shape [6]": torch.rand(6, generator=g, dtype=torch.float64) * 2,
        "a 0-dim tensor": torch.tensor(0.75, dtype=torch.float64),
        "shape [1]": torch.tensor([1.25], dtype=torch.float64),
    }
    for label, margin in margins.items():
        got = run(V.bt_loss, chosen, rejected, margin, grad=True)
        want_loss, want_grads = torch_bt_with_grads(chosen, rejected, margin)
        rule = "a tensor margin broadcasts against the rewards: loss = mean of -log sigmoid(chosen - rejected - margin)"
        loss = scalar_loss(got, f"margin {label}")
        expect_close(loss, float(want_loss), rule, rtol=1e-8, atol=1e-10, what=f"loss with margin {label}")
        expect_grads(got, want_grads, "the gradient follows -log sigmoid(chosen - rejected - margin), margin included",
                     f"margin {label}", rtol=1e-7, atol=1e-10)


@check("gradients with respect to both rewards agree with torch's (float64, random batches)", points=2)
def gradients_agree(run):
    for seed, batch in [(50, 1), (51, 7), (52, 32)]:
        chosen, rejected = random_rewards(seed, batch, torch.float64)
        got = run(V.bt_loss, chosen, rejected, grad=True)
        _, want_grads = torch_bt_with_grads(chosen, rejected)
        expect_grads(got, want_grads, "d loss / d chosen_i = -sigmoid(rejected_i - chosen_i) / B, and the opposite "
                     "for rejected_i", f"batch {batch}, seed {seed}", rtol=1e-7, atol=1e-12)


@check("stability: reward gaps of +-1e4 give the exact finite loss and finite gradients (float32)", points=2)
def extreme_gaps(run):
    chosen = torch.tensor([0.0, 1e4, -5e3, 20.0])
    rejected = torch.tensor([1e4, 0.0, 5e3, -130.0])
    got = run(V.bt_loss, chosen, rejected, grad=True)
    want_loss, want_grads = torch_bt_with_grads(chosen, rejected)
    loss = scalar_loss(got, "gaps of +-1e4")
    expect(bool(torch.isfinite(loss)), "the loss must stay finite for reward gaps of +-1e4: log(sigmoid(x)) "
           "underflows to log(0) = -inf once sigmoid(x) rounds to 0",
           f"gaps [-1e4, 1e4, -1e4, 150]: your loss is {loss.item()}, expected {want_loss.item():.6g}")
    expect_close(loss, float(want_loss), "-log sigmoid(x) is about -x for very negative x and about 0 for very "
                 "positive x: the mean over these four pairs is (1e4 + 0 + 1e4 + 0) / 4", what="loss at gaps "
                 "[-1e4, 1e4, -1e4, 150]")
    expect_differentiable(got, "gaps of +-1e4")
    expect(all(got["grads"][k] is not None and bool(torch.isfinite(got["grads"][k]).all())
               for k in ("chosen", "rejected")),
        "gradients must stay finite for reward gaps of +-1e4 (a NaN gradient poisons every weight of the reward model)",
        f"gradients: chosen {fmt(got.get('grads', {}).get('chosen'))}, rejected "
        f"{fmt(got.get('grads', {}).get('rejected'))}")
    expect_grads(got, want_grads, "the gradient of -log sigmoid(x) tends to -1 for very negative x and to 0 for very "
                 "positive x (divided by B for the mean)", "gaps [-1e4, 1e4, -1e4, 150]")
