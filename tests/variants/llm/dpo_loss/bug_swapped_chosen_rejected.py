# BUG: the log-ratio difference is rejected minus chosen, so training would prefer the rejected responses.
import torch.nn.functional as F


def dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta=0.1):
    chosen_logratios = policy_chosen_logps - ref_chosen_logps
    rejected_logratios = policy_rejected_logps - ref_rejected_logps
    losses = -F.logsigmoid(beta * (rejected_logratios - chosen_logratios))
    return losses, beta * chosen_logratios.detach(), beta * rejected_logratios.detach()
