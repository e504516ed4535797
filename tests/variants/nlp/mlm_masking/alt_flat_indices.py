# CORRECT, written differently: works on the flat index list of the selected positions and draws each target's fate with torch.multinomial.
import torch


def mask_tokens(input_ids, mask_token_id, vocab_size, special_token_ids, mlm_probability=0.15, generator=None):
    flat = input_ids.reshape(-1)
    labels = torch.full_like(flat, -100)
    inputs = flat.clone()
    specials = set(int(s) for s in special_token_ids)
    candidates = torch.tensor([i for i, t in enumerate(flat.tolist()) if t not in specials], dtype=torch.long)
    if len(candidates) == 0:
        return inputs.view_as(input_ids), labels.view_as(input_ids)
    coins = torch.rand(len(candidates), generator=generator)
    targets = candidates[coins < mlm_probability]
    labels[targets] = flat[targets]
    if len(targets):
        fate = torch.multinomial(torch.tensor([0.8, 0.1, 0.1]), len(targets), replacement=True, generator=generator)
        inputs[targets[fate == 0]] = mask_token_id
        swap = targets[fate == 1]
        inputs[swap] = torch.randint(vocab_size, (len(swap),), generator=generator)
    return inputs.view_as(input_ids), labels.view_as(input_ids)
