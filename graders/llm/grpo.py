"""Hidden graders of llm/grpo: completion log-probs (temperature, dtypes, huge logits), group
advantages in all three scalings against TRL's formula (unbiased std, consecutive groups,
constant groups), and the loss against TRL 1.16's GRPOTrainer._compute_loss formula (the twin
tests/test_twins_llm_grpo.py runs that very method and TRL's advantage code against these
oracles) for grpo / bnpo / dr_grpo, asymmetric clipping, the k3 KL term, gradients, the clip
ratio, empty completions and unknown options."""
import math

import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_tensor, probe, visible_module

V = visible_module("llm/grpo")


# --------------------------------------------------------------------------------------------
# Oracles: TRL's formulas, written out position by position / group by group
# --------------------------------------------------------------------------------------------

def oracle_logps(logits, completion_ids, temperature=1.0):
    N, C = completion_ids.shape
    L = logits.shape[1]
    out = torch.empty(N, C, dtype=torch.float64)
    for n in range(N):
        for j in range(C):
            row = logits[n, L - C - 1 + j].double() / temperature
            out[n, j] = row[completion_ids[n, j]] - torch.logsumexp(row, 0)
    return out


def unbiased_std(values):
    values = [float(v) for v in values]
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def oracle_advantages(rewards, G, scale="group"):
    r = [float(v) for v in rewards]
    out = []
    for k in range(0, len(r), G):
        group = r[k:k + G]
        mean = sum(group) / G
        std = unbiased_std(group) if scale == "group" else unbiased_std(r)
        out += [(v - mean) / (std + 1e-4) if scale != "none" else v - mean for v in group]
    return torch.tensor(out, dtype=torch.float64)


def oracle_per_token(logps, old, ref, adv, epsilon, epsilon_high, beta):
    eps_high = epsilon if epsilon_high is None else epsilon_high
    ratio = torch.exp(logps - old)
    A = adv[:, None]
    loss = -torch.minimum(ratio * A, torch.clamp(ratio, 1 - epsilon, 1 + eps_high) * A)
    if beta:
        loss = loss + beta * (torch.exp(ref - logps) - (ref - logps) - 1)
    active = ((ratio < 1 - epsilon) & (A < 0)) | ((ratio > 1 + eps_high) & (A > 0))
    return loss, active


def oracle_loss(logps, old, ref, adv, mask, epsilon=0.2, epsilon_high=None, beta=0.0, loss_type="grpo",
                max_completion_length=None):
    """(loss, clip_ratio) as TRL 1.16 computes them."""
    per_token, active = oracle_per_token(logps, old, ref, adv, epsilon, epsilon_high, beta)
    m = mask.to(per_token.dtype)
    if loss_type == "grpo":
        loss = ((per_token * m).sum(-1) / m.sum(-1).clamp(min=1.0)).mean()
    elif loss_type == "bnpo":
        loss = (per_token * m).sum() / m.sum().clamp(min=1.0)
    else:
        length = logps.shape[1] if max_completion_length is None else max_completion_length
        loss = (per_token * m).sum() / (logps.shape[0] * length)
    clip_ratio = (active.to(m.dtype) * m).sum() / m.sum().clamp(min=1.0)
    return loss, clip_ratio.detach()


def oracle_grad(logps, old, ref, adv, mask, **options):
    x = logps.detach().clone().requires_grad_(True)
    oracle_loss(x, old, ref, adv, mask, **options)[0].backward()
    return x.grad


def rollout(seed, N=8, C=7, G=4, drift=0.3, dtype=torch.float64, empty=False):
    """(logps, old_logps, ref_logps, advantages, mask): a batch of N completions in groups of G."""
    g = torch.Generator().manual_seed(seed)
    logps = -torch.rand(N, C, generator=g, dtype=torch.float64) * 3 - 0.01
    old = logps + torch.randn(N, C, generator=g, dtype=torch.float64) * drift
    ref = logps + torch.randn(N, C, generator=g, dtype=torch.float64) * 0.25
    rewards = torch.randint(0, 3, (N,), generator=g).double()
    adv = oracle_advantages(rewards, G)
    lengths = torch.randint(1, C + 1, (N,), generator=g)
    lengths[0] = C
    if empty:
        lengths[-1] = 0
    mask = (torch.arange(C)[None, :] < lengths[:, None]).long()
    return [t.to(dtype) for t in (logps, old, ref, adv)] + [mask]


def read_loss(got, what):
    return V.unpack(got, what)


# --------------------------------------------------------------------------------------------
# completion_logps
# --------------------------------------------------------------------------------------------

@check("completion_logps agrees with log_softmax(logits / T) at the shifted positions, random batches and temperatures",
       points=2)
