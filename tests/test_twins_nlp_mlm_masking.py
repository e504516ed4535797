"""nlp/mlm_masking against its library twin, ``transformers.DataCollatorForLanguageModeling``.

Graders may not import transformers, so this file shows, with transformers itself, that
1. the reference makes exactly the collator's draws: same seed, same (inputs, labels);
2. on a large batch the reference and the collator agree rate by rate (selected, [MASK],
   random, unchanged), and both match the rates the graders expect (``expected_shares``);
3. the collator itself passes every check of the exercise (visible and hidden) when it stands
   in for the learner's code -- so the graders ask for transformers' behaviour, no more.

The tokenizer is a ``tokenizers`` WordLevel model built in memory (no download).
"""
import math
from functools import lru_cache

import pytest
import torch

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from mlkata import catalog, grading  # noqa: E402
from mlkata.checks import Fail, checks_of, rate_bounds  # noqa: E402
from mlkata.engine import load_module  # noqa: E402

EX = catalog.get("nlp/mlm_masking")
REF = load_module(str(EX.solution), "mlkata_twin_reference__nlp__mlm_masking")
VIS = grading.check_module("visible", EX)
HID = grading.check_module("hidden", EX)

SPECIAL_NAMES = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]


@lru_cache(maxsize=None)
def tokenizer(vocab_size: int, mask_token_id: int, special_ids: frozenset):
    """A fast tokenizer with ids 0..vocab_size-1: [MASK] at mask_token_id, the other special ids
    (at most 4) named [PAD], [UNK], [CLS], [SEP] in increasing order, words w<id> elsewhere."""
    others = sorted(special_ids - {mask_token_id})
    assert len(others) <= len(SPECIAL_NAMES)
    names = {mask_token_id: "[MASK]", **{i: SPECIAL_NAMES[k] for k, i in enumerate(others)}}
    vocab = {names.get(i, f"w{i}"): i for i in range(vocab_size)}
    model = tokenizers.models.WordLevel(vocab=vocab, unk_token=names.get(min(others, default=-1), "[MASK]"))
    tok = tokenizers.Tokenizer(model)
    tok.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    kwargs = {key: names[i] for key, i in zip(("pad_token", "unk_token", "cls_token", "sep_token"), others)}
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, mask_token="[MASK]", **kwargs)
    assert len(fast) == vocab_size and fast.mask_token_id == mask_token_id
    assert set(fast.all_special_ids) == set(special_ids) | {mask_token_id}
    return fast


def collator_mask(input_ids, mask_token_id, vocab_size, special_token_ids, mlm_probability=0.15, seed=None):
    """(inputs, labels) from DataCollatorForLanguageModeling, called the way a Trainer calls it."""
    tok = tokenizer(vocab_size, mask_token_id, frozenset(int(i) for i in special_token_ids))
    collator = transformers.DataCollatorForLanguageModeling(tok, mlm=True, mlm_probability=mlm_probability, seed=seed)
    rows = input_ids.reshape(-1, input_ids.shape[-1]) if input_ids.dim() else input_ids.reshape(1, 1)  # (N, T)
    if tok.pad_token is not None:
        batch = collator([{"input_ids": r} for r in rows.tolist()])
        inputs, labels = batch["input_ids"], batch["labels"]
    else:   # no padding token, so no __call__ (it pads): the same masking, called directly
        collator.generator = None if seed is None else torch.Generator().manual_seed(seed)
        inputs, labels = collator.torch_mask_tokens(rows.clone())
    return inputs.reshape(input_ids.shape), labels.reshape(input_ids.shape)


# --------------------------------------------------------------------------------------------
# 1. Same draws as transformers
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed,p", [(0, 0.15), (1, 0.15), (2, 0.3), (3, 1.0)])
def test_reference_makes_the_collators_draws(seed, p):
    ids = HID.sentences(seed, rows=64, T=128)
    want_inputs, want_labels = collator_mask(ids, HID.MASK, HID.VOCAB, HID.SPECIAL_IDS, p, seed=seed)
    inputs, labels = REF.mask_tokens(ids, HID.MASK, HID.VOCAB, HID.SPECIAL_IDS, p,
                                     generator=torch.Generator().manual_seed(seed))
    assert torch.equal(labels, want_labels)
    assert torch.equal(inputs, want_inputs)


# --------------------------------------------------------------------------------------------
# 2. Rates: reference vs collator, and both vs the graders' expected shares
# --------------------------------------------------------------------------------------------

def _rates(inputs, labels, ids, special):
    sel = labels != -100
    counts = HID.observed_shares(inputs, labels, ids, HID.MASK)
    return {"selected": (int(sel[~special].sum()), int((~special).sum())),
            **{k: (counts[k], counts["n"]) for k in ("masked", "random", "unchanged")}}


@pytest.mark.parametrize("p", [0.15, 0.3])
def test_rates_agree_with_the_collator_and_the_graders(p):
    ids, special = HID.BIG, HID.BIG_SPECIAL
    lib = _rates(*collator_mask(ids, HID.MASK, HID.VOCAB, HID.SPECIAL_IDS, p, seed=101), ids, special)
    ref = _rates(*REF.mask_tokens(ids, HID.MASK, HID.VOCAB, HID.SPECIAL_IDS, p,
                                  generator=torch.Generator().manual_seed(202)), ids, special)
    want = {"selected": p, **HID.expected_shares(HID.VOCAB)}
    for key, prob in want.items():
        for name, (k, n) in (("transformers", lib[key]), ("reference", ref[key])):
            lo, hi = rate_bounds(n, prob)
            assert lo <= k / n <= hi, f"{name}: {key} rate {k / n:.4f}, graders expect {prob:.4f} in [{lo:.4f}, {hi:.4f}]"
        (k1, n1), (k2, n2) = lib[key], ref[key]
        pooled = (k1 + k2) / (n1 + n2)
        z = abs(k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        assert z < 5.6, f"{key}: transformers {k1 / n1:.4f} vs reference {k2 / n2:.4f} (z = {z:.1f})"


# --------------------------------------------------------------------------------------------
# 3. The library passes the exercise's own checks
# --------------------------------------------------------------------------------------------

def collator_run(probe, input_ids, mask_token_id, vocab_size, special_token_ids, mlm_probability=0.15, seed=0,
                 use_generator=True, global_seed=None):
    """A stand-in for ``run(V.mask, ...)`` in which transformers is the learner."""
    assert probe is VIS.mask
    if global_seed is not None:
        torch.manual_seed(global_seed)
    if mlm_probability is None:        # the checks' way of leaving it to the default (0.15, as transformers')
        mlm_probability = 0.15
    out = collator_mask(input_ids, mask_token_id, vocab_size, special_token_ids, mlm_probability,
                        seed=seed if use_generator else None)
    return {"out": out, "input_after": input_ids.clone()}


CHECKS = checks_of(VIS) + checks_of(HID)


@pytest.mark.parametrize("chk", CHECKS, ids=lambda c: c.name)
def test_the_collator_passes_every_check(chk):
    try:
        chk.fn(collator_run)
    except Fail as f:
        pytest.fail(f"transformers fails the check {chk.name!r}: {f}")
