# BUG: adds the margin to the reward gap instead of subtracting it (the chosen response gets a head start).
import torch
import torch.nn.functional as F


def preference_probability(reward_a, reward_b):
    return torch.sigmoid(reward_a - reward_b)


def bradley_terry_loss(chosen_rewards, rejected_rewards, margin=None):
    logits = chosen_rewards - rejected_rewards
    if margin is not None:
        logits = logits + margin
    return -F.logsigmoid(logits).mean()
