# BUG: the second draw uses probability 0.1 instead of 0.5 -- 10% of the remaining 20%, so only 2% of the targets get a random token.
import torch


def mask_tokens(input_ids, mask_token_id, vocab_size, special_token_ids, mlm_probability=0.15, generator=None):
    special = torch.isin(input_ids, torch.tensor(list(special_token_ids), dtype=torch.long))
    probs = torch.full(input_ids.shape, float(mlm_probability)).masked_fill(special, 0.0)
    selected = torch.bernoulli(probs, generator=generator).bool()
    labels = input_ids.clone()
    labels[~selected] = -100
    inputs = input_ids.clone()
    masked = selected & (torch.rand(input_ids.shape, generator=generator) < 0.8)
    inputs[masked] = mask_token_id
    randomized = selected & ~masked & (torch.rand(input_ids.shape, generator=generator) < 0.1)
    inputs[randomized] = torch.randint(vocab_size, input_ids.shape, generator=generator)[randomized]
    return inputs, labels
