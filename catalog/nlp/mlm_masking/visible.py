"""Visible checks: the structure of BERT's masking on small fixed batches.

Token ids used throughout: 0 = [PAD], 1 = [UNK], 2 = [CLS], 3 = [SEP], 4 = [MASK]; ordinary
words are 5 and up.
"""
import torch

from mlkata.checks import Fail, check, describe, expect_equal, expect_tensor, probe

PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4
SPECIAL_IDS = [PAD, UNK, CLS, SEP, MASK]


@probe
def mask(sub, input_ids, mask_token_id, vocab_size, special_token_ids, mlm_probability=None, seed=0,
         use_generator=True, global_seed=None):
    """Call mask_tokens (with a fresh generator seeded ``seed``); report its output and the input after."""
    if global_seed is not None:
        torch.manual_seed(global_seed)
    kwargs = {} if mlm_probability is None else {"mlm_probability": mlm_probability}   # None: the default
    if use_generator:
        kwargs["generator"] = torch.Generator().manual_seed(seed)
    out = sub.mask_tokens(input_ids, mask_token_id, vocab_size, special_token_ids, **kwargs)
    return {"out": out, "input_after": input_ids}


def outputs(got, input_ids, what=""):
    """Judge side: ``got["out"]`` must be a pair of int64 tensors shaped like ``input_ids``."""
    rule = "mask_tokens returns a tuple (inputs, labels) of int64 tensors shaped like input_ids"
    out = got["out"]
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Fail(rule, f"{what}expected a tuple of 2 tensors, your code returned {describe(out)}")
    inputs, labels = out
    expect_tensor(inputs, rule + f" ({what}inputs)", shape=input_ids.shape, dtype=torch.long)
    expect_tensor(labels, rule + f" ({what}labels)", shape=input_ids.shape, dtype=torch.long)
    return inputs, labels


def expect_targets(inputs, labels, input_ids, what=""):
    """Judge side: labels are the original id (a target) or -100; special tokens are never targets;
    a position that is not a target keeps its token; and there is at least one target."""
    special = torch.isin(input_ids, torch.tensor(SPECIAL_IDS))
    bad = ((labels != -100) & (labels != input_ids)) | (special & (labels != -100))
    if bad.any():
        i = [int(j) for j in torch.nonzero(bad)[0]]
        raise Fail("labels hold the original id at selected (non-special) positions and -100 everywhere else",
                   f"{what}labels[{i}] = {int(labels[tuple(i)])}, input_ids[{i}] = {int(input_ids[tuple(i)])}")
    changed = (labels == -100) & (inputs != input_ids)
    if changed.any():
        i = [int(j) for j in torch.nonzero(changed)[0]]
        raise Fail("a position that is not selected (label -100) keeps its token",
                   f"{what}inputs[{i}] = {int(inputs[tuple(i)])}, input_ids[{i}] = {int(input_ids[tuple(i)])}")
    if not (labels != -100).any():
        raise Fail("each non-special position is selected with probability mlm_probability",
                   f"{what}no position was selected (every label is -100)")


BATCH = torch.tensor([[CLS, 17, 23, 9, 41, SEP, PAD, PAD],
                      [CLS, 5, 6, UNK, 8, 29, 30, SEP]])


@check("returns (inputs, labels): two int64 tensors of the input's shape; labels are the original id or -100")
def returns_pair(run):
    got = run(mask, BATCH, MASK, 50, SPECIAL_IDS, 0.5)
    expect_targets(*outputs(got, BATCH), BATCH)


@check("with mlm_probability=1 every non-special token is a target: labels = original id, -100 on specials")
def all_selected(run):
    got = run(mask, BATCH, MASK, 50, SPECIAL_IDS, 1.0)
    inputs, labels = outputs(got, BATCH)
    special = torch.isin(BATCH, torch.tensor(SPECIAL_IDS))
    want = torch.where(special, torch.full_like(BATCH, -100), BATCH)
    expect_equal(labels, want, "labels hold the original id at selected positions and -100 at special tokens "
                               "([CLS]=2, [SEP]=3, [PAD]=0, [UNK]=1 are never selected)", what="labels")
    expect_equal(inputs[special], BATCH[special], "special tokens are never selected, so they stay unchanged",
                 what="inputs at the special positions")


@check("with mlm_probability=0 nothing is selected: labels are all -100 and inputs equal input_ids")
def none_selected(run):
    got = run(mask, BATCH, MASK, 50, SPECIAL_IDS, 0.0)
    inputs, labels = outputs(got, BATCH)
    expect_equal(labels, torch.full_like(BATCH, -100), "a position that is not selected has label -100",
                 what="labels")
    expect_equal(inputs, BATCH, "a position that is not selected keeps its token", what="inputs")


@check("input_ids itself is not modified")
def input_untouched(run):
    got = run(mask, BATCH, MASK, 50, SPECIAL_IDS, 1.0)
    expect_targets(*outputs(got, BATCH), BATCH)
    expect_equal(got["input_after"], BATCH, "do not modify input_ids: corrupt a copy (input_ids.clone())",
                 what="input_ids after the call")


@check("the same generator seed gives the same result")
def reproducible(run):
    ids = torch.arange(5, 45).reshape(2, 20)
    a = run(mask, ids, MASK, 50, SPECIAL_IDS, 0.5, seed=7, global_seed=1)
    b = run(mask, ids, MASK, 50, SPECIAL_IDS, 0.5, seed=7, global_seed=2)
    rule = "take every random draw from `generator` (e.g. torch.rand(..., generator=generator))"
    for got in (a, b):
        expect_targets(*outputs(got, ids), ids)
    expect_equal(b["out"][1], a["out"][1], rule, what="labels of a second call with the same seed")
    expect_equal(b["out"][0], a["out"][0], rule, what="inputs of a second call with the same seed")
