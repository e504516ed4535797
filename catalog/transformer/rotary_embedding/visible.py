"""Visible checks: RoPE's cos/sin table and rotate_half on tiny cases, one rotation by hand, and
position 0 leaving queries and keys unchanged."""
import math

import torch

from mlkata.checks import check, expect_close, probe


def _pair(result, name):
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise TypeError(f"{name} must return a pair, not {type(result).__name__}")
    return result


@probe
def cos_sin(sub, positions, head_dim, **kwargs):
    """Call rope_cos_sin(positions, head_dim, **kwargs); report {"cos", "sin"}."""
    cos, sin = _pair(sub.rope_cos_sin(positions, head_dim, **kwargs), "rope_cos_sin")
    return {"cos": cos, "sin": sin}


@probe
def rope(sub, q, k, positions=None, head_dim=None, base=10000.0, cos=None, sin=None, dtype=torch.float32,
         grad_out=None):
    """Rotate q and k: with the learner's own rope_cos_sin(positions) when ``positions`` is given,
    else with the ``cos``/``sin`` handed in.  Reports q_rot, k_rot, whether q and k were left
    unchanged, and (with ``grad_out = (gq, gk)``) d loss / d q and d loss / d k for
    loss = sum(q_rot * gq) + sum(k_rot * gk)."""
    if positions is not None:
        cos, sin = _pair(sub.rope_cos_sin(positions, head_dim or q.size(-1), base=base, dtype=dtype), "rope_cos_sin")
    q0, k0 = q.clone(), k.clone()
    if grad_out is not None:
        q, k = q.clone().requires_grad_(True), k.clone().requires_grad_(True)
    q_rot, k_rot = _pair(sub.apply_rotary_pos_emb(q, k, cos, sin), "apply_rotary_pos_emb")
    report = {"q": q_rot, "k": k_rot,
              "unchanged": bool(torch.equal(q.detach(), q0) and torch.equal(k.detach(), k0))}
    if grad_out is not None:
        ((q_rot * grad_out[0]).sum() + (k_rot * grad_out[1]).sum()).backward()
        report["grads"] = [q.grad, k.grad]
    return report


@check("rope_cos_sin(arange(3), 4): angles p * [1, 0.01], each written twice (dims j and j + d/2)")
def tiny_cos_sin(run):
    got = run(cos_sin, torch.arange(3), 4)
    angles = [[p * 1.0, p * 0.01] * 2 for p in range(3)]       # theta = 10000 ** (-[0, 2] / 4) = [1, 0.01]
    expect_close(got["cos"], torch.tensor(angles).cos(), "cos[p, j] = cos[p, j + d/2] = cos(p * base ** (-2j / d))",
                 what="cos for positions 0, 1, 2 and head_dim 4")
    expect_close(got["sin"], torch.tensor(angles).sin(), "sin[p, j] = sin[p, j + d/2] = sin(p * base ** (-2j / d))",
                 what="sin for positions 0, 1, 2 and head_dim 4")


@check("rotate_half([1, 2, 3, 4]) = [-3, -4, 1, 2]")
def tiny_rotate_half(run):
    got = run("rotate_half", torch.tensor([1.0, 2.0, 3.0, 4.0]))
    expect_close(got, torch.tensor([-3.0, -4.0, 1.0, 2.0]), "rotate_half(x) = cat(-second half, first half)",
                 what="rotate_half([1, 2, 3, 4])")


@check("head_dim 2, position 1: q = [1, 0] turns by 1 radian to [cos 1, sin 1]; k = [0, 1] to [-sin 1, cos 1]")
def tiny_rotation(run):
    q = torch.tensor([1.0, 0.0]).view(1, 1, 1, 2)
    k = torch.tensor([0.0, 1.0]).view(1, 1, 1, 2)
    got = run(rope, q, k, positions=torch.tensor([1]))
    c, s = math.cos(1.0), math.sin(1.0)
    rule = "pair (x[0], x[1]) becomes (x[0] cos - x[1] sin, x[1] cos + x[0] sin): a rotation by +angle"
    expect_close(got["q"], torch.tensor([c, s]).view(1, 1, 1, 2), rule, what="rotated q")
    expect_close(got["k"], torch.tensor([-s, c]).view(1, 1, 1, 2), rule, what="rotated k")


@check("position 0 is the identity: q and k come back unchanged")
def position_zero(run):
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, 3, 1, 8, generator=g), torch.randn(2, 1, 1, 8, generator=g)
    got = run(rope, q, k, positions=torch.tensor([0]))
    expect_close(got["q"], q, "at position 0 every angle is 0: cos = 1, sin = 0", what="rotated q")
    expect_close(got["k"], k, "at position 0 every angle is 0: cos = 1, sin = 0", what="rotated k")
