"""Visible checks: the T5 paper's example, the sentinel numbering, and a segmentation replayed."""
import torch

from mlkata.checks import Fail, check, expect_equal, probe


@probe
def corrupted(sub, tokens, noise_mask, vocab_size, eos_id):
    return sub.corrupt(tokens, noise_mask, vocab_size, eos_id)


@probe
def segments(sub, num_items, num_segments, seed):
    return sub.random_segmentation(num_items, num_segments, torch.Generator().manual_seed(seed))


@probe
def noise_mask(sub, length, noise_density, mean_noise_span_length, seed):
    return sub.random_spans_noise_mask(length, noise_density, mean_noise_span_length,
                                       torch.Generator().manual_seed(seed))


@probe
def rebuilt(sub, inputs, targets, vocab_size):
    return sub.reconstruct(inputs, targets, vocab_size)


def as_pair(got, what):
    """(inputs, targets) from corrupt, as two lists."""
    if not isinstance(got, (list, tuple)) or len(got) != 2 or not all(isinstance(x, (list, tuple)) for x in got):
        raise Fail("corrupt returns (inputs, targets), two lists of ints", f"{what}: got {got!r}"[:300])
    return [list(x) for x in got]


# "Thank you for inviting me to your party last week ." as ids 10..20, vocabulary of 1000, eos = 1
PAPER = list(range(10, 21))
PAPER_MASK = [False, False, True, True, False, False, False, False, True, False, False]


@check("the paper's example: each noise span becomes one sentinel in the input, the target lists the spans")
def paper_example(run):
    got = run(corrupted, PAPER, PAPER_MASK, 1000, 1)
    want = ([10, 11, 999, 14, 15, 16, 17, 998, 19, 20, 1], [999, 12, 13, 998, 18, 997, 1])
    expect_equal(as_pair(got, "corrupt"), [list(w) for w in want],
                 "input: kept tokens, one sentinel per noise span (999, 998, ... = vocab_size - 1 - k), eos; target: "
                 "one sentinel per KEPT run, each followed by the noise span after it, eos", what="(inputs, targets)")


@check("random_segmentation: one randperm of the n - 1 gaps, the first k - 1 are where runs start")
def segmentation_replay(run):
    g = torch.Generator().manual_seed(3)
    cuts = sorted((torch.randperm(9, generator=g)[:3] + 1).tolist())
    bounds = [0] + cuts + [10]
    want = [b - a for a, b in zip(bounds, bounds[1:])]
    expect_equal(run(segments, 10, 4, 3), want, "cuts = randperm(num_items - 1)[:num_segments - 1] + 1, sorted; the run "
                 "lengths are the gaps between 0, the cuts and num_items", what="random_segmentation(10, 4, seed 3)")


@check("reconstruct puts every span back where its sentinel stands")
def round_trip(run):
    inputs, targets = [10, 11, 999, 14, 15, 16, 17, 998, 19, 20, 1], [999, 12, 13, 998, 18, 997, 1]
    expect_equal(run(rebuilt, inputs, targets, 1000), PAPER, "replace each input sentinel by the tokens that follow "
                 "the same sentinel in the target, and drop eos", what="reconstruct")
