"""Hidden graders of nlp/span_corruption: the segmentation and the noise mask replayed draw by draw
with the same generator, their structure (numbers of noise tokens and spans, kept tokens first),
corrupt against a position-by-position oracle for masks of every shape (noise first, last, all but
one), reconstruct as its inverse, and the whole pipeline on random sequences.
tests/test_twins_nlp_span_corruption.py compares with Hugging Face's run_t5_mlm_flax.py functions."""
import random

import torch

from mlkata.checks import Fail, check, expect, expect_equal, visible_module

V = visible_module("nlp/span_corruption")


def oracle_segments(n, k, g):
    cuts = torch.randperm(n - 1, generator=g)[: k - 1]
    starts = sorted(int(c) + 1 for c in cuts)
    bounds = [0] + starts + [n]
    return [bounds[i + 1] - bounds[i] for i in range(len(bounds) - 1)]


def counts(length, density, mean_span):
    num_noise = round(length * density)
    num_kept = length - num_noise
    num_noise = min(max(num_noise, 1), length - 1)
    return num_noise, max(round(min(num_noise, num_kept) / mean_span), 1)


def oracle_mask(length, density, mean_span, g):
    num_noise, num_spans = counts(length, density, mean_span)
    noise = oracle_segments(num_noise, num_spans, g)
    kept = oracle_segments(length - num_noise, num_spans, g)
    mask = []
    for a, b in zip(kept, noise):
        mask += [False] * a + [True] * b
    return mask


def oracle_corrupt(tokens, mask, vocab, eos):
    def runs(hidden):
        out, k = [], 0
        for i, t in enumerate(tokens):
            if not hidden[i]:
                out.append(t)
            elif i == 0 or not hidden[i - 1]:
                out.append(vocab - 1 - k)
                k += 1
        return out + [eos]
    return runs(list(mask)), runs([not m for m in mask])


@check("random_segmentation replays the stated draws on random sizes", points=2)
def segmentation_random(run):
    rng = random.Random(0)
    for trial in range(10):
        n = rng.randint(1, 40)
        k = rng.randint(1, n)
        want = oracle_segments(n, k, torch.Generator().manual_seed(trial))
        got = run(V.segments, n, k, trial)
        expect_equal(list(got) if isinstance(got, (list, tuple)) else got, want, "one call randperm(num_items - 1, "
                     "generator)[:num_segments - 1]; runs start at the sorted cuts + 1; the result has num_segments "
                     "positive lengths summing to num_items", what=f"random_segmentation({n}, {k}, seed {trial})")




@check("random_spans_noise_mask replays the draws: noise runs first, kept runs second, kept tokens first", points=2)
def mask_random(run):
    cases = [(20, 0.15, 3.0), (100, 0.15, 3.0), (57, 0.3, 2.0), (9, 0.5, 1.0), (2, 0.15, 3.0), (512, 0.15, 3.0),
             (33, 0.25, 4.5)]
    for seed, (length, density, mean_span) in enumerate(cases):
        want = oracle_mask(length, density, mean_span, torch.Generator().manual_seed(seed))
        got = run(V.noise_mask, length, density, mean_span, seed)
        if not isinstance(got, torch.Tensor) or got.dtype != torch.bool or tuple(got.shape) != (length,):
            raise Fail("random_spans_noise_mask returns a bool tensor of shape (length,)",
                       f"length {length}: got {got!r}"[:300])
        num_noise, num_spans = counts(length, density, mean_span)
        got_list = got.tolist()
        spans = sum(1 for i, m in enumerate(got_list) if m and (i == 0 or not got_list[i - 1]))
        expect(sum(got_list) == num_noise and spans == num_spans and not got_list[0],
               "round(length * density) noise tokens (clamped to [1, length - 1]) in max(round(min(noise, kept) / "
               "mean), 1) spans, the sequence starting with kept tokens",
               f"length {length}, density {density}, mean {mean_span}: expected {num_noise} noise tokens in "
               f"{num_spans} spans, your mask has {sum(got_list)} in {spans} (first token noise: {got_list[0]})")
        expect_equal(got_list, want, "the draws, in order: random_segmentation(num_noise, num_spans) then "
                     "random_segmentation(length - num_noise, num_spans); interleave kept 0, noise 0, kept 1, ...",
                     what=f"noise mask (length {length}, seed {seed})")


@check("corrupt agrees with a position-by-position oracle for masks of every shape", points=2)
def corrupt_random(run):
    rng = random.Random(1)
    shapes = [lambda L: [rng.random() < 0.3 for _ in range(L)],
              lambda L: [True] + [rng.random() < 0.5 for _ in range(L - 1)],        # noise first
              lambda L: [False] * (L - 1) + [True],                                # noise last
              lambda L: [True] * (L - 1) + [False],                                # almost all noise
              lambda L: [i % 2 == 0 for i in range(L)]]                            # alternating
    for trial in range(10):
        L = rng.randint(1, 25)
        tokens = [rng.randint(2, 300) for _ in range(L)]
        mask = shapes[trial % len(shapes)](L)
        vocab, eos = rng.choice([(1000, 1), (32100, 1), (512, 0)])
        got = V.as_pair(run(V.corrupted, tokens, mask, vocab, eos), f"trial {trial}")
        want = [list(x) for x in oracle_corrupt(tokens, mask, vocab, eos)]
        expect_equal(got, want, "inputs: each maximal noise run -> the next sentinel (vocab_size - 1 - k); targets: "
                     "each maximal KEPT run -> the next sentinel; eos at the end of both",
                     what=f"corrupt(tokens of length {L}, mask {''.join('x' if m else '.' for m in mask)}, "
                     f"vocab_size {vocab})")


@check("reconstruct inverts corrupt on random sequences with random noise masks, up to 60 spans")
def reconstruct_random(run):
    rng = random.Random(2)
    for trial in range(8):
        L = rng.randint(2, 40)
        tokens = [rng.randint(2, 900) for _ in range(L)]
        mask = oracle_mask(L, rng.choice([0.15, 0.3, 0.5]), rng.choice([1.0, 3.0]), torch.Generator().manual_seed(trial))
        inputs, targets = oracle_corrupt(tokens, mask, 1000, 1)
        expect_equal(run(V.rebuilt, inputs, targets, 1000), tokens, "each input sentinel is replaced by the span "
                     "after the same sentinel in the target; eos dropped", what=f"reconstruct (trial {trial})")
    # 100 single-token spans: sentinels run down to 1000 - 100 = 900, and every one of them counts with
    # the default num_sentinels = 100; id 899 (just below the sentinels) also occurs, as a kept token and
    # inside a span, so a default below 100 keeps a sentinel and one above 100 swallows a token
    tokens = [rng.randint(2, 899) for _ in range(1000)]
    mask = oracle_mask(1000, 0.1, 1.0, torch.Generator().manual_seed(8))
    tokens[0] = 899                                             # kept: every mask starts with kept tokens
    tokens[mask.index(True)] = 899                              # noise
    inputs, targets = oracle_corrupt(tokens, mask, 1000, 1)
    expect_equal(run(V.rebuilt, inputs, targets, 1000), tokens, "a sentinel is any id >= vocab_size - num_sentinels, "
                 "and num_sentinels defaults to 100 (T5's <extra_id_0> .. <extra_id_99>): 100 spans use sentinels "
                 "999 down to 900, and id 899 is an ordinary token", what="reconstruct (1000 tokens, 100 spans, "
                 "default num_sentinels)")
