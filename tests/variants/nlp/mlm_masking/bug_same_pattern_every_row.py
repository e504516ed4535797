# BUG: draws one selection pattern of length T and broadcasts it over the batch -- every row masks the same columns.
import torch


def mask_tokens(input_ids, mask_token_id, vocab_size, special_token_ids, mlm_probability=0.15, generator=None):
    special = torch.isin(input_ids, torch.tensor(list(special_token_ids), dtype=torch.long))
    coins = torch.rand(input_ids.shape[-1:], generator=generator) < mlm_probability   # (T,)
    selected = coins.expand(input_ids.shape) & ~special                              # (..., T)
    labels = torch.where(selected, input_ids, -100)
    inputs = input_ids.clone()
    masked = torch.bernoulli(torch.full(input_ids.shape, 0.8), generator=generator).bool() & selected
    inputs[masked] = mask_token_id
    randomized = torch.bernoulli(torch.full(input_ids.shape, 0.5), generator=generator).bool() & selected & ~masked
    inputs[randomized] = torch.randint(vocab_size, input_ids.shape, generator=generator)[randomized]
    return inputs, labels
