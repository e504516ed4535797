# BUG: off by one: blocks the diagonal too, so a token cannot attend to itself (and row 0 sees nothing).
import torch


def causal_mask(T, device=None):
    return torch.ones(T, T, dtype=torch.bool, device=device).tril(diagonal=-1)


def lengths_to_padding_mask(lengths, max_len=None):
    longest = int(lengths.max()) if lengths.numel() else 0
    if max_len is None:
        max_len = longest
    elif max_len < longest:
        raise ValueError("max_len too short")
    return torch.arange(max_len).unsqueeze(0) < lengths.unsqueeze(1)


def ids_to_padding_mask(input_ids, pad_id):
    return input_ids != pad_id


def build_attention_mask(padding_mask, causal=True):
    B, T = padding_mask.shape
    keys = padding_mask.bool().view(B, 1, 1, T)
    if causal:
        keys = keys & causal_mask(T)
    return keys.expand(B, 1, T, T).clone()


def to_additive_mask(mask, dtype=torch.float32, fill=None):
    blocked = float("-inf") if fill is None else fill
    return torch.zeros(mask.shape, dtype=dtype).masked_fill(~mask, blocked)
