"""Direct Preference Optimization (DPO): preference learning without a reward model or PPO.

RLHF maximises a learned reward while a KL penalty keeps the policy pi near a reference model
pi_ref.  Rafailov et al. (2023, "Direct Preference Optimization: Your Language Model is Secretly
a Reward Model") show that the optimum of that objective has a closed form, which turns it around:
any policy defines an *implicit reward*

    r(x, y) = beta * (log pi(y|x) - log pi_ref(y|x))          (up to a term that depends on x only)

Put that reward into the Bradley-Terry loss of the reward-model exercise and the x-only term
cancels; what is left trains the policy directly on (chosen, rejected) pairs:

    loss_i = -log sigmoid(beta * [(log pi(y_c) - log pi_ref(y_c)) - (log pi(y_r) - log pi_ref(y_r))])

beta plays the role of the KL coefficient: small beta lets the policy drift far from the reference.

Inputs are *sequence* log-probabilities (sums over the response tokens), one number per response.
Implement the "sigmoid" loss exactly as TRL's ``DPOTrainer`` computes it
(``trl/trainer/dpo_trainer.py``), but return one loss per pair (TRL averages them afterwards),
together with the implicit rewards it logs (``rewards/chosen``, ``rewards/margins``, ...).
"""
from typing import Tuple

import torch
import torch.nn.functional as F


def dpo_loss(policy_chosen_logps: torch.Tensor, policy_rejected_logps: torch.Tensor,
             ref_chosen_logps: torch.Tensor, ref_rejected_logps: torch.Tensor,
             beta: float = 0.1) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The sigmoid DPO loss of each preference pair, and the implicit rewards.

    Args:
        policy_chosen_logps: (B,) float tensor, log pi(chosen response | prompt) under the policy.
        policy_rejected_logps: (B,) float tensor, log pi(rejected response | prompt) under the policy.
        ref_chosen_logps: (B,) float tensor, the same for the chosen response under the reference model.
        ref_rejected_logps: (B,) float tensor, the same for the rejected response under the reference model.
        beta: the KL coefficient (a positive float).

    Returns:
        ``(losses, chosen_rewards, rejected_rewards)``, three (B,) tensors of the inputs' dtype:

        * ``losses = -log sigmoid(beta * ((policy_chosen_logps - ref_chosen_logps)
          - (policy_rejected_logps - ref_rejected_logps)))``, one loss per pair, differentiable with
          respect to all four inputs, finite with finite gradients even when the log-ratio difference
          is in the thousands;
        * ``chosen_rewards = beta * (policy_chosen_logps - ref_chosen_logps)`` and
          ``rejected_rewards = beta * (policy_rejected_logps - ref_rejected_logps)``, detached from the
          autograd graph (``requires_grad`` is False): they are for logging, not for training.
    """
    ### BEGIN SOLUTION
    chosen_logratios = policy_chosen_logps - ref_chosen_logps            # (B,)
    rejected_logratios = policy_rejected_logps - ref_rejected_logps      # (B,)
    losses = -F.logsigmoid(beta * (chosen_logratios - rejected_logratios))
    chosen_rewards = beta * chosen_logratios.detach()
    rejected_rewards = beta * rejected_logratios.detach()
    return losses, chosen_rewards, rejected_rewards
    ### END SOLUTION
