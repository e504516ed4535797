"""Hidden graders of llm/ppo_objective.

The oracles are plain Python loops written here, independent of the reference: one token at a
time for the clipped loss (and its gradient, derived by hand), one sequence at a time for the
rewards and GAE.  tests/test_twins_llm_ppo_objective.py shows that they and the reference agree
with the formulas of TRL's PPOTrainer.  Checks: hand-computed cases, random agreement, each of
the four clipping regimes, gradients, masks (None, padding garbage, inf/NaN padding), shapes,
float64, the stability of huge log-ratios, and inputs left untouched.
"""
import math

import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_tensor, visible_module

V = visible_module("llm/ppo_objective")
gae_pair = V.gae_pair


# --------------------------------------------------------------------------------------------
# Oracles: straightforward loops
# --------------------------------------------------------------------------------------------

def oracle_clip_loss(logprobs, old_logprobs, advantages, clip_eps=0.2, mask=None):
    """(loss, d loss / d logprobs) of the PPO clipped surrogate, one token at a time, in float64."""
    lp, old, adv = (x.double().reshape(-1).tolist() for x in (logprobs, old_logprobs, advantages))
    keep = [True] * len(lp) if mask is None else mask.reshape(-1).tolist()
    n = sum(keep)
    total, grad = 0.0, [0.0] * len(lp)
    for i in range(len(lp)):
        if not keep[i]:
            continue                                   # padding is never read
        ratio = math.exp(lp[i] - old[i])
        clipped = min(max(ratio, 1 - clip_eps), 1 + clip_eps)
        unclipped_term, clipped_term = ratio * adv[i], clipped * adv[i]
        total += min(unclipped_term, clipped_term)
        # d/dlogprob of ratio * A is ratio * A; the clipped term is constant where it is kept
        grad[i] = -ratio * adv[i] / n if unclipped_term <= clipped_term else 0.0
    return -total / n, torch.tensor(grad, dtype=torch.float64).reshape(logprobs.shape)


def oracle_kl_rewards(rewards, logprobs, ref_logprobs, beta, mask):
    B, T = logprobs.shape
    out = torch.zeros(B, T, dtype=torch.float64)
    for i in range(B):
        length = int(mask[i].sum())
        for t in range(length):
            out[i, t] = -beta * (float(logprobs[i, t]) - float(ref_logprobs[i, t]))
        out[i, length - 1] += float(rewards[i])
    return out


def oracle_gae(rewards, values, gamma, lam, mask):
    B, T = rewards.shape
    adv = torch.zeros(B, T, dtype=torch.float64)
    ret = torch.zeros(B, T, dtype=torch.float64)
    for i in range(B):
        length = int(mask[i].sum())
        a = 0.0
        for t in reversed(range(length)):
            next_value = float(values[i, t + 1]) if t + 1 < length else 0.0   # V after the end is 0
            delta = float(rewards[i, t]) + gamma * next_value - float(values[i, t])
            a = delta + gamma * lam * a
            adv[i, t] = a
            ret[i, t] = a + float(values[i, t])
    return adv, ret


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------

def prefix_mask(lengths, T):
    return torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]     # (B, T)


def random_lengths(g, B, T):
    """B lengths in [1, T]; the first row has length 1 and the second the full length T."""
    lengths = torch.randint(1, T + 1, (B,), generator=g).tolist()
    lengths[0] = 1
    if B > 1:
        lengths[1] = T
    return lengths


def fill_padding(x, mask, value):
    """``x`` with ``value`` (a number or a tensor of x's shape) at the padded positions."""
    return torch.where(mask, x, torch.as_tensor(value, dtype=x.dtype).expand_as(x))


def ppo_inputs(seed, shape, dtype=torch.float32, spread=0.4):
    g = torch.Generator().manual_seed(seed)
    logprobs = -3 * torch.rand(shape, generator=g, dtype=torch.float64)
    old = logprobs + spread * torch.randn(shape, generator=g, dtype=torch.float64)
    adv = torch.randn(shape, generator=g, dtype=torch.float64)
    return logprobs.to(dtype), old.to(dtype), adv.to(dtype)


