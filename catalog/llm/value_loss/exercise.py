"""The PPO value loss: regress the value head on the returns, with or without clipping.

PPO trains two heads at once.  The policy gets the clipped surrogate of the ppo_objective
exercise; the *value head* V(s_t) -- a scalar per token in RLHF -- is regressed on the returns
``R_t = A_t + V_old(s_t)`` that GAE produced.  The plain loss is half the mean squared error

    value_loss = 0.5 * mean((V - R)^2)

OpenAI's baselines (``ppo2``) added a trust region for the value head too, copied by TRL's
``PPOTrainer``: the new prediction is clipped to within ``eps`` of the prediction made when the
rollouts were collected, ``V_clip = clip(V, V_old - eps, V_old + eps)``, and the *larger* of the
two squared errors is kept -- a pessimistic bound, like the ``min`` of the policy objective (a
loss is minimised, so pessimism means ``max``):

    clipped_value_loss = 0.5 * mean(max((V - R)^2, (V_clip - R)^2))

The clipped error is the larger one exactly when the prediction has moved more than ``eps``
away from ``V_old`` *towards* the target: the kept term is then constant in V, the position
contributes no gradient, and the head cannot chase the target further in this update.  Note
that ``eps`` is measured in the units of the value (TRL's ``cliprange_value``), not as a ratio.
(Engstrom et al., 2020, "Implementation Matters in Deep Policy Gradients", found that value
clipping rarely helps -- a good thing to know in an interview.)

Alongside the loss TRL logs ``val/clipfrac``: the fraction of positions where the clipped
error is strictly the larger one.

Batches are padded: ``mask`` marks the real tokens, and whatever sits at padded positions (it
may be huge, inf or NaN) must never reach a result.  Mirror the formulas of TRL's
``PPOTrainer`` (``vf_losses1``, ``vf_losses2``, ``vf_loss``, ``vf_clipfrac`` in
``trl/trainer/ppo_trainer.py``).
"""
from typing import Optional, Tuple

import torch


def value_loss(values: torch.Tensor, returns: torch.Tensor,
               mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """The unclipped value loss, half the mean squared error over the True positions.

    Args:
        values: V(s_t), the value head's current predictions, any shape, float.
        returns: the regression targets R_t, same shape.
        mask: boolean, same shape; only positions where it is True count (at least one is True).
            None: all count.  Values at masked-out positions are arbitrary (even inf/NaN).

    Returns:
        ``0.5 * mean over the True positions of (values - returns)^2``, a 0-dim tensor of the
        inputs' dtype, differentiable with respect to ``values``.  The inputs are not modified.
    """
    ### BEGIN SOLUTION
    if mask is not None:
        values, returns = values[mask], returns[mask]  # (N,) only the True positions are read
    return 0.5 * ((values - returns) ** 2).mean()
    ### END SOLUTION


def clipped_value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
                       clip_eps: float = 0.2,
                       mask: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """The clipped value loss of PPO (baselines ppo2, TRL) and the fraction of positions clipped.

    Args:
        values: V(s_t), the value head's current predictions, any shape, float.
        old_values: V_old(s_t), the predictions made when the rollouts were collected, same shape.
        returns: the regression targets R_t, same shape.
        clip_eps: the clip range, in the units of the value: ``V_clip`` stays within
            ``[old_values - clip_eps, old_values + clip_eps]``.
        mask: boolean, same shape; only positions where it is True count (at least one is True).
            None: all count.  Values at masked-out positions are arbitrary (even inf/NaN).

    With ``V_clip = clamp(values, old_values - clip_eps, old_values + clip_eps)``:

        loss      = 0.5 * mean over True positions of max((values - R)^2, (V_clip - R)^2)
        clip_frac = fraction of True positions where (V_clip - R)^2 > (values - R)^2 (strictly)

    Returns:
        ``(loss, clip_frac)``: ``loss`` is a 0-dim tensor of the inputs' dtype, differentiable
        with respect to ``values``; ``clip_frac`` is a 0-dim float tensor in [0, 1] that carries
        no gradient.  The inputs are not modified.
    """
    ### BEGIN SOLUTION
    if mask is not None:                               # (N,) only the True positions are read
        values, old_values, returns = values[mask], old_values[mask], returns[mask]
    values_clipped = torch.clamp(values, old_values - clip_eps, old_values + clip_eps)
    unclipped = (values - returns) ** 2
    clipped = (values_clipped - returns) ** 2
    loss = 0.5 * torch.maximum(unclipped, clipped).mean()     # the pessimistic bound
    clip_frac = (clipped > unclipped).to(values.dtype).mean()
    return loss, clip_frac
    ### END SOLUTION
