# BUG: turns the margin into a Python float, which fails for one margin per pair and cuts the margin out of the graph.
import torch
import torch.nn.functional as F


def preference_probability(reward_a, reward_b):
    return torch.sigmoid(reward_a - reward_b)


def bradley_terry_loss(chosen_rewards, rejected_rewards, margin=None):
    m = 0.0 if margin is None else float(margin)
    return -F.logsigmoid(chosen_rewards - rejected_rewards - m).mean()
