# BUG: literal -log(sigmoid(x)): sigmoid underflows to 0 for large negative gaps, so the loss is inf and the gradient NaN.
import torch


def preference_probability(reward_a, reward_b):
    return torch.sigmoid(reward_a - reward_b)


def bradley_terry_loss(chosen_rewards, rejected_rewards, margin=None):
    logits = chosen_rewards - rejected_rewards
    if margin is not None:
        logits = logits - margin
    return -torch.log(torch.sigmoid(logits)).mean()
