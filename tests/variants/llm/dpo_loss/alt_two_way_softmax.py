# CORRECT, written differently: DPO as a two-way classification over the implicit rewards: -log_softmax([r_c, r_r])[0].
import torch


def dpo_loss(policy_chosen_logps, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, beta=0.1):
    rewards = beta * torch.stack([policy_chosen_logps - ref_chosen_logps,
                                  policy_rejected_logps - ref_rejected_logps], dim=-1)   # (B, 2)
    losses = -torch.log_softmax(rewards, dim=-1)[..., 0]                                 # (B,)
    chosen_rewards, rejected_rewards = rewards.detach().unbind(dim=-1)
    return losses, chosen_rewards, rejected_rewards
