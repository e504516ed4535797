# BUG: "stable" log-sigmoid via torch.where over two branches: the loss is finite but the untaken branch overflows and its gradient is NaN.
import torch


def preference_probability(reward_a, reward_b):
    return torch.sigmoid(reward_a - reward_b)


def bradley_terry_loss(chosen_rewards, rejected_rewards, margin=None):
    x = chosen_rewards - rejected_rewards
    if margin is not None:
        x = x - margin
    # -log sigmoid(x) = log(1 + e^-x) for x >= 0, and -x + log(1 + e^x) for x < 0
    per_pair = torch.where(x >= 0, torch.log1p(torch.exp(-x)), -x + torch.log1p(torch.exp(x)))
    return per_pair.mean()
