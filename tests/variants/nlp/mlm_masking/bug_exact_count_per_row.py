# BUG: selects exactly round(mlm_probability * n) tokens in every row (the k lowest random scores) instead of each token independently.
import torch


def mask_tokens(input_ids, mask_token_id, vocab_size, special_token_ids, mlm_probability=0.15, generator=None):
    ids = input_ids.reshape(-1, input_ids.shape[-1])                                    # (rows, T)
    special = torch.isin(ids, torch.tensor(list(special_token_ids), dtype=torch.long))
    scores = torch.rand(ids.shape, generator=generator).masked_fill(special, 2.0)
    k = (~special).sum(dim=1, keepdim=True).mul(mlm_probability).round().long()        # (rows, 1)
    rank = scores.argsort(dim=1).argsort(dim=1)                                          # (rows, T)
    selected = (rank < k) & ~special
    labels = torch.where(selected, ids, -100)
    inputs = ids.clone()
    masked = torch.bernoulli(torch.full(ids.shape, 0.8), generator=generator).bool() & selected
    inputs[masked] = mask_token_id
    randomized = torch.bernoulli(torch.full(ids.shape, 0.5), generator=generator).bool() & selected & ~masked
    inputs[randomized] = torch.randint(vocab_size, ids.shape, generator=generator)[randomized]
    return inputs.reshape(input_ids.shape), labels.reshape(input_ids.shape)
