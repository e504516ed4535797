# BUG: binary cross-entropy on sigmoid probabilities: torch clamps log(p) at -100, so a gap of -1e4 costs 100 with zero gradient.
import torch
import torch.nn.functional as F


def preference_probability(reward_a, reward_b):
    return torch.sigmoid(reward_a - reward_b)


def bradley_terry_loss(chosen_rewards, rejected_rewards, margin=None):
    logits = chosen_rewards - rejected_rewards
    if margin is not None:
        logits = logits - margin
    p = torch.sigmoid(logits)
    return F.binary_cross_entropy(p, torch.ones_like(p))
