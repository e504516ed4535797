# CORRECT, written differently: -log sigmoid(x) = softplus(-x); the probability as 1 / (1 + e^-(a - b)), margin folded in with a zero default.
import torch
import torch.nn.functional as F


def preference_probability(reward_a, reward_b):
    # exp(-gap) may overflow to inf for a gap of -1e4; 1 / (1 + inf) is still exactly 0.
    return 1.0 / (1.0 + torch.exp(-(reward_a - reward_b)))


def bradley_terry_loss(chosen_rewards, rejected_rewards, margin=None):
    margin = 0.0 if margin is None else margin
    per_pair = F.softplus(rejected_rewards - chosen_rewards + margin)   # (B,)
    return per_pair.sum() / per_pair.numel()
