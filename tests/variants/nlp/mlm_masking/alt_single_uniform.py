# CORRECT, written differently: one uniform number per position for the selection and one for the action, split by thresholds.
import torch


def mask_tokens(input_ids, mask_token_id, vocab_size, special_token_ids, mlm_probability=0.15, generator=None):
    special = torch.zeros(input_ids.shape, dtype=torch.bool)
    for sid in special_token_ids:
        special |= input_ids == sid
    selected = (torch.rand(input_ids.shape, generator=generator) < mlm_probability) & ~special
    action = torch.rand(input_ids.shape, generator=generator)          # [0, .8) mask, [.8, .9) random, rest keep
    words = torch.randint(0, vocab_size, input_ids.shape, generator=generator)
    inputs = torch.where(selected & (action < 0.8), torch.full_like(input_ids, mask_token_id), input_ids)
    inputs = torch.where(selected & (action >= 0.8) & (action < 0.9), words, inputs)
    labels = torch.where(selected, input_ids, torch.full_like(input_ids, -100))
    return inputs, labels
