"""T5's span corruption: mask whole spans, replace each by one sentinel, predict the spans.

BERT masks single tokens and predicts each in place (``nlp/mlm_masking``); T5 (Raffel et al. 2020,
"Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer") corrupts
*spans*: about 15% of the tokens, in spans of mean length 3.  Each span is replaced in the input by
a single sentinel token, and the target lists each sentinel followed by the tokens it hid:

    original  Thank you for inviting me to your party last week .
    input     Thank you <X> me to your party <Y> week . </s>
    target    <X> for inviting <Y> last <Z> </s>

Sentinels are the last ids of the vocabulary, counting down: the k-th span of a sequence
(k = 0, 1, ...) uses ``<extra_id_k> = vocab_size - 1 - k``.  In the target, every run of kept
tokens is replaced by the sentinel with the same count -- so a sequence that ends with kept tokens
ends its target with one more sentinel (``<Z>`` above) -- and both input and target end with ``eos``.
This is the noise and filtering of the T5 codebase, as Hugging Face's ``run_t5_mlm_flax.py``
(``random_spans_noise_mask``, ``create_sentinel_ids``, ``filter_input_ids``) reproduces it.

Which tokens are noise is random, with a fixed number of noise tokens and spans (module
functions below state the draws).  Builds on ``nlp/mlm_masking``.
"""
from typing import List, Tuple

import torch


def random_segmentation(num_items: int, num_segments: int, generator: torch.Generator) -> List[int]:
    """Split ``num_items`` items into ``num_segments`` non-empty runs, uniformly at random.

    Draws ``cuts = torch.randperm(num_items - 1, generator=generator)[:num_segments - 1]`` (ONE call,
    even when ``num_segments == 1``); sorted and shifted by one, they are the indices where a new run
    starts.  Returns the run lengths in order (they sum to ``num_items``).
    """
    ### BEGIN SOLUTION
    cuts = torch.randperm(num_items - 1, generator=generator)[: num_segments - 1]
    bounds = [0] + sorted((cuts + 1).tolist()) + [num_items]
    return [b - a for a, b in zip(bounds, bounds[1:])]
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    num_noise = round(length * noise_density)
    num_kept = length - num_noise
    num_noise = min(max(num_noise, 1), length - 1)
    num_spans = max(round(min(num_noise, num_kept) / mean_noise_span_length), 1)
    noise_runs = random_segmentation(num_noise, num_spans, generator)
    kept_runs = random_segmentation(length - num_noise, num_spans, generator)
    mask = []
    for kept, noise in zip(kept_runs, noise_runs):
        mask += [False] * kept + [True] * noise
    return torch.tensor(mask)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
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
    ### END SOLUTION


def reconstruct(inputs: List[int], targets: List[int], vocab_size: int, num_sentinels: int = 100) -> List[int]:
    """The original tokens from a ``corrupt`` pair whose mask starts with kept tokens (as
    ``random_spans_noise_mask`` makes): every sentinel of ``inputs`` (ids ``>= vocab_size - num_sentinels``)
    replaced by the tokens that follow the same sentinel in ``targets``; no ``eos``.
    """
    ### BEGIN SOLUTION
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
    ### END SOLUTION
