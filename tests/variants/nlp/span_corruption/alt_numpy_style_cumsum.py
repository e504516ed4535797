# CORRECT, written differently: the mask from run-start indicators and a cumulative sum (as the T5 code does); corrupt with itertools.groupby.
from itertools import groupby

import torch


def random_segmentation(num_items, num_segments, generator):
    first = torch.zeros(num_items, dtype=torch.long)
    cuts = torch.randperm(num_items - 1, generator=generator)[: num_segments - 1]
    first[cuts + 1] = 1
    segment_id = torch.cumsum(first, 0)
    return torch.bincount(segment_id, minlength=num_segments).tolist()


def random_spans_noise_mask(length, noise_density, mean_noise_span_length, generator):
    n_noise = round(length * noise_density)
    n_spans = max(round(min(n_noise, length - n_noise) / mean_noise_span_length), 1)
    n_noise = min(max(n_noise, 1), length - 1)
    n_spans = max(round(min(n_noise, length - round(length * noise_density)) / mean_noise_span_length), 1)
    noise = random_segmentation(n_noise, n_spans, generator)
    kept = random_segmentation(length - n_noise, n_spans, generator)
    lengths = torch.tensor([x for pair in zip(kept, noise) for x in pair])
    starts = torch.zeros(length, dtype=torch.long)
    starts[torch.cumsum(lengths, 0)[:-1]] = 1
    return torch.cumsum(starts, 0) % 2 == 1


def corrupt(tokens, noise_mask, vocab_size, eos_id):
    def hide(flags):
        out, k = [], 0
        for hidden, run in groupby(zip(tokens, flags), key=lambda p: p[1]):
            if hidden:
                out.append(vocab_size - 1 - k)
                k += 1
            else:
                out += [t for t, _ in run]
        return out + [eos_id]
    flags = [bool(m) for m in noise_mask]
    return hide(flags), hide([not f for f in flags])


def reconstruct(inputs, targets, vocab_size, num_sentinels=100):
    is_sentinel = lambda t: t >= vocab_size - num_sentinels          # noqa: E731
    spans, key = {}, None
    for t in targets[:-1]:
        if is_sentinel(t):
            key = t
            spans[key] = []
        else:
            spans[key].append(t)
    return [x for t in inputs[:-1] for x in (spans[t] if is_sentinel(t) else [t])]
