"""nlp/causal_lm_loss against Hugging Face transformers: a tiny, randomly initialised
``GPT2LMHeadModel`` (built from a ``GPT2Config``, nothing downloaded) computes its own loss when
called with ``labels`` (``ForCausalLMLoss`` in transformers/loss/loss_utils.py: shift inside,
float32 upcast, ignore_index -100, mean over the counted tokens).  The reference
(solutions/nlp/causal_lm_loss.py) and the grader's oracle (graders/nlp/causal_lm_loss.py,
F.cross_entropy on the shifted batch) applied to the model's logits give the same number, with
-100 padding labels or, equivalently, raw input ids plus the attention mask; and the same
gradient with respect to the logits.  The library's loss function itself passes every check but
the two about float64 logits, which transformers computes in float32 (pinned below).
"""
import pytest
import torch

transformers = pytest.importorskip("transformers")

from mlkata import catalog, grading  # noqa: E402
from mlkata.checks import Fail, checks_of  # noqa: E402
from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "nlp" / "causal_lm_loss.py"), "twins_nlp_causal_lm_loss_reference")
ORACLE = load_module(str(ROOT / "graders" / "nlp" / "causal_lm_loss.py"), "twins_nlp_causal_lm_loss_grader")
EX = catalog.get("nlp/causal_lm_loss")
VIS, HID = grading.check_module("visible", EX), grading.check_module("hidden", EX)

VOCAB, PAD = 50, 0


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=VOCAB, n_positions=32, n_embd=32, n_layer=2, n_head=2,
                                     pad_token_id=PAD, bos_token_id=1, eos_token_id=2)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)            # a tiny model: intra-op threads only contend (10x slower on 2 busy cores)
    yield transformers.GPT2LMHeadModel(config).eval()
    torch.set_num_threads(threads)


def padded_batch(seed, side):
    g = torch.Generator().manual_seed(seed)
    B, T = 4, 12
    ids = torch.randint(3, VOCAB, (B, T), generator=g)
    lengths = torch.randint(2, T + 1, (B,), generator=g)
    lengths[0] = T
    pos = torch.arange(T)
    real = pos[None] < lengths[:, None] if side == "right" else pos[None] >= (T - lengths)[:, None]
    return ids.masked_fill(~real, PAD), real.long()


@pytest.mark.parametrize("seed,side", [(s, side) for s in range(5) for side in ("right", "left")])
def test_reference_and_oracle_match_gpt2_loss(model, seed, side):
    ids, mask = padded_batch(seed, side)
    labels = ids.masked_fill(mask == 0, -100)
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
    want = out.loss
    for got in (REF.causal_lm_loss(out.logits, labels), REF.causal_lm_loss(out.logits, ids, mask),
                ORACLE.oracle(out.logits, labels), ORACLE.oracle(out.logits, ids, mask)):
        torch.testing.assert_close(got.float(), want, rtol=1e-6, atol=1e-6)


def test_gradients_match_gpt2_loss(model):
    ids, mask = padded_batch(7, "right")
    labels = ids.masked_fill(mask == 0, -100)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits
    grads = []
    for fn in (lambda x: transformers.loss.loss_utils.ForCausalLMLoss(x, labels, VOCAB),
               lambda x: REF.causal_lm_loss(x, ids, mask)):
        x = logits.clone().requires_grad_(True)
        fn(x).backward()
        grads.append(x.grad)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(ORACLE.oracle_grad(logits, labels).float(), grads[0], rtol=1e-5, atol=1e-7)


def test_half_precision_logits_are_upcast_like_transformers():
    g = torch.Generator().manual_seed(3)
    logits = (torch.randn(3, 9, VOCAB, generator=g) * 4).bfloat16()
    labels = torch.randint(VOCAB, (3, 9), generator=g)
    want = transformers.loss.loss_utils.ForCausalLMLoss(logits, labels, VOCAB)
    assert want.dtype == torch.float32
    torch.testing.assert_close(REF.causal_lm_loss(logits, labels), want, rtol=1e-6, atol=1e-6)


def library_run(probe, *args, **kwargs):
    """A stand-in for ``run(probe, ...)`` in which transformers' ForCausalLMLoss is the learner."""
    class Library:
        @staticmethod
        def causal_lm_loss(logits, labels, attention_mask=None, ignore_index=-100):
            if attention_mask is not None:
                labels = labels.masked_fill(attention_mask == 0, ignore_index)
            loss = transformers.loss.loss_utils.ForCausalLMLoss(logits, labels, logits.size(-1),
                                                                ignore_index=ignore_index)
            return loss
    return probe.fn(Library, *args, **kwargs)


# transformers computes float64 logits in float32 (ForCausalLMLoss calls logits.float()); the
# exercise keeps float64 in float64, as torch's cross_entropy does, so these two checks differ.
FLOAT64_CHECKS = {"float_dtypes", "finite_differences"}


def test_transformers_computes_float64_logits_in_float32():
    g = torch.Generator().manual_seed(4)
    logits = torch.randn(2, 6, VOCAB, generator=g, dtype=torch.float64)
    labels = torch.randint(VOCAB, (2, 6), generator=g)
    assert transformers.loss.loss_utils.ForCausalLMLoss(logits, labels, VOCAB).dtype == torch.float32
    assert REF.causal_lm_loss(logits, labels).dtype == torch.float64
    assert {c.name for c in checks_of(HID)} >= FLOAT64_CHECKS


@pytest.mark.parametrize("chk", [c for c in checks_of(VIS) + checks_of(HID) if c.name not in FLOAT64_CHECKS],
                         ids=lambda c: c.name)
def test_the_library_loss_passes_every_check(chk):
    try:
        chk.fn(library_run)
    except Fail as f:
        pytest.fail(f"transformers' ForCausalLMLoss fails the check {chk.name!r}: {f}")
