"""Visible checks: completion log-probs, group advantages, the three normalisations, the clip."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect_close, probe


@probe
def logps_of(sub, logits, completion_ids, temperature=None, grad=False):
    x = logits.detach().clone().requires_grad_(True) if grad else logits
    out = sub.completion_logps(x, completion_ids) if temperature is None else \
        sub.completion_logps(x, completion_ids, temperature=temperature)
    g = None
    if grad and isinstance(out, torch.Tensor) and out.requires_grad:
        out.sum().backward()
        g = x.grad
    return {"logps": out, "grad": g}


@probe
def advantages_of(sub, rewards, num_generations, scale=None):
    if scale is None:
        return sub.group_advantages(rewards, num_generations)
    return sub.group_advantages(rewards, num_generations, scale=scale)


@probe
def grpo(sub, logps, old_logps, ref_logps, advantages, mask, options=None, grad=False):
    """grpo_loss with keyword ``options``; with ``grad``, d loss / d logps.  Reports both outputs."""
    x = logps.detach().clone().requires_grad_(True) if grad else logps
    out = sub.grpo_loss(x, old_logps, ref_logps, advantages, mask, **(options or {}))
    report = {"returned": out, "grad": None}
    if grad and isinstance(out, (tuple, list)) and len(out) == 2 and isinstance(out[0], torch.Tensor) \
            and out[0].requires_grad:
        out[0].backward()
        report["grad"] = x.grad
    return report


def unpack(got, what):
    """(loss, clip_ratio) from a grpo probe report, each a 0-dim tensor."""
    out = got["returned"]
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Fail("grpo_loss returns a pair (loss, clip_ratio)", f"{what}: your code returned {describe(out)}")
    for name, value in zip(("loss", "clip_ratio"), out):
        if not isinstance(value, torch.Tensor) or value.dim() != 0:
            raise Fail(f"grpo_loss returns (loss, clip_ratio), two 0-dim tensors",
                       f"{what}: {name} is {describe(value)}")
    return out


@check("completion_logps: the completion's tokens are scored by the logits one position earlier")
def logps_small(run):
    logits = torch.tensor([[[0.0, 1.0, 2.0], [2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [5.0, 5.0, 5.0]]])   # (1, P+C=4, 3)
    ids = torch.tensor([[1, 2]])                                           # C = 2: tokens at positions 2, 3
    got = run(logps_of, logits, ids)["logps"]
    lse1 = math.log(math.exp(2) + 2)                                       # logits[0, 1] predicts position 2
    lse2 = math.log(2 + math.exp(3))                                       # logits[0, 2] predicts position 3
    expect_close(got, torch.tensor([[0.0 - lse1, 0.0 - lse2]]), "out[n, j] = log_softmax(logits[n, P + j - 1])"
                 "[completion_ids[n, j]]: logits[:, -C-1:-1] predict the C completion tokens", what="completion_logps")


@check("group_advantages: (r - group mean) / (group std + 1e-4), a constant group gets 0")
def advantages_small(run):
    rewards = torch.tensor([1.0, 0.0, 0.0, 1.0, 2.0, 2.0, 2.0, 2.0])
    got = run(advantages_of, rewards, 4)
    a = 0.5 / (math.sqrt(1 / 3) + 1e-4)                                    # group std with n - 1: sqrt(1/3)
    expect_close(got, torch.tensor([a, -a, -a, a, 0.0, 0.0, 0.0, 0.0]), "groups are consecutive runs of "
                 "num_generations rewards; the std divides by n - 1; identical rewards give 0", what="advantages")


LOGPS = torch.tensor([[-1.0, -2.0, -0.5], [-0.3, -1.2, -4.0]])
MASK = torch.tensor([[1, 1, 1], [1, 0, 0]])                                # 3 tokens, then 1 token


@check("on-policy (old = current): 'grpo' averages per completion, 'bnpo' per token, 'dr_grpo' over N * C")
def normalisations(run):
    adv = torch.tensor([1.0, -2.0])
    want = {"grpo": ((-1.0) + 2.0) / 2,                                    # each completion: -A
            "bnpo": (3 * -1.0 + 1 * 2.0) / 4,                              # every token: -A
            "dr_grpo": (3 * -1.0 + 1 * 2.0) / (2 * 3)}
    for loss_type, value in want.items():
        loss, _ = unpack(run(grpo, LOGPS, LOGPS.clone(), None, adv, MASK, {"loss_type": loss_type}), loss_type)
        expect_close(loss, value, f"with rho = 1 every token's loss is -A; loss_type={loss_type!r} averages them "
                     "as the docstring says (masked tokens never count)", what=f"loss ({loss_type})")


@check("the clip: rho = 1.5 with A > 0 counts as 1.2, rho = 0.5 with A < 0 as 0.8; clip_ratio = their share")
def clipping(run):
    logps = torch.log(torch.tensor([[1.5, 1.0], [0.5, 1.0]]))
    old = torch.zeros(2, 2)
    adv = torch.tensor([1.0, -1.0])
    mask = torch.ones(2, 2)
    loss, clip_ratio = unpack(run(grpo, logps, old, None, adv, mask, {"loss_type": "bnpo"}), "clip example")
    # tokens: min(1.5, 1.2) * 1 = 1.2;  1 * 1 = 1;  min(-0.5, -0.8) = -0.8;  -1
    expect_close(loss, -(1.2 + 1.0 - 0.8 - 1.0) / 4, "loss_t = -min(rho A, clamp(rho, 1 - eps, 1 + eps) A): the "
                 "pessimistic bound, epsilon = 0.2 by default", what="loss (bnpo)")
    expect_close(clip_ratio, 0.5, "clip_ratio: share of the completion tokens where the clip is active "
                 "(rho > 1 + eps with A > 0, or rho < 1 - eps with A < 0)", what="clip_ratio")
