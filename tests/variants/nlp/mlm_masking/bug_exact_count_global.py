# BUG: shuffles the selectable positions and takes exactly round(mlm_probability * n) of them -- the number of targets never varies.
import torch


def mask_tokens(input_ids, mask_token_id, vocab_size, special_token_ids, mlm_probability=0.15, generator=None):
    flat = input_ids.reshape(-1)
    special = torch.isin(flat, torch.tensor(list(special_token_ids), dtype=torch.long))
    candidates = torch.nonzero(~special).squeeze(1)
    k = round(mlm_probability * len(candidates))
    chosen = candidates[torch.randperm(len(candidates), generator=generator)[:k]]
    selected = torch.zeros_like(flat, dtype=torch.bool)
    selected[chosen] = True
    labels = torch.where(selected, flat, -100)
    inputs = flat.clone()
    masked = torch.bernoulli(torch.full(flat.shape, 0.8), generator=generator).bool() & selected
    inputs[masked] = mask_token_id
    randomized = torch.bernoulli(torch.full(flat.shape, 0.5), generator=generator).bool() & selected & ~masked
    inputs[randomized] = torch.randint(vocab_size, flat.shape, generator=generator)[randomized]
    return inputs.view_as(input_ids), labels.view_as(input_ids)
