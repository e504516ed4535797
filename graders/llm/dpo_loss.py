"""Hidden graders of llm/dpo_loss: agreement with TRL's sigmoid DPO formula on random inputs
(losses, rewards, gradients w.r.t. all four inputs), per-pair shape, beta inside the sigmoid,
detached rewards, the direction of the gradient, and log-ratio differences in the thousands."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, visible_module

V = visible_module("llm/dpo_loss")


# ----------------------------------------------------------------------------------------------
# The oracle (also checked against TRL's DPOTrainer formula in tests/test_twins_llm_dpo_loss.py)
# ----------------------------------------------------------------------------------------------

def trl_sigmoid_dpo(policy_chosen, policy_rejected, ref_chosen, ref_rejected, beta=0.1):
    """TRL's sigmoid DPO per pair: -logsigmoid(beta * (chosen log-ratio - rejected log-ratio)),
    and the rewards beta * log-ratio, detached."""
    chosen_logratios = policy_chosen - ref_chosen
    rejected_logratios = policy_rejected - ref_rejected
    losses = -F.logsigmoid(beta * (chosen_logratios - rejected_logratios))
    return losses, beta * chosen_logratios.detach(), beta * rejected_logratios.detach()


def oracle_with_grads(inputs, beta=0.1):
    """The oracle's (losses, chosen_rewards, rejected_rewards) and the gradients of losses.sum()."""
    leaves = [t.clone().requires_grad_(True) for t in inputs]
    losses, chosen_r, rejected_r = trl_sigmoid_dpo(*leaves, beta=beta)
    losses.sum().backward()
    return (losses.detach(), chosen_r, rejected_r), [t.grad for t in leaves]


def random_logps(seed, batch, dtype=torch.float32):
    """Sequence log-probs like a language model's: negative, tens to hundreds, the reference close
    to the policy (the policy starts as a copy of it)."""
    g = torch.Generator().manual_seed(seed)
    policy = -torch.rand(2, batch, generator=g, dtype=torch.float64) * 200 - 5
    ref = policy + torch.randn(2, batch, generator=g, dtype=torch.float64) * 8
    return [t.to(dtype) for t in (policy[0], policy[1], ref[0], ref[1])]


NAMES = ("policy_chosen_logps", "policy_rejected_logps", "ref_chosen_logps", "ref_rejected_logps")


def fmt(t):
    """A short rendering of a tensor (or None) for messages."""
    if t is None:
        return "None"
    return "[" + ", ".join(f"{v:.4g}" for v in t.reshape(-1).tolist()) + "]"


def expect_differentiable(got, what):
    expect(got.get("differentiable", False),
           "losses must stay connected to the autograd graph of the four inputs "
           "(stay in torch: no .item(), no numpy, no torch.no_grad() around the loss)",
           f"{what}: the losses that came back have no gradient path to the inputs")


def expect_grads(got, want, rule, what, **tol):
    expect_differentiable(got, what)
    for name, g_got, g_want in zip(NAMES, got["grads"], want):
        if g_got is None:
            raise Fail(rule, f"{what}: no gradient reached `{name}` -- it must take part in the loss")
        expect_close(g_got, g_want, rule, what=f"{what}: gradient w.r.t. {name}", **tol)


# ----------------------------------------------------------------------------------------------
# Checks
# ----------------------------------------------------------------------------------------------

