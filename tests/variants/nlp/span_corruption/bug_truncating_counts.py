# BUG: int() truncation instead of round() for the numbers of noise tokens and spans.
from typing import List, Tuple

import torch


def random_segmentation(num_items: int, num_segments: int, generator: torch.Generator) -> List[int]:
    """Split ``num_items`` items into ``num_segments`` non-empty runs, uniformly at random.

    Draws ``cuts = torch.randperm(num_items - 1, generator=generator)[:num_segments - 1]`` (ONE call,
    even when ``num_segments == 1``); sorted and shifted by one, they are the indices where a new run
    starts.  Returns the run lengths in order (they sum to ``num_items``).
    """
    cuts = torch.randperm(num_items - 1, generator=generator)[: num_segments - 1]
    bounds = [0] + sorted((cuts + 1).tolist()) + [num_items]
    return [b - a for a, b in zip(bounds, bounds[1:])]


def random_spans_noise_mask(length: int, noise_density: float, mean_noise_span_length: float,
                            generator: torch.Generator) -> torch.Tensor:
    """Which of ``length >= 2`` tokens are noise, in spans (``0 < noise_density < 1``, ``mean_noise_span_length >= 1``).

    ``num_noise = round(length * noise_density)`` (Python's ``round``), ``num_kept = length - num_noise``,
    then ``num_noise`` is clamped to ``[1, length - 1]``; ``num_spans = max(round(min(num_noise, num_kept)
    / mean_noise_span_length), 1)``.  Draws ``random_segmentation(num_noise, num_spans)`` FIRST and
    ``random_segmentation(length - num_noise, num_spans)`` second, then interleaves kept run 0, noise
    run 0, kept run 1, noise run 1, ... (the sequence starts with kept tokens).

    Returns:
        bool ``(length,)``, True on noise tokens.
    """
    num_noise = int(length * noise_density)
    num_kept = length - num_noise
    num_noise = min(max(num_noise, 1), length - 1)
    num_spans = max(int(min(num_noise, num_kept) / mean_noise_span_length), 1)
    noise_runs = random_segmentation(num_noise, num_spans, generator)
    kept_runs = random_segmentation(length - num_noise, num_spans, generator)
    mask = []
    for kept, noise in zip(kept_runs, noise_runs):
        mask += [False] * kept + [True] * noise
    return torch.tensor(mask)


def corrupt(tokens: List[int], noise_mask: List[bool], vocab_size: int, eos_id: int) -> Tuple[List[int], List[int]]:
    """T5's input and target of one sequence.

    Args:
        tokens: the token ids (no eos).
        noise_mask: one bool per token, True on corrupted tokens (any pattern, e.g. starting with noise).
        vocab_size: sentinels are ``vocab_size - 1, vocab_size - 2, ...``.
        eos_id: appended to both outputs.

    Returns:
        ``(inputs, targets)``: ``inputs`` = the tokens with each maximal run of noise replaced by the next
        sentinel (counting runs of noise from 0), then ``eos_id``; ``targets`` = the tokens with each maximal
        run of KEPT tokens replaced by the next sentinel (counting runs of kept tokens from 0), then ``eos_id``.
    """
    def replace_runs(hide: List[bool]) -> List[int]:
        out, runs = [], 0
        for i, (token, hidden) in enumerate(zip(tokens, hide)):
            if not hidden:
                out.append(token)
            elif i == 0 or not hide[i - 1]:                     # first token of a hidden run
                out.append(vocab_size - 1 - runs)
                runs += 1
        return out + [eos_id]

    noise = [bool(m) for m in noise_mask]
    return replace_runs(noise), replace_runs([not m for m in noise])


def reconstruct(inputs: List[int], targets: List[int], vocab_size: int, num_sentinels: int = 100) -> List[int]:
    """The original tokens from a ``corrupt`` pair whose mask starts with kept tokens (as
    ``random_spans_noise_mask`` makes): every sentinel of ``inputs`` (ids ``>= vocab_size - num_sentinels``)
    replaced by the tokens that follow the same sentinel in ``targets``; no ``eos``.
    """
    sentinel_start = vocab_size - num_sentinels
    spans, current = {}, None
    for token in targets[:-1]:                                  # drop eos
        if token >= sentinel_start:
            current = token
            spans[current] = []
        else:
            spans[current].append(token)
    out = []
    for token in inputs[:-1]:
        out += spans.get(token, []) if token >= sentinel_start else [token]
    return out
