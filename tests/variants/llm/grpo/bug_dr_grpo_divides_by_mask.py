# BUG: 'dr_grpo' divides by the number of completion tokens, which brings back the length bias it removes.
from typing import Optional, Tuple

import torch


def completion_logps(logits: torch.Tensor, completion_ids: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Per-token log-probabilities of the completion tokens under a causal LM.

    Args:
        logits: float ``(N, P + C, V)``, the model's logits over ``prompt + completion``;
            ``logits[:, t]`` is the distribution of the token at ``t + 1``.
        completion_ids: int64 ``(N, C)``, the last ``C`` tokens of the sequence (``1 <= C < P + C``).
        temperature: the sampling temperature (> 0); the logits are divided by it before the
            log-softmax, as the completions were sampled from ``softmax(logits / temperature)``.

    Returns:
        float ``(N, C)`` (float32 for half-precision logits, else the logits' dtype):
        ``out[n, j] = log_softmax(logits[n, P + j - 1] / temperature)[completion_ids[n, j]]``,
        differentiable w.r.t. ``logits``, finite for any finite logits.
    """
    C = completion_ids.shape[1]
    scores = logits[:, -C - 1:-1]                                      # (N, C, V) predict the completion
    if scores.dtype in (torch.float16, torch.bfloat16):
        scores = scores.float()
    logp = torch.log_softmax(scores / temperature, dim=-1)              # (N, C, V)
    return logp.gather(-1, completion_ids.unsqueeze(-1)).squeeze(-1)    # (N, C)


def group_advantages(rewards: torch.Tensor, num_generations: int, scale: str = "group") -> torch.Tensor:
    """Group-relative advantages of ``N = num_prompts * num_generations`` completions.

    Args:
        rewards: float ``(N,)``; completions of the same prompt are consecutive: entries
            ``[k * G, (k + 1) * G)`` form group ``k`` (``G = num_generations >= 2``).
        num_generations: ``G``, the group size; ``N`` is a multiple of it.
        scale: ``"group"`` -- ``(r - group mean) / (group std + 1e-4)``;
            ``"batch"`` -- ``(r - group mean) / (std of all N rewards + 1e-4)``;
            ``"none"`` -- ``r - group mean`` (Dr. GRPO).  Stds use Bessel's correction (divide by n - 1).

    Returns:
        float ``(N,)`` of the rewards' dtype; a group whose rewards are all equal gets advantages
        exactly 0.  Not part of any autograd graph the loss needs (rewards carry no gradient).
    """
    grouped = rewards.view(-1, num_generations)                                    # (num_prompts, G)
    mean = grouped.mean(dim=1).repeat_interleave(num_generations)                  # (N,)
    advantages = rewards - mean
    if scale == "group":
        std = grouped.std(dim=1).repeat_interleave(num_generations)                # (N,) unbiased
    elif scale == "batch":
        std = rewards.std().expand_as(rewards)
    elif scale == "none":
        return advantages
    else:
        raise ValueError(f"scale must be 'group', 'batch' or 'none', not {scale!r}")
    return advantages / (std + 1e-4)


def grpo_loss(logps: torch.Tensor, old_logps: torch.Tensor, ref_logps: Optional[torch.Tensor],
              advantages: torch.Tensor, completion_mask: torch.Tensor, epsilon: float = 0.2,
              epsilon_high: Optional[float] = None, beta: float = 0.0, loss_type: str = "grpo",
              max_completion_length: Optional[int] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """The GRPO loss of a batch of completions, and the fraction of tokens the clip deactivated.

    Args:
        logps: float ``(N, C)``, per-token log-probs under the policy being trained (differentiable).
        old_logps: float ``(N, C)``, the same tokens under the policy that sampled them (no gradient).
        ref_logps: float ``(N, C)`` under the frozen reference model; may be None when ``beta == 0``.
        advantages: float ``(N,)``, one per completion (``group_advantages``), given to all its tokens.
        completion_mask: ``(N, C)`` of 0/1 (int or bool): 1 on completion tokens, 0 on padding after
            the end of a completion.
        epsilon: the lower clip range: ratios below ``1 - epsilon`` are clipped.
        epsilon_high: the upper clip range (DAPO's "clip-higher"); None means ``epsilon``.
        beta: the KL coefficient; 0 means no KL term (TRL's default).
        loss_type: ``"grpo"``, ``"bnpo"`` or ``"dr_grpo"`` (module docstring); anything else raises ValueError.
        max_completion_length: the divisor of ``"dr_grpo"`` (``N * max_completion_length``); None means ``C``.

    Per token: ``rho = exp(logps - old_logps)``; ``loss_t = -min(rho * A, clamp(rho, 1 - epsilon,
    1 + epsilon_high) * A) + beta * (exp(ref - logps) - (ref - logps) - 1)``.  Masked tokens never
    count; a completion with no token counts as having mean 0 (divide by ``max(count, 1)``).

    Returns:
        ``(loss, clip_ratio)``: ``loss`` a 0-dim tensor differentiable w.r.t. ``logps``;
        ``clip_ratio`` a detached 0-dim tensor, the fraction of completion tokens where the clip is
        active: ``(rho < 1 - epsilon and A < 0) or (rho > 1 + epsilon_high and A > 0)`` (0 when no
        token counts).
    """
    if loss_type not in ("grpo", "bnpo", "dr_grpo"):
        raise ValueError(f"loss_type must be 'grpo', 'bnpo' or 'dr_grpo', not {loss_type!r}")
    eps_high = epsilon if epsilon_high is None else epsilon_high
    mask = completion_mask.to(logps.dtype)                                 # (N, C)
    A = advantages.unsqueeze(1)                                            # (N, 1)
    ratio = torch.exp(logps - old_logps)                                   # (N, C)
    clipped = torch.clamp(ratio, 1 - epsilon, 1 + eps_high)
    per_token = -torch.min(ratio * A, clipped * A)                         # (N, C)
    if beta != 0.0:
        delta = ref_logps - logps
        per_token = per_token + beta * (torch.exp(delta) - delta - 1)      # k3 estimate of KL(pi || ref)
    if loss_type == "grpo":
        loss = ((per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    elif loss_type == "bnpo":
        loss = (per_token * mask).sum() / mask.sum().clamp(min=1.0)
    else:
        length = logps.shape[1] if max_completion_length is None else max_completion_length
        loss = (per_token * mask).sum() / mask.sum().clamp(min=1.0)
    active = ((ratio < 1 - epsilon) & (A < 0)) | ((ratio > 1 + eps_high) & (A > 0))   # (N, C)
    clip_ratio = (active.to(mask.dtype) * mask).sum() / mask.sum().clamp(min=1.0)
    return loss, clip_ratio.detach()
