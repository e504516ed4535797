"""Visible checks: the plain and the clipped value loss, and the clip fraction, on small hand-computed cases."""
import torch

from mlkata.checks import Fail, check, expect_close, probe


@probe
def vloss(sub, values, returns, mask=None, pass_mask=True, grad=False):
    """Call value_loss (mask left at its default unless ``pass_mask``); report the loss, the
    gradient with respect to ``values`` when ``grad``, and the inputs after the call."""
    if grad:
        values = values.detach().clone().requires_grad_(True)
    loss = sub.value_loss(values, returns, mask=mask) if pass_mask else sub.value_loss(values, returns)
    out = {"loss": loss, "grad": None, "differentiable": None}
    if grad:
        out["differentiable"] = isinstance(loss, torch.Tensor) and loss.requires_grad
        if out["differentiable"]:
            loss.backward()
            out["grad"] = values.grad
    out["inputs_after"] = [values.detach(), returns, mask]
    return out


@probe
def cvloss(sub, values, old_values, returns, clip_eps=None, mask=None, pass_mask=True, grad=False):
    """Call clipped_value_loss (clip_eps/mask left at their defaults when not given); report what
    it returned, the gradient of the loss with respect to ``values`` when ``grad``, whether
    clip_frac requires grad, and the inputs after the call."""
    if grad:
        values = values.detach().clone().requires_grad_(True)
    kwargs = {}
    if clip_eps is not None:
        kwargs["clip_eps"] = clip_eps
    if pass_mask:
        kwargs["mask"] = mask
    returned = sub.clipped_value_loss(values, old_values, returns, **kwargs)
    out = {"returned": returned, "grad": None, "differentiable": None, "clip_frac_requires_grad": None}
    if isinstance(returned, (tuple, list)) and len(returned) == 2:
        loss, clip_frac = returned
        out["clip_frac_requires_grad"] = getattr(clip_frac, "requires_grad", None)
        if grad:
            out["differentiable"] = isinstance(loss, torch.Tensor) and loss.requires_grad
            if out["differentiable"]:
                loss.backward()
                out["grad"] = values.grad
    out["inputs_after"] = [values.detach(), old_values, returns, mask]
    return out


def loss_and_frac(got):
    """The (loss, clip_frac) pair a cvloss probe reported, or a Fail that says what came back."""
    out = got["returned"]
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        kind = f"a {type(out).__name__}" + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
        raise Fail("clipped_value_loss returns a tuple (loss, clip_frac)", f"your code returned {kind}")
    return out


# One position in each regime (old values 0, eps 0.2):
#   V = 0.1, R = 1:  inside the clip range, both errors 0.81                        -> 0.81, not clipped
#   V = 0.5, R = 1:  moved past 0.2 towards R: clipped error 0.64 > 0.25           -> 0.64, clipped
#   V = -0.5, R = 1: moved past -0.2 away from R: unclipped error 2.25 > 1.44      -> 2.25, not clipped
#   V = 0.5, R = -1: moved past 0.2 away from R: unclipped error 2.25 > 1.44       -> 2.25, not clipped
REGIMES = (torch.tensor([0.1, 0.5, -0.5, 0.5]), torch.zeros(4), torch.tensor([1.0, 1.0, 1.0, -1.0]))


@check("value_loss is half the mean squared error")
def plain_small_case(run):
    got = run(vloss, torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.0, 2.0, 5.0]))
    expect_close(got["loss"], 0.5 * 5.0 / 3.0, "value_loss = 0.5 * mean((values - returns)^2): "
                 "0.5 * (1 + 0 + 4) / 3", what="loss")


@check("clipped_value_loss keeps the larger of the clipped and unclipped squared errors (4 hand-computed tokens)")
def clipped_small_case(run):
    got = run(cvloss, *REGIMES, 0.2)
    loss, _ = loss_and_frac(got)
    expect_close(loss, 0.5 * (0.81 + 0.64 + 2.25 + 2.25) / 4,
                 "loss = 0.5 * mean(max((V - R)^2, (V_clip - R)^2)) with V_clip = clamp(V, V_old - eps, V_old + eps)",
                 what="loss")


@check("clip_frac is the fraction of tokens where the clipped error is strictly the larger")
def clip_frac_small_case(run):
    got = run(cvloss, *REGIMES, 0.2)
    _, clip_frac = loss_and_frac(got)
    expect_close(clip_frac, 0.25, "clip_frac = mean of [(V_clip - R)^2 > (V - R)^2]: only the token that moved past "
                 "the clip range towards its target counts (1 of 4)", what="clip_frac")


@check("both losses average over the positions where mask is True only")
def masked_mean(run):
    mask = torch.tensor([[True, True, False], [True, False, False]])
    values = torch.tensor([[1.0, 0.0, 100.0], [2.0, -50.0, 7.0]])
    returns = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    got = run(vloss, values, returns, mask)
    expect_close(got["loss"], 0.5 * (1.0 + 0.0 + 4.0) / 3, "average over the True positions only: "
                 "0.5 * (1 + 0 + 4) / 3", what="value_loss")
    got = run(cvloss, values, values.clone(), returns, 0.2, mask)     # V = V_old: nothing is clipped
    loss, _ = loss_and_frac(got)
    expect_close(loss, 0.5 * (1.0 + 0.0 + 4.0) / 3, "average over the True positions only: "
                 "0.5 * (1 + 0 + 4) / 3", what="clipped_value_loss")
