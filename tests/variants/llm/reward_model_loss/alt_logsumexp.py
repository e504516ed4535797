# CORRECT, written differently: the pair as a two-way softmax over [margin-shifted chosen, rejected]: -log softmax[chosen] via logsumexp.
import torch


def preference_probability(reward_a, reward_b):
    a, b = torch.broadcast_tensors(reward_a, reward_b)
    return torch.softmax(torch.stack([a, b]), dim=0)[0]


def bradley_terry_loss(chosen_rewards, rejected_rewards, margin=None):
    chosen = chosen_rewards if margin is None else chosen_rewards - margin
    chosen, rejected = torch.broadcast_tensors(chosen, rejected_rewards)
    both = torch.stack([chosen, rejected], dim=-1)                       # (B, 2)
    return (torch.logsumexp(both, dim=-1) - chosen).mean()
