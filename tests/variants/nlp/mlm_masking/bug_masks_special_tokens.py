# BUG: ignores special_token_ids -- [CLS], [SEP] and padding can be selected and masked too.
import torch


def mask_tokens(input_ids, mask_token_id, vocab_size, special_token_ids, mlm_probability=0.15, generator=None):
    labels = input_ids.clone()
    selected = torch.bernoulli(torch.full(input_ids.shape, mlm_probability), generator=generator).bool()
    labels[~selected] = -100
    inputs = input_ids.clone()
    masked = torch.bernoulli(torch.full(input_ids.shape, 0.8), generator=generator).bool() & selected
    inputs[masked] = mask_token_id
    randomized = torch.bernoulli(torch.full(input_ids.shape, 0.5), generator=generator).bool() & selected & ~masked
    inputs[randomized] = torch.randint(vocab_size, input_ids.shape, generator=generator)[randomized]
    return inputs, labels
