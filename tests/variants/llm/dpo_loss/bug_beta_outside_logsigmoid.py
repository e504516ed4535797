# BUG: scales the log-sigmoid by beta instead of its argument: beta * -logsigmoid(z) rather than -logsigmoid(beta * z).
import torch.nn.functional as F


def dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta=0.1):
    chosen_logratios = policy_chosen_logps - ref_chosen_logps
    rejected_logratios = policy_rejected_logps - ref_rejected_logps
    losses = -beta * F.logsigmoid(chosen_logratios - rejected_logratios)
    return losses, beta * chosen_logratios.detach(), beta * rejected_logratios.detach()
