"""Hidden graders of nlp/mlm_masking: BERT's 80/10/10 rule, checked structurally (exact rules
on every position) and statistically (rates over ~150k selectable tokens, with bounds that a
correct implementation misses less than once in 10^6 runs).

The rates are those of ``transformers.DataCollatorForLanguageModeling`` (mlm=True, 80/10/10):
its random token is uniform over the whole vocabulary, so it can land on [MASK] or on the
original token.  At a selected position whose original is not [MASK] a correct implementation
therefore shows [MASK] with probability 0.8 + 0.1/V, the original with 0.1 + 0.1/V, and some
other token with 0.1 (V - 2) / V.  ``tests/test_twins_nlp_mlm_masking.py`` checks these formulas
and the reference against transformers itself.
"""
import math
import weakref

import torch

from mlkata.checks import Fail, check, expect, expect_equal, expect_rate, visible_module

V = visible_module("nlp/mlm_masking")
PAD, UNK, CLS, SEP, MASK = V.PAD, V.UNK, V.CLS, V.SEP, V.MASK
SPECIAL_IDS = V.SPECIAL_IDS
VOCAB = 1000


def sentences(seed: int, rows: int = 1000, T: int = 200, vocab: int = VOCAB) -> torch.Tensor:
    """A padded batch: [CLS] words... [SEP] [PAD]..., words drawn from 5..vocab-1, ~1% [UNK]."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(len(SPECIAL_IDS), vocab, (rows, T), generator=g)
    ids[torch.rand(rows, T, generator=g) < 0.01] = UNK
    length = torch.randint(T // 2, T + 1, (rows, 1), generator=g)    # tokens before the padding
    pos = torch.arange(T)
    ids[:, 0] = CLS
    ids[pos == length - 1] = SEP                                         # (rows, T)
    ids[pos >= length] = PAD
    return ids


BIG = sentences(0)                                     # 200k tokens, ~150k of them selectable
BIG_SPECIAL = torch.isin(BIG, torch.tensor(SPECIAL_IDS))


def expected_shares(vocab: int) -> dict:
    """Shares among selected positions whose original is not [MASK] (see the module docstring)."""
    return {"masked": 0.8 + 0.1 / vocab, "random": 0.1 * (vocab - 2) / vocab, "unchanged": 0.1 + 0.1 / vocab}


def observed_shares(inputs: torch.Tensor, labels: torch.Tensor, ids: torch.Tensor, mask_id: int) -> dict:
    """Counts among the selected positions (label != -100): [MASK], original, anything else."""
    sel = labels != -100
    n = int(sel.sum())
    masked = int((inputs[sel] == mask_id).sum())
    unchanged = int(((inputs[sel] == ids[sel]) & (ids[sel] != mask_id)).sum())
    return {"n": n, "masked": masked, "unchanged": unchanged, "random": n - masked - unchanged}


_REPLIES = weakref.WeakKeyDictionary()     # run -> {(p, seed): reply}: one grading's large calls


def big_run(run, p=None, seed=11):
    """mask_tokens on BIG, called once per (p, seed) in a grading: several checks read the same call.
    ``p=None`` leaves mlm_probability at its default, 0.15 -- which the rates below then check."""
    replies = _REPLIES.setdefault(run, {})
    if (p, seed) not in replies:
        replies[(p, seed)] = run(V.mask, BIG, MASK, VOCAB, SPECIAL_IDS, p, seed=seed)
    got = replies[(p, seed)]
    return V.outputs(got, BIG) + (got,)


def _first(bad: torch.Tensor) -> tuple:
    return tuple(int(i) for i in torch.nonzero(bad)[0])


def expect_labels_are_originals(inputs, labels, ids, what=""):
    bad = (labels != -100) & (labels != ids)
    if bad.any():
        i = _first(bad)
        raise Fail("labels hold the original id at selected positions and -100 everywhere else",
                   f"{what}at index {list(i)} input_ids = {int(ids[i])} but labels = {int(labels[i])} (expected "
                   f"{int(ids[i])} if it is a target, else -100); {int(bad.sum())} of {bad.numel()} labels are neither")


def expect_unselected_unchanged(inputs, labels, ids, what=""):
    bad = (labels == -100) & (inputs != ids)
    if bad.any():
        i = _first(bad)
        raise Fail("only selected positions are corrupted: a position with label -100 keeps its token "
                   "(the 80/10/10 split applies to the selected positions only)",
                   f"{what}at index {list(i)} the label is -100 but input_ids = {int(ids[i])} became {int(inputs[i])}; "
                   f"{int(bad.sum())} of {int((labels == -100).sum())} unselected positions were changed")


def expect_specials_untouched(inputs, labels, ids, special, what=""):
    rule = "special tokens are never selected: label -100 and the token unchanged"
    hit = special & ((labels != -100) | (inputs != ids))
    if hit.any():
        i = _first(hit)
        raise Fail(rule, f"{what}at index {list(i)} the special token {int(ids[i])} got label {int(labels[i])} and "
                         f"input {int(inputs[i])}; {int(hit.sum())} of {int(special.sum())} special positions were "
                         f"selected or changed")


# ---------------------------------------------------------------------------------------------
# Selection
# ---------------------------------------------------------------------------------------------

@check("selects each non-special position with probability 0.15, the default (rate over ~150k tokens)", points=2)
def selection_rate(run):
    inputs, labels, _ = big_run(run)
    sel = (labels != -100)[~BIG_SPECIAL]
    expect_rate(int(sel.sum()), sel.numel(), 0.15,
                "each non-special position is selected (label != -100) independently with probability mlm_probability",
                what="share of non-special positions selected")


@check("honours another value of mlm_probability (0.3)")
def other_probability(run):
    inputs, labels, _ = big_run(run, 0.3, 12)
    sel = (labels != -100)[~BIG_SPECIAL]
    expect_rate(int(sel.sum()), sel.numel(), 0.3,
                "each non-special position is selected independently with probability mlm_probability",
                what="share of non-special positions selected with mlm_probability=0.3:")


@check("special tokens ([CLS], [SEP], [PAD], [UNK] anywhere in the row) are never selected nor changed", points=2)
def specials_never_selected(run):
    for p in (0.15, 1.0):
        inputs, labels, _ = big_run(run, p)
        expect_specials_untouched(inputs, labels, BIG, BIG_SPECIAL, f"mlm_probability={p}: ")


@check("labels = the original id at selected positions, -100 everywhere else", points=2)
def labels_exact(run):
    inputs, labels, _ = big_run(run)
    expect_labels_are_originals(inputs, labels, BIG)
    expect(bool((labels == -100).any()), "labels are -100 at the positions that are not selected",
           "no label is -100 at all (with mlm_probability=0.15, about 85% of them should be)")


@check("positions that are not selected keep their token (80/10/10 applies to selected positions only)", points=2)
def unselected_unchanged(run):
    inputs, labels, _ = big_run(run)
    V.expect_targets(inputs, labels, BIG)
    expect_unselected_unchanged(inputs, labels, BIG)


# ---------------------------------------------------------------------------------------------
# The 80/10/10 split among the selected positions
# ---------------------------------------------------------------------------------------------

def _share(run, key, points_rule):
    inputs, labels, _ = big_run(run)
    counts = observed_shares(inputs, labels, BIG, MASK)
    expect(counts["n"] > 0, points_rule, "no position was selected at all")
    names = {"masked": "[MASK] share among selected positions",
             "random": "random-replacement share (neither [MASK] nor the original) among selected positions",
             "unchanged": "unchanged share among selected positions"}
    expect_rate(counts[key], counts["n"], expected_shares(VOCAB)[key], points_rule, what=names[key])


@check("80% of the selected positions become [MASK]", points=2)
def masked_share(run):
    _share(run, "masked", "a selected position becomes mask_token_id with probability 0.8 "
                          "(observed: 0.8 + 0.1/V, since a random token can also be [MASK])")


@check("10% of the selected positions get a random token", points=2)
def random_share(run):
    _share(run, "random", "a selected position gets a random token with probability 0.1 -- i.e. half of the 20% "
                          "that are not masked (observed: 0.1 (V-2)/V, since a random token can equal [MASK] or "
                          "the original)")


@check("10% of the selected positions keep their original token")
def unchanged_share(run):
    _share(run, "unchanged", "a selected position keeps its original token with probability 0.1 "
                             "(observed: 0.1 + 0.1/V, since a random token can equal the original)")


@check("random tokens are uniform over range(vocab_size): every id appears at its rate, 0 and vocab_size-1 included",
       points=2)
def random_tokens_uniform(run):
    # Every token is word 7 and every position is selected, so any id other than [MASK] and 7
    # is a random replacement; a uniform draw over range(10) spreads them evenly over those 8 ids.
    vocab, word = 10, 7
    ids = torch.full((1000, 100), word)
    inputs, labels = V.outputs(run(V.mask, ids, MASK, vocab, SPECIAL_IDS, 1.0, seed=21), ids)
    expect_equal(labels, ids, "with mlm_probability=1 every position is a target: labels = input_ids", what="labels")
    expect_rate(int((inputs == MASK).sum()), ids.numel(), 0.8 + 0.1 / vocab,
                "80% of the targets become [MASK] (plus the random replacements that draw [MASK] itself)",
                what=f"share of [MASK] among {ids.numel()} targets:")
    rule = ("a random replacement is drawn uniformly from range(vocab_size) -- every id from 0 to vocab_size-1, "
            "special ids included (torch.randint(vocab_size, ...) excludes its upper bound)")
    outside = (inputs < 0) | (inputs >= vocab)
    expect(not bool(outside.any()), rule,
           f"some inputs lie outside range({vocab}): {sorted(set(inputs[outside].tolist()))[:5]}")
    others = [j for j in range(vocab) if j not in (MASK, word)]
    shown = inputs[(inputs != MASK) & (inputs != word)]
    expect(shown.numel() > 0, rule, "no position got a random token at all")
    counts = {j: int((shown == j).sum()) for j in others}
    never = [j for j in others if counts[j] == 0]
    expect(not never, rule, f"among {shown.numel()} random replacements (vocab_size={vocab}) the ids {never} never "
                            f"appear; each of {others} should get about 1/{len(others)} of them")
    for j in others:
        expect_rate(counts[j], shown.numel(), 1 / len(others), rule,
                    what=f"share of id {j} among the random replacements (vocab_size={vocab})")
    # Over a 1000-id vocabulary: the lower half gets its share of the random replacements.
    inputs, labels, _ = big_run(run)
    random_pos = (labels != -100) & (inputs != MASK) & (inputs != BIG)
    orig = BIG[random_pos]
    # Given the original o, a visible random token is uniform over the ids other than [MASK] and o.
    p_low = float(((VOCAB // 2 - 1) - (orig < VOCAB // 2).double()).mean()) / (VOCAB - 2)
    expect_rate(int((inputs[random_pos] < VOCAB // 2).sum()), int(random_pos.sum()), p_low, rule,
                what=f"share of random replacements below {VOCAB // 2} (vocab_size={VOCAB})")


# ---------------------------------------------------------------------------------------------
# Independence, and the number of targets
# ---------------------------------------------------------------------------------------------

@check("positions are selected independently: same rate at the start and end of rows, no shared pattern across "
       "rows or between neighbours")
def independent_positions(run):
    inputs, labels, _ = big_run(run)
    sel, ok = labels != -100, ~BIG_SPECIAL
    rule = "each position is selected independently of every other position (one coin per token)"
    T = BIG.shape[1]
    for name, cols in (("first half of each row", slice(0, T // 2)), ("second half of each row", slice(T // 2, T))):
        expect_rate(int(sel[:, cols][ok[:, cols]].sum()), int(ok[:, cols].sum()), 0.15, rule,
                    what=f"selection rate in the {name}")
    pairs = ok[0::2] & ok[1::2]                                    # (rows/2, T): same column, two rows
    expect_rate(int((sel[0::2] & sel[1::2])[pairs].sum()), int(pairs.sum()), 0.15 ** 2, rule,
                what="rate at which two different rows are both selected at the same column (expected p^2)")
    pairs = ok[:, :-1] & ok[:, 1:]                                 # (rows, T-1): neighbours in a row
    expect_rate(int((sel[:, :-1] & sel[:, 1:])[pairs].sum()), int(pairs.sum()), 0.15 ** 2, rule,
                what="rate at which two neighbouring tokens are both selected (expected p^2)")


@check("the number of targets is random (binomial), not a fixed 15% of each row or of the batch", points=2)
def binomial_counts(run):
    rows, T, p = 10000, 10, 0.15
    ids = torch.randint(5, 50, (rows, T), generator=torch.Generator().manual_seed(41))
    inputs, labels = V.outputs(run(V.mask, ids, MASK, 50, SPECIAL_IDS, p, seed=42), ids)
    per_row = (labels != -100).sum(dim=1)
    rule = ("positions are selected independently, so the number of targets in a row of 10 tokens is "
            "Binomial(10, 0.15): rows with 0, 1, 2, 3 targets all occur -- do not pick exactly round(0.15 * n)")
    for k in range(4):
        pk = math.comb(T, k) * p ** k * (1 - p) ** (T - k)
        expect_rate(int((per_row == k).sum()), rows, pk, rule, what=f"share of rows with exactly {k} targets")
    one = torch.randint(5, 50, (1, 1000), generator=torch.Generator().manual_seed(43))
    totals = []
    for seed in range(8):
        _, lab = V.outputs(run(V.mask, one, MASK, 50, SPECIAL_IDS, p, seed=100 + seed), one, f"seed {100 + seed}: ")
        totals.append(int((lab != -100).sum()))
    expect(len(set(totals)) > 1, "the total number of targets varies from call to call (it is Binomial(n, p))",
           f"8 calls with different seeds on 1000 tokens each selected exactly {totals[0]} targets")


# ---------------------------------------------------------------------------------------------
# Reproducibility, shapes, edge cases
# ---------------------------------------------------------------------------------------------

@check("all randomness comes from `generator`: same seed -> identical outputs, different seeds -> different")
def generator_determinism(run):
    ids = sentences(51, rows=4, T=250)
    rule = "take every random draw (selection, 80/10/10 split, random tokens) from `generator`"
    a = V.outputs(run(V.mask, ids, MASK, VOCAB, SPECIAL_IDS, 0.5, seed=5, global_seed=1), ids)
    b = V.outputs(run(V.mask, ids, MASK, VOCAB, SPECIAL_IDS, 0.5, seed=5, global_seed=2), ids)
    expect_equal(b[1], a[1], rule + " (torch's global seed differed between the two calls)",
                 what="labels of two calls with the same generator seed")
    expect_equal(b[0], a[0], rule + " (torch's global seed differed between the two calls)",
                 what="inputs of two calls with the same generator seed")
    c = V.outputs(run(V.mask, ids, MASK, VOCAB, SPECIAL_IDS, 0.5, seed=6, global_seed=1), ids)
    expect(not (torch.equal(c[1], a[1]) and torch.equal(c[0], a[0])),
           "use the generator you are given: a different seed gives a different masking",
           "generator seeds 5 and 6 gave identical inputs and labels on 1000 tokens")


@check("works without a generator, and with BERT's own ids ([MASK]=103, vocabulary of 30522)")
def no_generator_bert_ids(run):
    pad, unk, cls, sep, mask_id, vocab = 0, 100, 101, 102, 103, 30522
    special_ids = [pad, unk, cls, sep, mask_id]
    small = sentences(61, rows=500)
    ids = torch.where(small < 5, torch.tensor(special_ids)[small.clamp(max=4)], small + 999)  # words 1004..1998
    special = torch.isin(ids, torch.tensor(special_ids))
    got = run(V.mask, ids, mask_id, vocab, special_ids, 0.15, use_generator=False)
    inputs, labels = V.outputs(got, ids, "without a generator: ")
    expect_specials_untouched(inputs, labels, ids, special, "BERT ids: ")
    expect_labels_are_originals(inputs, labels, ids, "BERT ids: ")
    sel = (labels != -100)[~special]
    expect_rate(int(sel.sum()), sel.numel(), 0.15, "with generator=None, draw from torch's global generator "
                "with the same rule", what="share of non-special positions selected")
    counts = observed_shares(inputs, labels, ids, mask_id)
    expect_rate(counts["masked"], counts["n"], expected_shares(vocab)["masked"],
                "a selected position becomes mask_token_id (here 103) with probability 0.8",
                what="share of selected positions showing 103")


@check("leaves input_ids unchanged on a large batch")
def input_not_modified(run):
    inputs, labels, got = big_run(run)
    V.expect_targets(inputs, labels, BIG)
    expect_equal(got["input_after"], BIG, "do not modify input_ids: corrupt a copy (input_ids.clone())",
                 what="input_ids after the call")


@check("works for any shape: 1-D and 3-D inputs")
def any_shape(run):
    one_d = sentences(71, rows=1, T=300)[0]                          # (300,)
    three_d = sentences(72, rows=20, T=30).reshape(4, 5, 30)          # (4, 5, 30)
    for name, ids in (("1-D", one_d), ("3-D", three_d)):
        special = torch.isin(ids, torch.tensor(SPECIAL_IDS))
        inputs, labels = V.outputs(run(V.mask, ids, MASK, VOCAB, SPECIAL_IDS, 1.0, seed=73), ids, f"{name}: ")
        want = torch.where(special, torch.full_like(ids, -100), ids)
        expect_equal(labels, want, "labels = original id at every non-special position when mlm_probability=1",
                     what=f"labels for a {name} input of shape {list(ids.shape)}")
        expect_specials_untouched(inputs, labels, ids, special, f"{name}: ")
        expect(bool((inputs == MASK).any()), "a selected position becomes [MASK] with probability 0.8",
               f"no [MASK] at all in the {name} input of shape {list(ids.shape)}")


@check("mlm_probability=0 selects nothing and 1 selects every non-special token")
def probability_edges(run):
    ids = sentences(101, rows=100)
    inputs, labels = V.outputs(run(V.mask, ids, MASK, VOCAB, SPECIAL_IDS, 0.0, seed=102), ids)
    expect_equal(labels, torch.full_like(ids, -100), "with mlm_probability=0 no position is selected",
                 what="labels")
    expect_equal(inputs, ids, "with mlm_probability=0 the inputs equal input_ids", what="inputs")
    inputs, labels, _ = big_run(run, 1.0)
    expect_equal(labels, torch.where(BIG_SPECIAL, torch.full_like(BIG, -100), BIG),
                 "with mlm_probability=1 every non-special position is selected", what="labels")
    expect_unselected_unchanged(inputs, labels, BIG, "mlm_probability=1: ")


@check("a row made only of special tokens (and a batch of nothing else) stays untouched")
def all_special_rows(run):
    ids = sentences(81, rows=6, T=40)
    ids[2] = PAD                                                       # an empty, fully padded row
    ids[4, :] = torch.tensor([CLS, SEP] + [PAD] * 38)
    special = torch.isin(ids, torch.tensor(SPECIAL_IDS))
    inputs, labels = V.outputs(run(V.mask, ids, MASK, VOCAB, SPECIAL_IDS, 1.0, seed=82), ids)
    expect_specials_untouched(inputs, labels, ids, special)
    expect_equal(labels[~special], ids[~special], "with mlm_probability=1 every non-special token is selected",
                 what="labels of the ordinary tokens")
    only = torch.tensor([[CLS, SEP, PAD, PAD], [PAD, PAD, PAD, PAD]])
    inputs, labels = V.outputs(run(V.mask, only, MASK, VOCAB, SPECIAL_IDS, 0.5, seed=83), only)
    expect_equal(labels, torch.full_like(only, -100), "a batch of special tokens only has no target",
                 what="labels of a batch made only of special tokens")
    expect_equal(inputs, only, "a batch of special tokens only is returned unchanged", what="inputs")


@check("special_token_ids may be a list, a tuple, a set, or empty")
def special_id_containers(run):
    ids = sentences(91, rows=8, T=30)
    special = torch.isin(ids, torch.tensor(SPECIAL_IDS))
    for container in (tuple(SPECIAL_IDS), set(SPECIAL_IDS)):
        inputs, labels = V.outputs(run(V.mask, ids, MASK, VOCAB, container, 1.0, seed=92), ids,
                                   f"special_token_ids as a {type(container).__name__}: ")
        expect_specials_untouched(inputs, labels, ids, special, f"special_token_ids as a {type(container).__name__}: ")
    inputs, labels = V.outputs(run(V.mask, ids, MASK, VOCAB, [], 1.0, seed=93), ids, "special_token_ids=[]: ")
    expect_equal(labels, ids, "with no special ids and mlm_probability=1, every position is a target",
                 what="labels with special_token_ids=[]")
