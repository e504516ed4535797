# CORRECT, written differently: -log sigmoid(x) = softplus(-x); the rewards computed under torch.no_grad() instead of .detach().
import torch
import torch.nn.functional as F


def dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta=0.1):
    pi_logratios = policy_chosen_logps - policy_rejected_logps          # (B,)
    ref_logratios = ref_chosen_logps - ref_rejected_logps                # (B,)
    losses = F.softplus(beta * (ref_logratios - pi_logratios))
    with torch.no_grad():
        chosen_rewards = beta * (policy_chosen_logps - ref_chosen_logps)
        rejected_rewards = beta * (policy_rejected_logps - ref_rejected_logps)
    return losses, chosen_rewards, rejected_rewards
