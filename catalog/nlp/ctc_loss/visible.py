"""Visible checks: the extended target, two tiny likelihoods, and greedy decoding."""
import math

import torch

from mlkata.checks import check, expect_close, expect_equal, probe


# The probes pass ``blank`` only when given: its default (0) is part of the contract.

@probe
def extend(sub, target, blank=None):
    return sub.extend_with_blanks(target) if blank is None else sub.extend_with_blanks(target, blank)


@probe
def log_likelihood(sub, log_probs, target, blank=None):
    if blank is None:
        return sub.ctc_log_likelihood(log_probs, target)
    return sub.ctc_log_likelihood(log_probs, target, blank)


@probe
def decode(sub, log_probs, input_lengths, blank=None):
    if blank is None:
        return sub.greedy_decode(log_probs, input_lengths)
    return sub.greedy_decode(log_probs, input_lengths, blank)


@check("extend_with_blanks puts a blank before, between and after the labels (blank defaults to 0)")
def extended(run):
    expect_equal(run(extend, [3, 3, 5]), [0, 3, 0, 3, 0, 5, 0], "z = [blank, y1, blank, y2, ..., yL, blank], "
                 "length 2L + 1; the blank is 0 unless given", what="extend_with_blanks([3, 3, 5])")


P = torch.tensor([[0.5, 0.3, 0.2],                # frame 1: p(blank), p(1), p(2)
                  [0.4, 0.4, 0.2],
                  [0.1, 0.6, 0.3]])


@check("p('1') over 2 frames sums the paths 11, _1 and 1_")
def single_label(run):
    got = run(log_likelihood, P[:2].log(), [1])
    want = math.log(0.3 * 0.4 + 0.5 * 0.4 + 0.3 * 0.4)
    expect_close(got, want, "every path that collapses to [1] counts: '1 1', '_ 1' and '1 _'", what="log p([1])")


@check("a repeated label needs a blank between its copies: [1, 1] has the single path 1 _ 1 over 3 frames")
def repeated_label(run):
    got = run(log_likelihood, P.log(), [1, 1])
    expect_close(got, math.log(0.3 * 0.4 * 0.6), "'1 1 1' would collapse to [1]: the only path for [1, 1] in "
                 "3 frames is '1 _ 1' (no skip between equal labels)", what="log p([1, 1])")


@check("greedy_decode: best symbol per frame, merge repeats, then drop blanks")
def greedy(run):
    best = [1, 1, 0, 1, 2, 2, 0]                          # argmax per frame
    log_probs = torch.full((7, 1, 3), -5.0)
    log_probs[torch.arange(7), 0, torch.tensor(best)] = -0.1
    expect_equal(run(decode, log_probs, torch.tensor([7])), [[1, 1, 2]], "'1 1 _ 1 2 2 _' -> merge repeats -> "
                 "'1 _ 1 2 _' -> drop blanks (the blank defaults to 0) -> [1, 1, 2]", what="greedy_decode")
