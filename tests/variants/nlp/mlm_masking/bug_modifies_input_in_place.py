# BUG: corrupts input_ids in place (inputs = input_ids, no clone) -- the caller's batch is destroyed.
import torch


def mask_tokens(input_ids, mask_token_id, vocab_size, special_token_ids, mlm_probability=0.15, generator=None):
    labels = input_ids.clone()
    special = torch.isin(input_ids, torch.tensor(list(special_token_ids), dtype=torch.long))
    probs = torch.full(input_ids.shape, float(mlm_probability)).masked_fill(special, 0.0)
    selected = torch.bernoulli(probs, generator=generator).bool()
    labels[~selected] = -100
    inputs = input_ids
    masked = torch.bernoulli(torch.full(input_ids.shape, 0.8), generator=generator).bool() & selected
    inputs[masked] = mask_token_id
    randomized = torch.bernoulli(torch.full(input_ids.shape, 0.5), generator=generator).bool() & selected & ~masked
    inputs[randomized] = torch.randint(vocab_size, input_ids.shape, generator=generator)[randomized]
    return inputs, labels
