"""nlp/nsp_pairs against Hugging Face transformers' BERT tokenizers, built in memory (no download).

1. The reference's ``build_pair`` / ``truncate_seq_pair`` and the grader's oracle agree exactly
   with the Python BERT tokenizer (``BertTokenizerLegacy``, transformers/models/bert/
   tokenization_bert_legacy.py) encoding a pair with ``truncation="longest_first"``: same
   input_ids, same token_type_ids, same truncation (``PythonBackend.truncate_sequences`` in
   transformers/tokenization_python.py, which is BERT's ``truncate_seq_pair`` in closed form).
2. A ``tokenizers`` WordLevel "fast" tokenizer with BERT's pair template gives the same layout
   and segment ids whenever nothing is truncated; with truncation its Rust "longest_first" gives
   an odd leftover token to the originally longer segment, so it may differ from BERT by exactly
   one token moved between A and B -- the exercise's docstring says so, and this pins it.
3. Every example the reference's ``make_nsp_examples`` builds is the Python tokenizer's encoding
   of its (A, B).
"""
import random

import pytest
import torch

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")
from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy  # noqa: E402

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "nlp" / "nsp_pairs.py"), "twins_nlp_nsp_pairs_reference")
ORACLE = load_module(str(ROOT / "graders" / "nlp" / "nsp_pairs.py"), "twins_nlp_nsp_pairs_grader")

VOCAB = 60
NAMES = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(5, VOCAB)]
CLS, SEP = 2, 3


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    transformers.logging.set_verbosity_error()      # longest_first pairs warn about overflowing tokens
    path = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    path.write_text("\n".join(NAMES) + "\n")
    tok = BertTokenizerLegacy(str(path))
    assert (tok.cls_token_id, tok.sep_token_id) == (CLS, SEP)
    return tok


@pytest.fixture(scope="module")
def fast():
    model = tokenizers.models.WordLevel(vocab={n: i for i, n in enumerate(NAMES)}, unk_token="[UNK]")
    tok = tokenizers.Tokenizer(model)
    tok.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    tok.post_processor = tokenizers.processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", CLS), ("[SEP]", SEP)])
    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]",
                                                cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


def random_pair(r):
    a = [r.randrange(5, VOCAB) for _ in range(r.randint(1, 18))]
    b = [r.randrange(5, VOCAB) for _ in range(r.randint(1, 18))]
    return a, b, r.randint(5, 40)


def slow_pair(tok, a, b, max_len):
    enc = tok.prepare_for_model(a, b, truncation="longest_first", max_length=max_len, return_token_type_ids=True)
    return enc["input_ids"], enc["token_type_ids"]


def fast_pair(tok, a, b, max_len=None):
    words = lambda ids: [NAMES[i] for i in ids]  # noqa: E731
    kw = dict(truncation="longest_first", max_length=max_len) if max_len else {}
    enc = tok(words(a), words(b), is_split_into_words=True, return_token_type_ids=True, **kw)
    return enc["input_ids"], enc["token_type_ids"]


@pytest.mark.parametrize("seed", range(10))
def test_reference_and_oracle_match_the_python_bert_tokenizer(slow, seed):
    r = random.Random(seed)
    for _ in range(200):
        a, b, max_len = random_pair(r)
        a0, b0 = list(a), list(b)
        want = slow_pair(slow, a, b, max_len)
        assert REF.build_pair(a, b, CLS, SEP, max_len) == want
        assert ORACLE.oracle_pair(a, b, CLS, SEP, max_len) == want
        remove = len(a) + len(b) - (max_len - 3)
        ta, tb, _ = slow.truncate_sequences(list(a), list(b), num_tokens_to_remove=remove,
                                            truncation_strategy="longest_first")
        assert REF.truncate_seq_pair(a, b, max_len - 3) == (ta, tb)
        assert ORACLE.oracle_truncate(a, b, max_len - 3) == (ta, tb)
        assert (a, b) == (a0, b0)


def test_fast_tokenizer_gives_the_same_layout_without_truncation(fast):
    r = random.Random(100)
    for _ in range(300):
        a, b, _ = random_pair(r)
        assert REF.build_pair(a, b, CLS, SEP, len(a) + len(b) + 3) == fast_pair(fast, a, b)


def test_fast_tokenizer_truncation_differs_only_by_the_odd_leftover_token(fast):
    r = random.Random(101)
    differ = 0
    for _ in range(2000):
        a, b, max_len = random_pair(r)
        ref_ids, ref_types = REF.build_pair(a, b, CLS, SEP, max_len)
        fast_ids, fast_types = fast_pair(fast, a, b, max_len)
        if (ref_ids, ref_types) == (fast_ids, fast_types):
            continue
        differ += 1
        ra, fa = ref_types.count(0) - 2, fast_types.count(0) - 2          # kept tokens of A
        rb, fb = len(ref_ids) - ra - 3, len(fast_ids) - fa - 3
        assert len(ref_ids) == len(fast_ids) == max_len and abs(ra - fa) == 1 and ra + rb == fa + fb
        assert abs(ra - rb) == 1 and (fa > fb) == (len(a) > len(b))      # Rust favours the longer input
    assert differ > 0                                                     # the difference is real


def test_reference_examples_are_the_tokenizers_encodings(slow):
    docs = ORACLE.corpus(3, [2, 9, 1, 7, 4], max_words=9)
    shift = {t: 5 + k % (VOCAB - 5) for k, t in enumerate(sorted(ORACLE.where_is(docs)))}
    small = [[[shift[t] for t in s] for s in doc] for doc in docs]       # same shapes, ids inside the vocab
    rows = REF.make_nsp_examples(docs, CLS, SEP, 12, torch.Generator().manual_seed(0))
    found = ORACLE.identify([(r["input_ids"], r["token_type_ids"], r["is_next"]) for r in rows], docs)
    assert {label for *_, label, _ in found} == {0, 1}
    for row, (d, i, label, (bd, bj)) in zip(rows, found):
        want = slow_pair(slow, small[d][i], small[bd][bj], 12)
        got = ([shift.get(t, t) for t in row["input_ids"]], row["token_type_ids"])
        assert got == want
        assert (label == 1) == ((bd, bj) == (d, i + 1)) and (label == 1 or bd != d)
