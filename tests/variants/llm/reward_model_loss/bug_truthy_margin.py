# BUG: tests the margin with `if margin:`, which raises for a tensor with several margins (and is fragile for 0-dim ones).
import torch
import torch.nn.functional as F


def preference_probability(reward_a, reward_b):
    return torch.sigmoid(reward_a - reward_b)


def bradley_terry_loss(chosen_rewards, rejected_rewards, margin=None):
    logits = chosen_rewards - rejected_rewards
    if margin:
        logits = logits - margin
    return -F.logsigmoid(logits).mean()
