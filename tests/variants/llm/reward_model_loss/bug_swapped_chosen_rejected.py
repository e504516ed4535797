# BUG: swaps chosen and rejected: rewards the model for preferring the rejected response.
import torch
import torch.nn.functional as F


def preference_probability(reward_a, reward_b):
    return torch.sigmoid(reward_a - reward_b)


def bradley_terry_loss(chosen_rewards, rejected_rewards, margin=None):
    logits = rejected_rewards - chosen_rewards
    if margin is not None:
        logits = logits - margin
    return -F.logsigmoid(logits).mean()