@check("agrees with TRL's sigmoid DPO formula on random log-probs: losses and both rewards", points=2)
def agrees_with_trl(run):
    cases = [(0, 1, 0.1, torch.float32), (1, 6, 0.1, torch.float32), (2, 64, 0.5, torch.float32),
             (3, 9, 0.05, torch.float64)]
    for seed, batch, beta, dtype in cases:
        inputs = random_logps(seed, batch, dtype)
        want = trl_sigmoid_dpo(*inputs, beta=beta)
        got = V.unpack(run(V.dpo, *inputs, beta), batch)
        what = f"(batch {batch}, beta {beta}, {dtype}, seed {seed})"
        expect_close(got[0], want[0], "losses = -log sigmoid(beta * ((pc - rc) - (pr - rr))), one per pair, in the "
                     "inputs' dtype", check_dtype=True, rtol=1e-5, atol=1e-6, what=f"losses {what}")
        expect_close(got[1], want[1], "chosen_rewards = beta * (policy_chosen_logps - ref_chosen_logps)",
                     check_dtype=True, rtol=1e-5, atol=1e-5, what=f"chosen_rewards {what}")
        expect_close(got[2], want[2], "rejected_rewards = beta * (policy_rejected_logps - ref_rejected_logps)",
                     check_dtype=True, rtol=1e-5, atol=1e-5, what=f"rejected_rewards {what}")


@check("returns one loss per pair (shape [B]): losses[i] is what pair i alone would get")
def per_pair(run):
    inputs = random_logps(10, 5)
    batch = V.unpack(run(V.dpo, *inputs), 5)
    expect_close(list(batch), list(trl_sigmoid_dpo(*inputs)), "losses = -log sigmoid(beta * (chosen log-ratio - "
                 "rejected log-ratio)); rewards = beta * log-ratio", what="(losses, chosen_rewards, rejected_rewards)")
    alone = torch.cat([V.unpack(run(V.dpo, *[t[i:i + 1] for t in inputs]), 1)[0] for i in range(5)])
    expect_close(batch[0], alone, "losses[i] belongs to pair i alone: do not average, sum or mix the pairs "
                 "(TRL takes the mean afterwards)", what="losses of a batch of 5, against your losses of each pair "
                 "on its own")


@check("gradients w.r.t. all four log-prob inputs agree with TRL's formula (float64)", points=2)
def gradients_agree(run):
    for seed, batch, beta in [(20, 1, 0.1), (21, 8, 0.3), (22, 33, 1.0)]:
        inputs = random_logps(seed, batch, torch.float64)
        _, want_grads = oracle_with_grads(inputs, beta)
        got = run(V.dpo, *inputs, beta, grad=True)
        V.unpack(got, batch)
        expect_grads(got, want_grads, "d loss_i / d policy_chosen_i = -beta * sigmoid(-beta * z_i) with z the "
                     "log-ratio difference; the reference enters with the opposite sign",
                     f"batch {batch}, beta {beta}", rtol=1e-7, atol=1e-12)


@check("gradient direction: raising the policy's chosen log-prob lowers the loss, raising the rejected one raises it")
def gradient_direction(run):
    inputs = random_logps(30, 4)
    got = run(V.dpo, *inputs, 0.1, grad=True)
    V.unpack(got, 4)
    expect_differentiable(got, "random pairs")
    for name, g in zip(NAMES, got["grads"]):
        expect(g is not None, f"every input takes part in the loss, {name} included",
               f"no gradient reached `{name}`")
    g_pc, g_pr, g_rc, g_rr = got["grads"]
    expect(bool((g_pc < 0).all()) and bool((g_pr > 0).all()),
           "increasing policy_chosen_logps must lower the loss and increasing policy_rejected_logps must raise it",
           f"d loss / d policy_chosen_logps = {fmt(g_pc)}, d loss / d policy_rejected_logps = {fmt(g_pr)}")
    expect(bool((g_rc > 0).all()) and bool((g_rr < 0).all()),
           "the reference log-probs are subtracted: raising ref_chosen_logps must raise the loss",
           f"d loss / d ref_chosen_logps = {fmt(g_rc)}, d loss / d ref_rejected_logps = {fmt(g_rr)}")


@check("beta only scales the log-probs: dpo_loss(x, beta) == dpo_loss(beta * x, beta=1), for beta = 0.01 ... 2",
       points=2)
