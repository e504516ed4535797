"""Reward-model loss: learning a scalar reward from pairwise human preferences.

In RLHF (Ouyang et al., 2022, "Training language models to follow instructions with human
feedback") the second stage trains a reward model r(x, y) that scores a response y to a prompt x.
People do not give scores; they pick the better of two responses.  The Bradley-Terry model links
the two: the probability that response a is preferred to response b is

    P(a > b) = sigmoid(r_a - r_b)

so only reward *differences* matter.  Training maximises the likelihood of the observed choices,
i.e. minimises the mean over pairs of  -log sigmoid(r_chosen - r_rejected).  Llama 2 (Touvron et
al., 2023) adds a per-pair ``margin``: a pair that people rated "much better" must be won by at
least that much, -log sigmoid(r_chosen - r_rejected - margin).

This is exactly what TRL's ``RewardTrainer.compute_loss`` (``trl/trainer/reward_trainer.py``)
computes.  A reward model can be confidently wrong: reward gaps of thousands must still give a
finite loss *and* finite gradients, which rules out the literal ``log(sigmoid(x))`` (in float32,
``sigmoid(-104.)`` is already exactly 0).
"""
from typing import Optional, Union

import torch
import torch.nn.functional as F


def preference_probability(reward_a: torch.Tensor, reward_b: torch.Tensor) -> torch.Tensor:
    """Bradley-Terry probability that a is preferred to b: ``sigmoid(reward_a - reward_b)``.

    Args:
        reward_a, reward_b: float tensors of shapes that broadcast against each other.

    Returns:
        a tensor of the broadcast shape and the inputs' dtype, entries in [0, 1].  It depends only
        on the difference of the rewards (rewards of 1000 and 999 give sigmoid(1)), and
        ``p(a, b) + p(b, a) == 1``.
    """
    ### BEGIN SOLUTION
    return torch.sigmoid(reward_a - reward_b)
    ### END SOLUTION


def bradley_terry_loss(chosen_rewards: torch.Tensor, rejected_rewards: torch.Tensor,
                       margin: Optional[Union[float, torch.Tensor]] = None) -> torch.Tensor:
    """Negative log-likelihood of the preferences, averaged over pairs (TRL's reward loss).

    Args:
        chosen_rewards: (B,) float tensor, the reward of the preferred response of each pair.
        rejected_rewards: (B,) float tensor, the reward of the other response.
        margin: None (no margin, same as 0), a float, or a tensor broadcastable to (B,)
            (e.g. one margin per pair); the chosen reward must beat the rejected one by it.

    Returns:
        a 0-dim tensor of the rewards' dtype: ``mean_i -log sigmoid(chosen_i - rejected_i - margin_i)``.
        Finite, with finite gradients with respect to every input, for reward gaps of +-1e4.
    """
    ### BEGIN SOLUTION
    logits = chosen_rewards - rejected_rewards          # (B,)
    if margin is not None:
        logits = logits - margin
    return -F.logsigmoid(logits).mean()
    ### END SOLUTION
