# BUG: the selection uses `generator` but the random replacement tokens come from the global RNG -- not reproducible.
import torch


def mask_tokens(input_ids, mask_token_id, vocab_size, special_token_ids, mlm_probability=0.15, generator=None):
    special = torch.isin(input_ids, torch.tensor(list(special_token_ids), dtype=torch.long))
    probs = torch.full(input_ids.shape, float(mlm_probability)).masked_fill(special, 0.0)
    selected = torch.bernoulli(probs, generator=generator).bool()
    labels = torch.where(selected, input_ids, -100)
    inputs = input_ids.clone()
    masked = torch.bernoulli(torch.full(input_ids.shape, 0.8), generator=generator).bool() & selected
    inputs[masked] = mask_token_id
    randomized = torch.bernoulli(torch.full(input_ids.shape, 0.5), generator=generator).bool() & selected & ~masked
    inputs[randomized] = torch.randint(vocab_size, input_ids.shape)[randomized]
    return inputs, labels
