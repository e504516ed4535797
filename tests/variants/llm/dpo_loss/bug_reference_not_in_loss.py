# BUG: drops the reference model from the loss (the "reference-free" shortcut) while still reporting rewards against it.
import torch.nn.functional as F


def dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta=0.1):
    losses = -F.logsigmoid(beta * (policy_chosen_logps - policy_rejected_logps))
    chosen_rewards = beta * (policy_chosen_logps - ref_chosen_logps).detach()
    rejected_rewards = beta * (policy_rejected_logps - ref_rejected_logps).detach()
    return losses, chosen_rewards, rejected_rewards
