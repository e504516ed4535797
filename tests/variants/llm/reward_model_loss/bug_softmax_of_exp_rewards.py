# BUG: preference probability as exp(r_a) / (exp(r_a) + exp(r_b)): right on paper, but exp overflows for large rewards (inf / inf = NaN).
import torch
import torch.nn.functional as F


def preference_probability(reward_a, reward_b):
    ea, eb = torch.exp(reward_a), torch.exp(reward_b)
    return ea / (ea + eb)


def bradley_terry_loss(chosen_rewards, rejected_rewards, margin=None):
    logits = chosen_rewards - rejected_rewards
    if margin is not None:
        logits = logits - margin
    return -F.logsigmoid(logits).mean()
