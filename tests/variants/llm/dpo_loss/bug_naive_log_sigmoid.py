# BUG: literal -log(sigmoid(beta * z)): inf losses and NaN gradients once beta * z is below about -100 (float32).
import torch


def dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta=0.1):
    chosen_logratios = policy_chosen_logps - ref_chosen_logps
    rejected_logratios = policy_rejected_logps - ref_rejected_logps
    losses = -torch.log(torch.sigmoid(beta * (chosen_logratios - rejected_logratios)))
    return losses, beta * chosen_logratios.detach(), beta * rejected_logratios.detach()
