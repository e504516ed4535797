# BUG: uses 0 instead of -100 for "not a target" -- cross_entropy would then train every position to predict token 0.
import torch


def mask_tokens(input_ids, mask_token_id, vocab_size, special_token_ids, mlm_probability=0.15, generator=None):
    special = torch.isin(input_ids, torch.tensor(list(special_token_ids), dtype=torch.long))
    probs = torch.full(input_ids.shape, float(mlm_probability)).masked_fill(special, 0.0)
    selected = torch.bernoulli(probs, generator=generator).bool()
    labels = input_ids * selected
    inputs = input_ids.clone()
    masked = torch.bernoulli(torch.full(input_ids.shape, 0.8), generator=generator).bool() & selected
    inputs[masked] = mask_token_id
    randomized = torch.bernoulli(torch.full(input_ids.shape, 0.5), generator=generator).bool() & selected & ~masked
    inputs[randomized] = torch.randint(vocab_size, input_ids.shape, generator=generator)[randomized]
    return inputs, labels
