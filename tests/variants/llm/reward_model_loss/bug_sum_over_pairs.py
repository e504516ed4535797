# BUG: sums the per-pair losses instead of averaging them (the loss scale grows with the batch size).
import torch
import torch.nn.functional as F


def preference_probability(reward_a, reward_b):
    return torch.sigmoid(reward_a - reward_b)


def bradley_terry_loss(chosen_rewards, rejected_rewards, margin=None):
    logits = chosen_rewards - rejected_rewards
    if margin is not None:
        logits = logits - margin
    return -F.logsigmoid(logits).sum()
