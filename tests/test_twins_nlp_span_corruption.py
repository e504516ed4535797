"""Twin of nlp/span_corruption: Hugging Face's T5 span-corruption functions.

They live in an example script (``examples/flax/language-modeling/run_t5_mlm_flax.py``,
``FlaxDataCollatorForT5MLM``), not in the installed library, so the three methods are restated
below verbatim in numpy (Apache-2.0, The HuggingFace Team), with ``self.tokenizer`` replaced by a
vocabulary size and an eos id.  The reference agrees with them: the same inputs and labels for any
noise mask, and noise masks with the same numbers of noise tokens and spans, starting with kept
tokens (the segmentation draws differ: numpy shuffles, the exercise uses torch.randperm).
"""
import random

import numpy as np
import pytest
import torch

from mlkata.engine import load_module
from helpers import ROOT


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "nlp" / "span_corruption.py"), "twin_solution_nlp_span_corruption")


class HFCollator:
    """The three methods of FlaxDataCollatorForT5MLM, as in the example script."""

    def __init__(self, vocab_size, eos_id, noise_density=0.15, mean_noise_span_length=3.0):
        self.vocab_size, self.eos_id = vocab_size, eos_id
        self.noise_density, self.mean_noise_span_length = noise_density, mean_noise_span_length

    def create_sentinel_ids(self, mask_indices):
        start_indices = mask_indices - np.roll(mask_indices, 1, axis=-1) * mask_indices
        start_indices[:, 0] = mask_indices[:, 0]
        sentinel_ids = np.where(start_indices != 0, np.cumsum(start_indices, axis=-1), start_indices)
        sentinel_ids = np.where(sentinel_ids != 0, (self.vocab_size - sentinel_ids), 0)
        sentinel_ids -= mask_indices - start_indices
        return sentinel_ids

    def filter_input_ids(self, input_ids, sentinel_ids):
        batch_size = input_ids.shape[0]
        input_ids_full = np.where(sentinel_ids != 0, sentinel_ids, input_ids)
        input_ids = input_ids_full[input_ids_full >= 0].reshape((batch_size, -1))
        return np.concatenate([input_ids, np.full((batch_size, 1), self.eos_id, dtype=np.int32)], axis=-1)

    def random_spans_noise_mask(self, length):
        orig_length = length
        num_noise_tokens = int(np.round(length * self.noise_density))
        num_nonnoise_tokens = length - num_noise_tokens
        num_noise_tokens = min(max(num_noise_tokens, 1), length - 1)
        num_noise_spans = int(np.round(min(num_noise_tokens, num_nonnoise_tokens) / self.mean_noise_span_length))
        num_noise_spans = max(num_noise_spans, 1)
        num_nonnoise_tokens = length - num_noise_tokens

        def _random_segmentation(num_items, num_segments):
            mask_indices = np.arange(num_items - 1) < (num_segments - 1)
            np.random.shuffle(mask_indices)
            first_in_segment = np.pad(mask_indices, [[1, 0]])
            segment_id = np.cumsum(first_in_segment)
            _, segment_length = np.unique(segment_id, return_counts=True)
            return segment_length

        noise_span_lengths = _random_segmentation(num_noise_tokens, num_noise_spans)
        nonnoise_span_lengths = _random_segmentation(num_nonnoise_tokens, num_noise_spans)
        interleaved_span_lengths = np.reshape(
            np.stack([nonnoise_span_lengths, noise_span_lengths], axis=1), [num_noise_spans * 2])
        span_starts = np.cumsum(interleaved_span_lengths)[:-1]
        span_start_indicator = np.zeros((length,), dtype=np.int8)
        span_start_indicator[span_starts] = True
        span_num = np.cumsum(span_start_indicator)
        is_noise = np.equal(span_num % 2, 1)
        return is_noise[:orig_length]

    def inputs_and_labels(self, tokens, mask):
        ids = np.asarray([tokens])
        mask_indices = np.asarray([mask])
        labels_mask = ~mask_indices
        inputs = self.filter_input_ids(ids, self.create_sentinel_ids(mask_indices.astype(np.int8)))
        labels = self.filter_input_ids(ids, self.create_sentinel_ids(labels_mask.astype(np.int8)))
        return inputs[0].tolist(), labels[0].tolist()


def spans(mask):
    return sum(1 for i, m in enumerate(mask) if m and (i == 0 or not mask[i - 1]))


@pytest.mark.parametrize("seed", range(5))
def test_inputs_and_labels_agree_with_hugging_faces_collator(ref, seed):
    rng = random.Random(seed)
    np.random.seed(seed)
    for _ in range(40):
        length = rng.randint(2, 60)
        collator = HFCollator(32100, 1, rng.choice([0.15, 0.3, 0.5]), rng.choice([1.0, 3.0, 5.0]))
        tokens = [rng.randint(2, 32000) for _ in range(length)]
        mask = collator.random_spans_noise_mask(length).tolist()
        assert ref.corrupt(tokens, mask, 32100, 1) == collator.inputs_and_labels(tokens, mask)
        assert ref.reconstruct(*collator.inputs_and_labels(tokens, mask), 32100) == tokens


@pytest.mark.parametrize("density,mean", [(0.15, 3.0), (0.3, 2.0), (0.5, 1.0), (0.15, 8.0)])
def test_noise_masks_have_hugging_faces_counts_and_shape(ref, density, mean):
    collator = HFCollator(32100, 1, density, mean)
    g = torch.Generator().manual_seed(0)
    np.random.seed(0)
    for length in list(range(2, 80)) + [512]:
        theirs = collator.random_spans_noise_mask(length).tolist()
        ours = ref.random_spans_noise_mask(length, density, mean, g).tolist()
        assert (sum(ours), spans(ours), ours[0]) == (sum(theirs), spans(theirs), theirs[0]) == \
            (sum(theirs), spans(theirs), False)
