"""Visible checks: the basic rules of global-norm and value clipping on small fixed cases."""
import torch

from mlkata.checks import check, expect_close, probe


@probe
def clip_norm(sub, grads, max_norm, norm_type=None, container="list"):
    """Build parameters holding ``grads`` (None allowed), clip them, report what happened.
    ``norm_type=None`` leaves it out of the call: the default (2.0) is what is checked then."""
    params = []
    for g in grads:
        p = torch.zeros_like(g) if g is not None else torch.zeros(1)
        p.requires_grad_(True)
        p.grad = None if g is None else g.clone()
        params.append(p)
    before = [p.grad for p in params]
    arg = {"list": params, "generator": (p for p in params), "tensor": params[0]}[container]
    total = sub.clip_grad_norm_(arg, max_norm) if norm_type is None else sub.clip_grad_norm_(arg, max_norm, norm_type)
    return {"total": total, "grads": [p.grad for p in params],
            "in_place": [p.grad is b for p, b in zip(params, before)]}


@probe
def clip_value(sub, grads, clip_value, container="list"):
    params = []
    for g in grads:
        p = torch.zeros(1) if g is None else torch.zeros_like(g)
        p.requires_grad_(True)
        p.grad = None if g is None else g.clone()
        params.append(p)
    before = [p.grad for p in params]
    arg = {"list": params, "generator": (p for p in params), "tensor": params[0]}[container]
    returned = sub.clip_grad_value_(arg, clip_value)
    return {"returned": returned, "grads": [p.grad for p in params],
            "in_place": [p.grad is b for p, b in zip(params, before)]}


@check("the global norm treats all gradients as one vector: [3, 4] and [12] have norm 13")
def returns_global_norm(run):
    got = run(clip_norm, [torch.tensor([3.0, 4.0]), torch.tensor([12.0])], max_norm=100.0)
    expect_close(got["total"], 13.0, "return the global 2-norm of all gradients together", what="returned norm")


@check("gradients above max_norm are scaled by max_norm / (norm + 1e-6)")
def scales_large_gradients(run):
    got = run(clip_norm, [torch.tensor([3.0, 4.0]), torch.tensor([12.0])], max_norm=1.0)
    coef = 1.0 / (13.0 + 1e-6)
    expect_close(got["grads"], [torch.tensor([3.0, 4.0]) * coef, torch.tensor([12.0]) * coef],
                 "scale every gradient by max_norm / (total_norm + 1e-6) when the norm is too large",
                 what="gradients after clipping")


@check("gradients already within max_norm are left untouched (and their norm, 1.3, is returned)")
def leaves_small_gradients(run):
    grads = [torch.tensor([0.3, -0.4, 1.2])]
    got = run(clip_norm, grads, max_norm=2.0)
    expect_close(got["grads"], grads, "do not scale gradients whose norm is at most max_norm",
                 what="gradients after clipping")
    expect_close(got["total"], 1.3, "return the global norm even when nothing is clipped", what="returned norm")


@check("clip_grad_value_ clamps every entry into [-clip_value, clip_value]")
def clamps_values(run):
    got = run(clip_value, [torch.tensor([-3.0, 0.5, 2.0])], 1.0)
    expect_close(got["grads"], [torch.tensor([-1.0, 0.5, 1.0])], "clamp each entry into [-clip_value, clip_value]",
                 what="gradients after clipping")