def logps_random(run):
    for seed, (N, P, C, Vsz), temperature in [(0, (3, 4, 5, 11), None), (1, (2, 1, 6, 7), 0.7), (2, (4, 6, 1, 13), 1.3)]:
        g = torch.Generator().manual_seed(seed)
        logits = torch.randn(N, P + C, Vsz, generator=g) * 3
        ids = torch.randint(Vsz, (N, C), generator=g)
        got = run(V.logps_of, logits, ids, temperature)["logps"]
        expect_close(got, oracle_logps(logits, ids, temperature or 1.0).float(),
                     "out[n, j] = log_softmax(logits[n, P + j - 1] / temperature)[completion_ids[n, j]] "
                     "(temperature divides the logits before the softmax)", check_dtype=True, rtol=1e-5, atol=1e-5,
                     what=f"completion_logps (N={N}, P={P}, C={C}, temperature={temperature or 1.0})")


@check("completion_logps: differentiable, float32 for bfloat16 logits, finite for logits of 1e4")
def logps_numerics(run):
    g = torch.Generator().manual_seed(5)
    logits = torch.randn(2, 6, 9, generator=g, dtype=torch.float64) * 1e4
    ids = torch.randint(9, (2, 3), generator=g)
    got = run(V.logps_of, logits, ids, None, True)
    expect(got["grad"] is not None, "completion_logps must stay differentiable w.r.t. the logits",
           "no gradient reached the logits")
    expect_close(got["logps"], oracle_logps(logits, ids), "use a stable log-softmax: logits of 1e4 overflow exp",
                 rtol=1e-7, atol=1e-6, what="completion_logps of huge float64 logits")
    half = (torch.randn(2, 5, 9, generator=g) * 2).bfloat16()
    got = run(V.logps_of, half, ids)["logps"]
    expect_tensor(got, "half-precision logits are upcast to float32 before the softmax", shape=(2, 3),
                  dtype=torch.float32)
    expect_close(got, oracle_logps(half, ids).float(), "the log-probs of the upcast logits", rtol=1e-5, atol=1e-5,
                 what="completion_logps (bfloat16 logits)")


# --------------------------------------------------------------------------------------------
# group_advantages
# --------------------------------------------------------------------------------------------

@check("group_advantages (scale='group') agrees with TRL's formula on random rewards", points=2)
def advantages_group(run):
    for seed, N, G in [(10, 8, 4), (11, 12, 3), (12, 16, 8), (13, 4, 2)]:
        g = torch.Generator().manual_seed(seed)
        rewards = torch.randn(N, generator=g) * 2 + torch.randint(0, 2, (N,), generator=g)
        got = run(V.advantages_of, rewards, G)
        expect_close(got, oracle_advantages(rewards, G).float(), "A = (r - mean of its group) / (unbiased std of its "
                     "group + 1e-4); group k is rewards[k*G:(k+1)*G] (consecutive)", check_dtype=True,
                     rtol=1e-5, atol=1e-5, what=f"advantages (N={N}, G={G}, seed {seed})")


@check("scale='batch' divides by the std of the whole batch, scale='none' only subtracts the group mean")
def advantages_other_scales(run):
    g = torch.Generator().manual_seed(20)
    rewards = torch.randn(12, generator=g, dtype=torch.float64)
    for scale in ("batch", "none"):
        got = run(V.advantages_of, rewards, 4, scale)
        expect_close(got, oracle_advantages(rewards, 4, scale), "'batch': (r - group mean) / (std of all rewards + "
                     "1e-4); 'none': r - group mean (the baseline is still the group's mean)", rtol=1e-7, atol=1e-9,
                     what=f"advantages (scale={scale!r})")


@check("a group of identical rewards gets advantages exactly 0 (finite), the other groups are unaffected")
def advantages_constant_group(run):
    rewards = torch.tensor([1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.5, 0.5, 0.5])
    got = run(V.advantages_of, rewards, 3)
    expect(isinstance(got, torch.Tensor) and bool(torch.isfinite(got).all()), "add 1e-4 to the std: a group whose "
           "completions all score the same has std 0, and 0/0 is nan", f"your advantages: {got}")
    expect_close(got, oracle_advantages(rewards, 3).float(), "identical rewards carry no signal: advantage 0",
                 rtol=1e-5, atol=1e-6, what="advantages")


# --------------------------------------------------------------------------------------------
# grpo_loss
# --------------------------------------------------------------------------------------------

CASES = [(30, {}), (31, {"beta": 0.04}), (32, {"beta": 0.1, "epsilon": 0.1}),
         (33, {"epsilon": 0.2, "epsilon_high": 0.28}), (34, {"beta": 0.04, "epsilon_high": 0.3})]


def expect_loss(run, seed, options, rule, what_prefix, **kw):
    logps, old, ref, adv, mask = rollout(seed, **kw)
    ref_arg = ref if options.get("beta") else None
    got = read_loss(run(V.grpo, logps, old, ref_arg, adv, mask, options), f"{what_prefix}, seed {seed}")
    want = oracle_loss(logps, old, ref, adv, mask, **options)
    expect_close(got[0], want[0], rule, rtol=1e-6, atol=1e-8, what=f"loss ({what_prefix}, {options}, seed {seed})")
    return got, want


