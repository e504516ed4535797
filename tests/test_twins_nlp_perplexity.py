"""nlp/perplexity against Hugging Face transformers, on a small randomly initialised GPT-2
(GPT2LMHeadModel from a GPT2Config: nothing is downloaded):

* ``exp(model(ids, attention_mask=mask, labels=ids with -100 at padding).loss)`` -- transformers'
  ForCausalLMLoss, token-weighted over the batch -- equals the reference's ``corpus_perplexity``
  and the grader's oracle; the same call on one sequence at a time gives ``sequence_perplexities``.
* ``sequence_perplexities`` is the ``perplexities`` list of Hugging Face evaluate's perplexity metric
  (metrics/perplexity/perplexity.py: ``exp((CE(shift_logits, shift_labels) * attn_mask[..., 1:]).sum(1)
  / attn_mask[..., 1:].sum(1))``, transcribed here because ``evaluate`` is not installed), and its
  ``mean_perplexity`` is *not* the corpus perplexity.
* ``sliding_window_perplexity`` equals the loop of the guide "Perplexity of fixed-length models"
  (docs/source/en/perplexity.md) run with the model's own ``labels=`` loss, once each window is
  weighted by its exact number of scored labels; the guide's literal weighting (valid labels - 1)
  agrees only when no two windows overlap.
"""
import math

import pytest
import torch

from mlkata.engine import load_module
from helpers import ROOT

transformers = pytest.importorskip("transformers")
from transformers import GPT2Config, GPT2LMHeadModel  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "nlp" / "perplexity.py"), "twins_nlp_perplexity_reference")
ORACLE = load_module(str(ROOT / "graders" / "nlp" / "perplexity.py"), "twins_nlp_perplexity_grader")
VOCAB, CONTEXT = 40, 16


@pytest.fixture(scope="module")
def gpt2():
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=VOCAB, n_positions=CONTEXT, n_embd=32, n_layer=2, n_head=2,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    return GPT2LMHeadModel(cfg).eval()


def right_padded(seed, B=4, T=12):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, VOCAB, (B, T), generator=g)
    lengths = torch.randint(2, T + 1, (B,), generator=g)
    lengths[0] = T
    mask = (torch.arange(T)[None] < lengths[:, None]).long()
    return ids, mask


def hf_labels(ids, mask):
    return ids.masked_fill(mask == 0, -100)


def evaluate_perplexities(logits, ids, mask):
    """evaluate's perplexity metric, transcribed (CrossEntropyLoss(reduction='none'))."""
    shift_logits, shift_labels, shift_mask = logits[..., :-1, :], ids[..., 1:], mask[..., 1:]
    ce = torch.nn.CrossEntropyLoss(reduction="none")(shift_logits.transpose(1, 2), shift_labels)
    return torch.exp((ce * shift_mask).sum(1) / shift_mask.sum(1))


@pytest.mark.parametrize("seed", range(12))
def test_corpus_and_sequence_perplexity_match_gpt2_loss(gpt2, seed):
    ids, mask = right_padded(seed)
    with torch.no_grad():
        out = gpt2(ids, attention_mask=mask, labels=hf_labels(ids, mask))
        per_seq = torch.stack([gpt2(ids[b:b + 1, :int(mask[b].sum())], labels=ids[b:b + 1, :int(mask[b].sum())]).loss
                               for b in range(ids.size(0))]).exp()
    logits = out.logits
    torch.testing.assert_close(REF.corpus_perplexity(logits, ids, mask), out.loss.exp(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ORACLE.oracle_corpus(logits, ids, mask), out.loss.exp(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(REF.sequence_perplexities(logits, ids, mask), per_seq, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ORACLE.oracle_seq(logits, ids, mask), per_seq, rtol=1e-5, atol=1e-5)
    hf_eval = evaluate_perplexities(logits, ids, mask)
    torch.testing.assert_close(REF.sequence_perplexities(logits, ids, mask), hf_eval, rtol=1e-5, atol=1e-5)
    if seed == 0:       # evaluate's mean_perplexity is a different number from the corpus perplexity
        assert abs(hf_eval.mean().item() - out.loss.exp().item()) > 1e-3


def test_left_padding_follows_the_labels_convention(gpt2):
    """With left padding, labels = -100 at padding count the first real token (predicted from a pad
    position): the exercise's mask rule (attention_mask[:, 1:]) is exactly that convention."""
    ids, mask = right_padded(99)
    mask = mask.flip(1)
    with torch.no_grad():
        out = gpt2(ids, attention_mask=mask, labels=hf_labels(ids, mask))
    torch.testing.assert_close(REF.corpus_perplexity(out.logits, ids, mask), out.loss.exp(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(REF.sequence_perplexities(out.logits, ids, mask),
                               evaluate_perplexities(out.logits, ids, mask), rtol=1e-5, atol=1e-5)


def guide_loop(model, input_ids, max_length, stride, exact=True):
    """The guide's loop (batch of one), with the model's own labels= loss."""
    encodings = input_ids[None]
    seq_len = encodings.size(1)
    nll_sum, n_tokens, prev_end_loc = 0.0, 0, 0
    for begin_loc in range(0, seq_len, stride):
        end_loc = min(begin_loc + max_length, seq_len)
        trg_len = end_loc - prev_end_loc
        ids = encodings[:, begin_loc:end_loc]
        target_ids = ids.clone()
        target_ids[:, :-trg_len] = -100
        with torch.no_grad():
            loss = model(ids, labels=target_ids).loss
        if exact:
            num_loss_tokens = int((target_ids[:, 1:] != -100).sum())       # the labels the loss averaged
        else:
            num_loss_tokens = int((target_ids != -100).sum()) - target_ids.size(0)   # the guide's line
        nll_sum += loss.item() * num_loss_tokens
        n_tokens += num_loss_tokens
        prev_end_loc = end_loc
        if end_loc == seq_len:
            break
    return math.exp(nll_sum / n_tokens)


@pytest.mark.parametrize("N,max_length,stride", [(50, 16, 8), (50, 16, 5), (20, 8, 1), (64, 16, 16), (45, 8, 8),
                                                 (16, 16, 4), (10, 16, 3), (33, 12, 11)])
def test_sliding_window_matches_the_guide_loop(gpt2, N, max_length, stride):
    g = torch.Generator().manual_seed(N * 100 + stride)
    ids = torch.randint(0, VOCAB, (N,), generator=g)

    def model(window):
        assert window.shape[1] <= max_length
        with torch.no_grad():
            return gpt2(window).logits

    want = guide_loop(gpt2, ids, max_length, stride)
    assert REF.sliding_window_perplexity(model, ids, max_length, stride) == pytest.approx(want, rel=1e-5)
    assert ORACLE.oracle_sliding(model, ids, max_length, stride) == pytest.approx(want, rel=1e-5)
    literal = guide_loop(gpt2, ids, max_length, stride, exact=False)
    overlapping = stride < max_length and N > max_length
    assert (literal != pytest.approx(want, rel=1e-7)) == overlapping


def test_one_window_is_the_plain_perplexity(gpt2):
    ids = torch.randint(0, VOCAB, (14,), generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        loss = gpt2(ids[None], labels=ids[None]).loss
        got = REF.sliding_window_perplexity(lambda w: gpt2(w).logits, ids, CONTEXT, 4)
    assert got == pytest.approx(loss.exp().item(), rel=1e-5)