def kl_inputs(seed, B=5, T=7, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    mask = prefix_mask(random_lengths(g, B, T), T)
    logprobs = -3 * torch.rand(B, T, generator=g, dtype=torch.float64)
    ref = -3 * torch.rand(B, T, generator=g, dtype=torch.float64)
    rewards = 2 * torch.randn(B, generator=g, dtype=torch.float64)
    return rewards.to(dtype), logprobs.to(dtype), ref.to(dtype), mask


def gae_inputs(seed, B=5, T=8, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    mask = prefix_mask(random_lengths(g, B, T), T)
    rewards = torch.randn(B, T, generator=g, dtype=torch.float64)
    values = torch.randn(B, T, generator=g, dtype=torch.float64)
    return rewards.to(dtype), values.to(dtype), mask


# --------------------------------------------------------------------------------------------
# ppo_clip_loss
# --------------------------------------------------------------------------------------------

LOSS_RULE = ("loss = -mean over the True positions of min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A), "
             "ratio = exp(logprobs - old_logprobs)")


@check("ppo_clip_loss: hand-computed cases (ratio 1 gives -mean(A); eps = 0.1 and 0.3)")
def clip_loss_fixed(run):
    adv = torch.tensor([0.5, -1.5, 2.0])
    got = run(V.clip_loss, torch.full((3,), -0.7), torch.full((3,), -0.7), adv, 0.2)
    expect_close(got["loss"], -1.0 / 3, "with logprobs == old_logprobs the ratio is 1 and the loss is -mean(A)",
                 what="loss")
    # ratios 1.25 and 0.6, A = +1 and -1: eps 0.1 -> min(1.25, 1.1) + min(-0.6, -0.9) = 1.1 - 0.9 = 0.2
    logprobs = torch.log(torch.tensor([1.25, 0.6]))
    got = run(V.clip_loss, logprobs, torch.zeros(2), torch.tensor([1.0, -1.0]), 0.1)
    expect_close(got["loss"], -0.1, LOSS_RULE + " (eps = 0.1)", what="loss")
    # eps 0.3: min(1.25, 1.25) + min(-0.6, -0.7) = 1.25 - 0.7 = 0.55
    got = run(V.clip_loss, logprobs, torch.zeros(2), torch.tensor([1.0, -1.0]), 0.3)
    expect_close(got["loss"], -0.275, LOSS_RULE + " (eps = 0.3)", what="loss")


@check("ppo_clip_loss agrees with a token-by-token loop on random padded batches", points=2)
def clip_loss_random(run):
    for seed, eps in zip(range(6), (0.1, 0.2, 0.3, 0.2, 0.15, 0.25)):
        logprobs, old, adv = ppo_inputs(seed, (4, 6))
        g = torch.Generator().manual_seed(100 + seed)
        mask = prefix_mask(random_lengths(g, 4, 6), 6)
        want, _ = oracle_clip_loss(logprobs, old, adv, eps, mask)
        got = run(V.clip_loss, logprobs, old, adv, eps, mask)
        expect_close(got["loss"], want, LOSS_RULE, what=f"loss (seed {seed}, eps {eps})")


QUADRANTS = [
    # (A sign, ratios, rule)
    (+1.0, [1.3, 1.5, 2.5], "with A > 0 and ratio above 1 + eps, the clipped term (1 + eps) * A is the smaller and is "
                            "kept: pushing the ratio further gains nothing"),
    (+1.0, [0.1, 0.5, 0.7], "with A > 0 and ratio below 1 - eps, the unclipped ratio * A is the smaller "
                            "(pessimistic) term and is kept: keep the min, do not just clip the ratio"),
    (-1.0, [0.1, 0.5, 0.7], "with A < 0 and ratio below 1 - eps, the clipped term (1 - eps) * A is the smaller and "
                            "is kept: lowering the ratio further gains nothing"),
    (-1.0, [1.3, 1.5, 2.5], "with A < 0 and ratio above 1 + eps, the unclipped ratio * A is the smaller "
                            "(pessimistic) term and is kept: keep the min, do not just clip the ratio"),
]


@check("ppo_clip_loss clips on both sides and keeps the pessimistic min (A > 0 and A < 0)", points=2)
def clip_loss_quadrants(run):
    for sign, ratios, rule in QUADRANTS:
        old = torch.tensor([-1.0, -2.0, -0.5])
        logprobs = old + torch.log(torch.tensor(ratios))
        adv = sign * torch.tensor([1.0, 2.0, 0.5])
        want, _ = oracle_clip_loss(logprobs, old, adv, 0.2)
        got = run(V.clip_loss, logprobs, old, adv, 0.2)
        expect_close(got["loss"], want, rule, what=f"loss (ratios {ratios}, A {adv.tolist()}, eps 0.2)")


@check("the gradient is -ratio * A / N where the unclipped term is kept, 0 where clipping binds or masked", points=2)
def clip_loss_gradient(run):
    for seed in (7, 8):
        logprobs, old, adv = ppo_inputs(seed, (3, 8), torch.float64, spread=0.5)
        g = torch.Generator().manual_seed(200 + seed)
        mask = prefix_mask(random_lengths(g, 3, 8), 8)
        adv = fill_padding(adv, mask, 1e6)                   # finite garbage: its gradient must be 0
        _, want = oracle_clip_loss(logprobs, old, adv, 0.2, mask)
        got = run(V.clip_loss, logprobs, old, adv, 0.2, mask, grad=True)
        expect(got["differentiable"] is True, "ppo_clip_loss must be differentiable with respect to logprobs "
               "(build it from torch operations, no .item() or .detach() on the ratio)",
               f"the returned loss does not require grad: {got['loss']!r}")
        expect_close(got["grad"], want, "d loss / d logprobs = -ratio * A / N at kept positions where the "
                     "unclipped term wins; 0 where the clipped term wins (clipping binds) and at masked positions",
                     rtol=1e-6, atol=1e-9, what=f"gradient of the loss w.r.t. logprobs (seed {seed})")


@check("mask=None (or no mask argument) averages over all positions; clip_eps defaults to 0.2")
def clip_loss_defaults(run):
    # compared with your own loss for an all-True mask and an explicit clip_eps = 0.2, so that this
    # check judges the defaults only (the values themselves are judged by the other checks)
    logprobs, old, adv = ppo_inputs(11, (3, 5))
    all_true = run(V.clip_loss, logprobs, old, adv, 0.2, torch.ones(3, 5, dtype=torch.bool))["loss"]
    expect_clip_loss(all_true, logprobs, old, adv, 0.2, None, "loss with clip_eps=0.2 and an all-True mask")
    got = run(V.clip_loss, logprobs, old, adv, 0.2, None)
    expect_close(got["loss"], all_true, "mask=None means every position counts, as an all-True mask does",
                 what="loss with mask=None vs with an all-True mask")
    got = run(V.clip_loss, logprobs, old, adv, None, None, pass_mask=False)
    expect_close(got["loss"], all_true, "called as ppo_clip_loss(logprobs, old_logprobs, advantages): clip_eps = 0.2 "
                 "and every position counts", what="loss with the defaults vs with clip_eps=0.2 and an all-True mask")
    one = (torch.log(torch.tensor([1.25])), torch.zeros(1), torch.ones(1))    # ratio 1.25: clipped only if eps < 0.25
    explicit = run(V.clip_loss, *one, 0.2, None)["loss"]
    got = run(V.clip_loss, *one, None, None, pass_mask=False)
    expect_close(got["loss"], explicit, "the default clip_eps is 0.2 (ratio 1.25 with A = 1 is clipped to 1.2)",
                 what="loss with the default clip_eps vs with clip_eps=0.2")


def padding_rule(fn):
    return (f"{fn}: values at positions where mask is False must not change the result (they are never read)")


@check("ppo_clip_loss ignores padded positions even when they hold huge values")
def clip_loss_padding_garbage(run):
    for seed in (12, 13):
        logprobs, old, adv = ppo_inputs(seed, (4, 6))
        g = torch.Generator().manual_seed(300 + seed)
        mask = prefix_mask(random_lengths(g, 4, 6), 6)
        signs = torch.randint(0, 2, (4, 6), generator=g) * 2 - 1
        clean = run(V.clip_loss, logprobs, old, adv, 0.2, mask)["loss"]
        expect_clip_loss(clean, logprobs, old, adv, 0.2, mask, f"loss with ordinary padding (seed {seed})")
        got = run(V.clip_loss, fill_padding(logprobs, mask, 20.0 * signs), fill_padding(old, mask, -20.0 * signs),
                  fill_padding(adv, mask, 1e6 * signs), 0.2, mask)
        expect_close(got["loss"], clean, padding_rule("ppo_clip_loss"),
                     what=f"loss with padding = +-1e6 advantages, +-40 log-ratios vs with ordinary padding (seed {seed})")


@check("ppo_clip_loss works on any shape: 1-D and 3-D inputs with a mask of the same shape")
def clip_loss_any_shape(run):
    logprobs, old, adv = ppo_inputs(14, (7,))
    mask = torch.tensor([True, False, True, True, False, True, True])
    want, _ = oracle_clip_loss(logprobs, old, adv, 0.2, mask)
    got = run(V.clip_loss, logprobs, old, adv, 0.2, mask)
    expect_close(got["loss"], want, LOSS_RULE + " (1-D input)", what="loss (shape [7])")
    logprobs, old, adv = ppo_inputs(15, (2, 3, 4))
    mask = torch.rand(2, 3, 4, generator=torch.Generator().manual_seed(15)) < 0.6
    want, _ = oracle_clip_loss(logprobs, old, adv, 0.2, mask)
    got = run(V.clip_loss, logprobs, old, adv, 0.2, mask)
    expect_close(got["loss"], want, LOSS_RULE + " (3-D input, any mask pattern)", what="loss (shape [2, 3, 4])")
    expect_tensor(got["loss"], "the loss is a 0-dim tensor", shape=())


@check("ppo_clip_loss stays finite for log-ratios of +-50 (log-probs around -120; never exp(a) / exp(b))")
def clip_loss_stable(run):
    old = torch.tensor([[-120.0, -125.0, -118.0, -130.0], [-121.0, -122.0, -119.0, -124.0]])
    shift = torch.tensor([[50.0, 50.0, -50.0, -50.0], [50.0, -50.0, 50.0, -50.0]])
    adv = torch.tensor([[1.0, -1.0, 1.0, -1.0], [-0.5, 0.5, 2.0, -2.0]])
    logprobs = old + shift
    want, _ = oracle_clip_loss(logprobs, old, adv, 0.2)
    got = run(V.clip_loss, logprobs, old, adv, 0.2)
    loss = expect_tensor(got["loss"], "ppo_clip_loss returns a tensor")
    expect(bool(torch.isfinite(loss).all()), "compute the ratio as exp(logprobs - old_logprobs): exp of each "
           "log-prob underflows to 0 at -120 and the ratio becomes 0/0",
           f"expected a finite loss near {want:.6g}, your code produced {loss.tolist()}")
    expect_close(loss, want, LOSS_RULE + " (log-ratios of +-50)", what="loss")


# --------------------------------------------------------------------------------------------
# kl_penalized_rewards
# --------------------------------------------------------------------------------------------

KL_RULE = ("reward = -beta * (logprobs - ref_logprobs) on valid tokens, plus rewards[i] on the last valid token "
           "of row i, and 0 on padding")


@check("kl_penalized_rewards: hand-computed case with lengths 1, 2 and 3")
def kl_fixed(run):
    logprobs = torch.tensor([[-0.2, -9.0, -9.0], [-1.0, -0.4, -9.0], [-0.3, -0.6, -0.9]])
    ref = torch.tensor([[-0.7, -1.0, -1.0], [-0.5, -0.4, -1.0], [-0.3, -1.6, -0.4]])
    mask = prefix_mask([1, 2, 3], 3)
    # beta 0.5: row 0: -0.5 * 0.5 + 3 = 2.75;  row 1: [0.25, 0 - 2];  row 2: [0, -0.5, 0.25 + 1]
    want = torch.tensor([[2.75, 0.0, 0.0], [0.25, -2.0, 0.0], [0.0, -0.5, 1.25]])
    got = run(V.kl_rewards, torch.tensor([3.0, -2.0, 1.0]), logprobs, ref, 0.5, mask)
    expect_close(got["out"], want, KL_RULE, what="rewards")


@check("kl_penalized_rewards agrees with a per-sequence loop on random padded batches", points=2)
def kl_random(run):
    for seed, beta in zip(range(20, 25), (0.1, 0.05, 1.0, 0.2, 0.0)):
        rewards, logprobs, ref, mask = kl_inputs(seed)
        g = torch.Generator().manual_seed(seed)
        logprobs_p = fill_padding(logprobs, mask, torch.randn(logprobs.shape, generator=g))
        want = oracle_kl_rewards(rewards, logprobs, ref, beta, mask)
        got = run(V.kl_rewards, rewards, logprobs_p, ref, beta, mask)
        expect_close(got["out"], want, KL_RULE, what=f"rewards (seed {seed}, beta {beta})")


@check("the sequence reward lands on each row's last valid token (lengths 1, middle and full), not on T - 1")
def kl_reward_position(run):
    mask = prefix_mask([1, 3, 5, 2], 5)
    logprobs = -torch.rand(4, 5, generator=torch.Generator().manual_seed(30))
    rewards = torch.tensor([1.0, 2.0, 3.0, 4.0])
    want = torch.zeros(4, 5)
    want[0, 0], want[1, 2], want[2, 4], want[3, 1] = 1.0, 2.0, 3.0, 4.0
    got = run(V.kl_rewards, rewards, logprobs, logprobs.clone(), 0.3, mask)   # zero KL: only the scores remain
    expect_close(got["out"], want, "add rewards[i] once, on the last valid token of row i (position length - 1), "
                 "not on the final position T - 1 and not on every token", what="rewards (zero KL)")


@check("the KL penalty has the right sign: a policy more likely than the reference is penalised")
def kl_sign(run):
    ref = -torch.rand(2, 4, generator=torch.Generator().manual_seed(31)) - 0.5
    mask = torch.ones(2, 4, dtype=torch.bool)
    got = run(V.kl_rewards, torch.zeros(2), ref + 0.5, ref, 0.2, mask)
    expect_close(got["out"], torch.full((2, 4), -0.1), "the penalty is -beta * (logprobs - ref_logprobs): "
                 "logprobs above the reference's give a negative reward", what="rewards (logprobs = ref + 0.5, beta 0.2)")


@check("kl_penalized_rewards is exactly 0 on padding, whatever the padded log-probs hold")
def kl_padding(run):
    rewards, logprobs, ref, mask = kl_inputs(32)
    g = torch.Generator().manual_seed(32)
    garbage = 1e6 * (torch.randint(0, 2, logprobs.shape, generator=g) * 2 - 1)
    clean = run(V.kl_rewards, rewards, logprobs, ref, 0.1, mask)["out"]
    expect_close(clean, oracle_kl_rewards(rewards, logprobs, ref, 0.1, mask), KL_RULE,
                 what="rewards with ordinary padding")
    got = run(V.kl_rewards, rewards, fill_padding(logprobs, mask, garbage), fill_padding(ref, mask, -garbage), 0.1, mask)
    out = expect_tensor(got["out"], "kl_penalized_rewards returns a (B, T) tensor", shape=logprobs.shape)
    expect_close(torch.where(mask, 0.0, out.double()), torch.zeros(out.shape, dtype=torch.float64),
                 "positions where mask is False get reward 0: no KL penalty and no score on padding",
                 what="rewards at padded positions (padding holds +-1e6)")
    expect_close(out, clean, padding_rule("kl_penalized_rewards"),
                 what="rewards with padding = +-1e6 vs with ordinary padding")


# --------------------------------------------------------------------------------------------
# gae_advantages
# --------------------------------------------------------------------------------------------

GAE_RULE = ("backward over each row's valid positions: delta_t = r_t + gamma V_{t+1} - V_t, "
            "A_t = delta_t + gamma lam A_{t+1}, V after the last valid position = 0; returns = A + V")


@check("gae_advantages: hand-computed case with padding (gamma 0.9, lam 0.8)")
def gae_fixed(run):
    rewards = torch.tensor([[0.0, 0.0, 1.0], [1.0, 1.0, 3.0]])
    values = torch.tensor([[0.0, 0.0, 0.0], [2.0, 1.0, 50.0]])
    mask = prefix_mask([3, 2], 3)
    # row 0: delta = [0, 0, 1]; A = [0.72^2, 0.72, 1] = [0.5184, 0.72, 1]
    # row 1: delta_1 = 1 + 0.9 * 0 - 1 = 0 (V after the end is 0, not 50); delta_0 = 1 + 0.9 - 2 = -0.1
    got = run(V.gae, rewards, values, 0.9, 0.8, mask)
    adv, ret = gae_pair(got, GAE_RULE)
    expect_close(adv, torch.tensor([[0.5184, 0.72, 1.0], [-0.1, 0.0, 0.0]]), GAE_RULE, what="advantages")
    expect_close(ret, torch.tensor([[0.5184, 0.72, 1.0], [1.9, 1.0, 0.0]]), GAE_RULE, what="returns")


@check("gae_advantages agrees with a per-sequence backward loop on random padded batches", points=2)
def gae_random(run):
    params = [(0.99, 0.95), (0.9, 0.5), (0.5, 0.9), (1.0, 0.7), (0.8, 1.0)]
    for seed, (gamma, lam) in zip(range(40, 45), params):
        rewards, values, mask = gae_inputs(seed)
        want_adv, want_ret = oracle_gae(rewards, values, gamma, lam, mask)
        got = run(V.gae, rewards, values, gamma, lam, mask)
        adv, ret = gae_pair(got, GAE_RULE)
        expect_close(adv, want_adv, GAE_RULE, what=f"advantages (seed {seed}, gamma {gamma}, lam {lam})")
        expect_close(ret, want_ret, GAE_RULE, what=f"returns (seed {seed}, gamma {gamma}, lam {lam})")


@check("with gamma = lam = 1 the returns are the rewards-to-go (the values cancel)")
def gae_reward_to_go(run):
    rewards, values, mask = gae_inputs(46)
    rtg = torch.where(mask, rewards, 0.0).flip(-1).cumsum(-1).flip(-1)     # sum of the remaining rewards
    want = torch.where(mask, rtg, 0.0)
    got = run(V.gae, rewards, values, 1.0, 1.0, mask)
    adv, ret = gae_pair(got, GAE_RULE)
    expect_close(ret, want, "with gamma = lam = 1, A_t + V_t = r_t + r_{t+1} + ... up to the last valid token",
                 what="returns")
    expect_close(adv, torch.where(mask, want - values, 0.0), "with gamma = lam = 1, A_t = reward-to-go - V_t", what="advantages")


@check("with lam = 0 the advantage is the one-step TD error r_t + gamma V_{t+1} - V_t")
def gae_td0(run):
    rewards, values, mask = gae_inputs(47)
    v = torch.where(mask, values, 0.0)
    next_v = torch.cat([v[:, 1:], torch.zeros(v.shape[0], 1)], dim=1)
    want = torch.where(mask, rewards + 0.9 * next_v - values, 0.0)
    got = run(V.gae, rewards, values, 0.9, 0.0, mask)
    adv, _ = gae_pair(got, GAE_RULE)
    expect_close(adv, want, "lam = 0 gives A_t = delta_t = r_t + gamma V_{t+1} - V_t, with V after the last valid "
                 "position = 0", what="advantages (gamma 0.9, lam 0)")


@check("GAE bootstraps from V = 0 after the last valid token, never from a padded value")
def gae_padding_garbage(run):
    rewards, values, mask = gae_inputs(48)
    g = torch.Generator().manual_seed(48)
    garbage = 1e6 * (torch.randint(0, 2, values.shape, generator=g) * 2 - 1)
    clean_adv, clean_ret = gae_pair(run(V.gae, rewards, values, 0.95, 0.9, mask), GAE_RULE)
    expect_close([clean_adv, clean_ret], list(oracle_gae(rewards, values, 0.95, 0.9, mask)), GAE_RULE,
                 what="(advantages, returns) with ordinary padding")
    got = run(V.gae, fill_padding(rewards, mask, garbage), fill_padding(values, mask, -garbage), 0.95, 0.9, mask)
    adv, ret = gae_pair(got, GAE_RULE)
    rule = ("the value after a sequence's last valid position is 0 (the episode ended), not the padded value next "
            "to it: padded values and rewards must never be read")
    expect_close(adv, clean_adv, rule, what="advantages with padding = +-1e6 vs with ordinary padding")
    expect_close(ret, clean_ret, rule, what="returns with padding = +-1e6 vs with ordinary padding")


@check("gamma and lam play different roles: gamma discounts V_{t+1}, gamma * lam discounts A_{t+1}")
def gae_gamma_lam_roles(run):
    rewards = torch.tensor([[1.0, -1.0, 2.0, 0.5]])
    values = torch.tensor([[0.3, 0.8, -0.4, 1.0]])
    mask = torch.ones(1, 4, dtype=torch.bool)
    for gamma, lam in ((1.0, 0.5), (0.5, 1.0), (0.6, 0.3)):
        want_adv, _ = oracle_gae(rewards, values, gamma, lam, mask)
        got = run(V.gae, rewards, values, gamma, lam, mask)
        adv, _ = gae_pair(got, GAE_RULE)
        expect_close(adv, want_adv, "delta_t = r_t + gamma V_{t+1} - V_t (gamma alone), then "
                     "A_t = delta_t + gamma * lam * A_{t+1}", what=f"advantages (gamma {gamma}, lam {lam})")


@check("returns = advantages + values at valid positions (not the discounted rewards); both 0 on padding")
def gae_returns(run):
    rewards, values, mask = gae_inputs(49)
    got = run(V.gae, rewards, values, 0.9, 0.9, mask)
    adv, ret = gae_pair(got, GAE_RULE)
    adv = expect_tensor(adv, "advantages is a tensor", shape=rewards.shape)
    ret = expect_tensor(ret, "returns is a tensor", shape=rewards.shape)
    expect_close(ret - adv, torch.where(mask, values, 0.0), "returns - advantages = values at valid positions (the value head's "
                 "target is A + V, the lam-return), and 0 on padding", what="returns - advantages")
    expect_close(torch.where(mask, 0.0, adv), torch.zeros_like(adv), "advantages are 0 at padded positions",
                 what="advantages")
    expect_close(torch.where(mask, 0.0, ret), torch.zeros_like(ret), "returns are 0 at padded positions",
                 what="returns")


# --------------------------------------------------------------------------------------------
# All three
# --------------------------------------------------------------------------------------------

@check("padding may hold inf or NaN: all three functions select with the mask instead of multiplying by it")
def nonfinite_padding(run):
    why = " (0 * inf and 0 * NaN are NaN, so x * mask lets them through; select with x[mask] or torch.where)"
    logprobs, old, adv = ppo_inputs(50, (3, 5))
    mask = prefix_mask([2, 5, 3], 5)
    clean = run(V.clip_loss, logprobs, old, adv, 0.2, mask)["loss"]
    expect_clip_loss(clean, logprobs, old, adv, 0.2, mask, "loss with ordinary padding")
    got = run(V.clip_loss, fill_padding(logprobs, mask, math.nan), fill_padding(old, mask, -math.inf),
              fill_padding(adv, mask, math.inf), 0.2, mask)
    expect_close(got["loss"], clean, padding_rule("ppo_clip_loss") + why,
                 what="loss with NaN/inf padding vs with ordinary padding")
    rewards, logprobs, ref, mask = kl_inputs(51)
    clean = run(V.kl_rewards, rewards, logprobs, ref, 0.1, mask)["out"]
    expect_close(clean, oracle_kl_rewards(rewards, logprobs, ref, 0.1, mask), KL_RULE,
                 what="rewards with ordinary padding")
    got = run(V.kl_rewards, rewards, fill_padding(logprobs, mask, math.nan), fill_padding(ref, mask, -math.inf),
              0.1, mask)
    expect_close(got["out"], clean, padding_rule("kl_penalized_rewards") + why,
                 what="rewards with NaN/inf padding vs with ordinary padding")
    rewards, values, mask = gae_inputs(52)
    clean_adv, clean_ret = gae_pair(run(V.gae, rewards, values, 0.9, 0.95, mask), GAE_RULE)
    expect_close([clean_adv, clean_ret], list(oracle_gae(rewards, values, 0.9, 0.95, mask)), GAE_RULE,
                 what="(advantages, returns) with ordinary padding")
    got = run(V.gae, fill_padding(rewards, mask, math.nan), fill_padding(values, mask, math.inf), 0.9, 0.95, mask)
    adv, ret = gae_pair(got, GAE_RULE)
    expect_close(adv, clean_adv, padding_rule("gae_advantages") + why,
                 what="advantages with NaN/inf padding vs with ordinary padding")
    expect_close(ret, clean_ret, padding_rule("gae_advantages") + why,
                 what="returns with NaN/inf padding vs with ordinary padding")


def expect_float64(got, want, fn, what):
    """``got`` is float64 and as accurate as float64 allows."""
    t = expect_tensor(got, f"{fn} returns a tensor")
    expect(t.dtype == torch.float64, f"{fn} keeps the inputs' dtype: float64 in, float64 out (create new tensors "
           "with zeros_like / torch.where, not torch.zeros(B, T), which is float32)",
           f"{what}: expected dtype torch.float64, your code produced {t.dtype}")
    expect_close(t, want, f"{fn} computes the right values in float64 when given float64 (no detour through float32)",
                 rtol=1e-10, atol=1e-12, what=what)


def expect_clip_loss(got, logprobs, old, adv, clip_eps, mask, what):
    """The loss itself is right: a check about one rule (defaults, padding) also needs the value."""
    expect_close(got, oracle_clip_loss(logprobs, old, adv, clip_eps, mask)[0], LOSS_RULE, what=what)


@check("all three functions keep float64 (and compute in it)")
def keeps_float64(run):
    logprobs, old, adv = ppo_inputs(60, (3, 4), torch.float64)
    want, _ = oracle_clip_loss(logprobs, old, adv, 0.2)
    got = run(V.clip_loss, logprobs, old, adv, 0.2)
    expect_float64(got["loss"], torch.tensor(want, dtype=torch.float64), "ppo_clip_loss", "loss")
    rewards, logprobs, ref, mask = kl_inputs(61, dtype=torch.float64)
    got = run(V.kl_rewards, rewards, logprobs, ref, 0.1, mask)
    expect_float64(got["out"], oracle_kl_rewards(rewards, logprobs, ref, 0.1, mask), "kl_penalized_rewards", "rewards")
    rewards, values, mask = gae_inputs(62, dtype=torch.float64)
    want_adv, want_ret = oracle_gae(rewards, values, 0.9, 0.9, mask)
    adv, ret = gae_pair(run(V.gae, rewards, values, 0.9, 0.9, mask), GAE_RULE)
    expect_float64(adv, want_adv, "gae_advantages", "advantages")
    expect_float64(ret, want_ret, "gae_advantages", "returns")


@check("no function modifies its inputs in place")
def inputs_untouched(run):
    def same(after, before, name, fn):
        for i, (a, b) in enumerate(zip(after, before)):
            if b is None:
                continue
            if not (isinstance(a, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)):
                raise Fail(f"{fn} must not modify its inputs in place (e.g. values[~mask] = 0 or masked_fill_): "
                           "work on new tensors", f"argument {name[i]} was changed by the call")

    logprobs, old, adv = ppo_inputs(70, (3, 5))
    mask = prefix_mask([2, 5, 4], 5)
    got = run(V.clip_loss, logprobs, old, adv, 0.2, mask)
    expect_clip_loss(got["loss"], logprobs, old, adv, 0.2, mask, "loss")
    same(got["inputs_after"], [logprobs, old, adv, mask], ["logprobs", "old_logprobs", "advantages", "mask"],
         "ppo_clip_loss")
    rewards, logprobs, ref, mask = kl_inputs(71)
    logprobs = fill_padding(logprobs, mask, 5.0)
    got = run(V.kl_rewards, rewards, logprobs, ref, 0.1, mask)
    expect_close(got["out"], oracle_kl_rewards(rewards, logprobs, ref, 0.1, mask), KL_RULE, what="rewards")
    same(got["inputs_after"], [rewards, logprobs, ref, mask], ["rewards", "logprobs", "ref_logprobs", "mask"],
         "kl_penalized_rewards")
    rewards, values, mask = gae_inputs(72)
    values = fill_padding(values, mask, 5.0)
    rewards = fill_padding(rewards, mask, 5.0)
    got = run(V.gae, rewards, values, 0.9, 0.9, mask)
    expect_close(list(gae_pair(got, GAE_RULE)), list(oracle_gae(rewards, values, 0.9, 0.9, mask)), GAE_RULE,
                 what="(advantages, returns)")
    same(got["inputs_after"], [rewards, values, mask], ["rewards", "values", "mask"], "gae_advantages")