@check("loss_type='grpo' (the default) agrees with TRL's GRPO loss: random rollouts, clips, KL coefficients", points=2)
def loss_grpo(run):
    for seed, options in CASES:
        expect_loss(run, seed, options, "per token -min(rho A, clip(rho) A) + beta * k3 KL; the mean over each "
                    "completion's own tokens, then over completions", "grpo")


@check("loss_type='bnpo' and 'dr_grpo' agree with TRL's token-mean and N * max_completion_length normalisations",
       points=2)
def loss_bnpo_dr(run):
    for seed, options in CASES[:3]:
        expect_loss(run, seed, {**options, "loss_type": "bnpo"}, "'bnpo': the sum of the masked token losses / the "
                    "number of completion tokens in the batch", "bnpo")
        expect_loss(run, seed, {**options, "loss_type": "dr_grpo"}, "'dr_grpo': the sum of the masked token losses / "
                    "(N * max_completion_length), max_completion_length = C when None", "dr_grpo")
    expect_loss(run, 35, {"loss_type": "dr_grpo", "max_completion_length": 16}, "'dr_grpo' divides by "
                "N * max_completion_length when it is given (16 here), not by the padded width", "dr_grpo")


@check("gradients w.r.t. logps agree with TRL's loss (float64), all three loss types", points=2)
def gradients(run):
    for seed, options in [(40, {"beta": 0.04}), (41, {"loss_type": "bnpo", "epsilon_high": 0.28}),
                          (42, {"loss_type": "dr_grpo", "beta": 0.1})]:
        logps, old, ref, adv, mask = rollout(seed)
        got = run(V.grpo, logps, old, ref, adv, mask, options, grad=True)
        read_loss(got, f"seed {seed}")
        if got["grad"] is None:
            raise Fail("the loss must be differentiable w.r.t. logps (old_logps and ref_logps are constants)",
                       f"{options}: no gradient reached logps")
        expect_close(got["grad"], oracle_grad(logps, old, ref, adv, mask, **options), "d loss / d logps: -rho A where "
                     "the clip is inactive, 0 where it is active, plus beta * (1 - e^(ref - logp)) from the KL, "
                     "scaled by the normalisation; 0 on masked tokens", rtol=1e-7, atol=1e-10,
                     what=f"d loss / d logps ({options}, seed {seed})")


@check("clip_ratio: the share of completion tokens whose clip is active (sign-aware, asymmetric range), detached")
def clip_ratio(run):
    for seed, options in [(50, {}), (51, {"epsilon": 0.1, "epsilon_high": 0.3}), (52, {"epsilon": 0.05})]:
        logps, old, ref, adv, mask = rollout(seed, drift=0.5)
        got = read_loss(run(V.grpo, logps, old, None, adv, mask, options, grad=True), f"seed {seed}")
        want = oracle_loss(logps, old, ref, adv, mask, **options)[1]
        expect_close(got[1], want, "a token counts when rho < 1 - epsilon with A < 0 or rho > 1 + epsilon_high with "
                     "A > 0, among the masked-in tokens only", rtol=1e-6, atol=1e-9, what=f"clip_ratio ({options})")
        expect(not got[1].requires_grad, "clip_ratio is a statistic for logging: return it detached",
               "clip_ratio.requires_grad is True")


@check("an empty completion (mask all 0) adds 0 to 'grpo' and nothing is nan")
def empty_completion(run):
    logps, old, ref, adv, mask = rollout(60, empty=True)
    for loss_type in ("grpo", "bnpo"):
        got = read_loss(run(V.grpo, logps, old, ref, adv, mask, {"loss_type": loss_type, "beta": 0.04}), loss_type)
        want = oracle_loss(logps, old, ref, adv, mask, loss_type=loss_type, beta=0.04)[0]
        expect(bool(torch.isfinite(got[0])), "a completion with no token divides by max(count, 1): its mean is 0, "
               "not 0/0", f"loss_type={loss_type!r}: your loss is {got[0].item()}")
        expect_close(got[0], want, "the empty completion still counts in the 'grpo' mean over completions (as 0)",
                     rtol=1e-6, atol=1e-8, what=f"loss ({loss_type})")


@probe
def bad_loss_type(sub, logps, old, adv, mask):
    try:
        sub.grpo_loss(logps, old, None, adv, mask, loss_type="dapo-ish")
    except ValueError:
        return "raised ValueError"
    return "returned a value"


@check("an unknown loss_type raises ValueError")
def unknown_loss_type(run):
    logps, old, _, adv, mask = rollout(70)
    got = run(bad_loss_type, logps, old, adv, mask)
    expect(got == "raised ValueError", "loss_type must be 'grpo', 'bnpo' or 'dr_grpo'; anything else raises "
           "ValueError", f"loss_type='dapo-ish': expected ValueError, your code {got}")
