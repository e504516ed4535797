# CORRECT, written differently: index comparisons instead of tril, a padding mask from a cumulative
# count, an einsum to combine, and log() for the additive mask (log 1 = 0, log 0 = -inf).
import torch


def causal_mask(T, device=None):
    i = torch.arange(T, device=device)
    return i[None, :] <= i[:, None]                       # key index <= query index


def lengths_to_padding_mask(lengths, max_len=None):
    lengths = lengths.long()
    T = max_len if max_len is not None else (lengths.max().item() if len(lengths) else 0)
    if len(lengths) and lengths.max().item() > T:
        raise ValueError(f"a sequence is longer than max_len={T}")
    count = torch.ones(len(lengths), T, dtype=torch.long).cumsum(dim=1)     # 1, 2, ..., T
    return count <= lengths[:, None]


def ids_to_padding_mask(input_ids, pad_id):
    return torch.ne(input_ids, pad_id)


def build_attention_mask(padding_mask, causal=True):
    keys = (padding_mask != 0).to(torch.float32)                            # (B, T)
    T = keys.shape[1]
    grid = causal_mask(T).float() if causal else torch.ones(T, T)
    return torch.einsum("bj,ij->bij", keys, grid).unsqueeze(1) > 0.5         # (B, 1, T, T)


def to_additive_mask(mask, dtype=torch.float32, fill=None):
    if fill is None:
        return torch.log(mask.to(dtype))
    return torch.where(mask, torch.tensor(0.0, dtype=dtype), torch.tensor(fill, dtype=dtype))