def beta_scaling(run):
    inputs = random_logps(40, 6, torch.float64)
    for beta in (0.01, 0.1, 0.5, 2.0):
        got = V.unpack(run(V.dpo, *inputs, beta), 6)
        expect_close(list(got), list(trl_sigmoid_dpo(*inputs, beta=beta)), "losses = -log sigmoid(beta * z), "
                     "rewards = beta * log-ratio", rtol=1e-9, atol=1e-12, what=f"(losses, rewards) at beta = {beta}")
        scaled = V.unpack(run(V.dpo, *[beta * t for t in inputs], 1.0), 6)
        what = f"at beta = {beta}, against your beta = 1 result on log-probs multiplied by beta"
        expect_close(got[0], scaled[0], "losses = -log sigmoid(beta * z): beta multiplies the argument of the sigmoid, "
                     "it is not a factor in front of the log", rtol=1e-9, atol=1e-12, what=f"losses {what}")
        expect_close(got[1], scaled[1], "the rewards are scaled by beta: chosen_rewards = beta * (pc - rc)",
                     rtol=1e-9, atol=1e-12, what=f"chosen_rewards {what}")
        expect_close(got[2], scaled[2], "the rewards are scaled by beta: rejected_rewards = beta * (pr - rr)",
                     rtol=1e-9, atol=1e-12, what=f"rejected_rewards {what}")


@check("the returned rewards are detached: requires_grad is False even when every input requires grad")
def rewards_detached(run):
    inputs = random_logps(50, 3)
    got = run(V.dpo, *inputs, 0.1, grad=True)
    expect_close(list(V.unpack(got, 3)), list(trl_sigmoid_dpo(*inputs)), "losses = -log sigmoid(beta * z), "
                 "rewards = beta * log-ratio", what="(losses, chosen_rewards, rejected_rewards)")
    flags = got["rewards_require_grad"]
    expect(flags == [False, False],
           "the rewards are for logging: return them detached from the autograd graph (TRL: beta * logratio.detach())",
           f"requires_grad of (chosen_rewards, rejected_rewards): expected [False, False], your code produced {flags}")


@check("stability: log-ratio differences of +-1e4 give exact finite losses and finite gradients (float32)", points=2)
def extreme_logratios(run):
    # pair 0: z = -1e4, pair 1: z = +1e4, pair 2: z = -2e3, pair 3: z = 300 (policy far from the reference)
    pc = torch.tensor([-1.2e4, -50.0, -2500.0, -100.0])
    pr = torch.tensor([-80.0, -1.0e4, -60.0, -400.0])
    rc = torch.tensor([-2.0e3, -40.0, -300.0, -100.0])
    rr = torch.tensor([-80.0, -40.0, -60.0, -100.0])
    for beta in (1.0, 0.1):
        (want, _, _), want_grads = oracle_with_grads([pc, pr, rc, rr], beta)
        got = run(V.dpo, pc, pr, rc, rr, beta, grad=True)
        losses, _, _ = V.unpack(got, 4)
        what = f"log-ratio differences [-1e4, 1e4, -2e3, 300], beta {beta}"
        expect(bool(torch.isfinite(losses).all()),
               "the losses must stay finite when the log-ratio difference is in the thousands: log(sigmoid(x)) "
               "underflows to log(0) = -inf once sigmoid(x) rounds to 0",
               f"{what}: your losses are {fmt(losses)}, expected {fmt(want)}")
        expect_close(losses, want, "losses = -log sigmoid(beta * z), which is about -beta * z for very negative "
                     "beta * z and about 0 for very positive beta * z", what=f"losses ({what})")
        expect_differentiable(got, what)
        expect(all(g is not None and bool(torch.isfinite(g).all()) for g in got["grads"]),
            "gradients must stay finite for huge log-ratio differences (a NaN gradient poisons every weight)",
            f"{what}: your gradients are {', '.join(fmt(g) for g in got.get('grads', []))}")
        expect_grads(got, want_grads, "the gradient of -log sigmoid(beta * z) tends to -beta for very negative z and "
                     "to 0 for very positive z", what)
