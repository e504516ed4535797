"""Library twin of llm/sft_loss: the labels agree with TRL's SFT dataset preparation
(``SFTTrainer._prepare_dataset`` with ``completion_only_loss=True``, then TRL's collator), and the
'tokens' loss agrees with transformers' causal-LM loss -- a tiny random GPT-2 called with those
labels -- for the reference and the grader's oracles alike.  ('sequences' has no library twin:
the grader's oracle is the per-row mean of F.cross_entropy, checked here against a loop.)"""
from types import SimpleNamespace

import pytest
import torch

from mlkata.engine import load_module
from helpers import ROOT

sft = pytest.importorskip("trl.trainer.sft_trainer")
datasets = pytest.importorskip("datasets")
transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "llm" / "sft_loss.py"), "twin_solution_llm_sft_loss")


@pytest.fixture(scope="module")
def oracle():
    return load_module(str(ROOT / "graders" / "llm" / "sft_loss.py"), "twin_grader_llm_sft_loss")


def examples(seed, n=6, vocab=50):
    """Tokenised prompt-completion examples as TRL stores them: input_ids and completion_mask."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        prompt, completion = int(torch.randint(1, 6, (), generator=g)), int(torch.randint(1, 6, (), generator=g))
        ids = torch.randint(1, vocab, (prompt + completion,), generator=g).tolist()
        out.append({"input_ids": ids, "completion_mask": [0] * prompt + [1] * completion})
    return out


def sft_config_defaults() -> dict:
    """SFTConfig's defaults, read off its fields (building a config would set up training)."""
    import dataclasses
    from trl import SFTConfig
    return {f.name: f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            for f in dataclasses.fields(SFTConfig)}


def test_sft_config_defaults_to_completion_only_loss():
    """The stand-in trainer's completion_only_loss=True is what SFTConfig does for prompt-completion data
    (its default None means: on when the dataset has a completion mask)."""
    assert sft_config_defaults()["completion_only_loss"] in (None, True)


def trl_batch(rows):
    """TRL's own preparation (labels column from the completion mask) and collation (right padding)."""
    stand_in = SimpleNamespace(completion_only_loss=True, _is_vision_dataset=False, padding_free=False)
    args = SimpleNamespace(**{**sft_config_defaults(), "max_length": None, "packing": False})
    dataset = datasets.Dataset.from_list(rows)
    prepared = sft.SFTTrainer._prepare_dataset(stand_in, dataset, None, args, False, None, "train")
    collator = sft.DataCollatorForLanguageModeling(pad_token_id=0)
    return collator([{"input_ids": r["input_ids"], "labels": r["labels"]} for r in prepared])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_labels_agree_with_trls_sft_preparation(ref, oracle, seed):
    rows = examples(seed)
    batch = trl_batch(rows)
    prompt_lengths = torch.tensor([r["completion_mask"].count(0) for r in rows])
    ours = ref.completion_labels(batch["input_ids"], prompt_lengths, batch["attention_mask"])
    torch.testing.assert_close(ours, batch["labels"], rtol=0, atol=0)
    torch.testing.assert_close(oracle.oracle_labels(batch["input_ids"], prompt_lengths, batch["attention_mask"]),
                               batch["labels"], rtol=0, atol=0)
    # left padding: the same rows flushed right give the same labels, flushed right
    T = batch["input_ids"].shape[1]
    lengths = batch["attention_mask"].sum(1)
    left_ids = torch.stack([row.roll(int(T - n)) for row, n in zip(batch["input_ids"], lengths)])
    left_mask = torch.stack([row.roll(int(T - n)) for row, n in zip(batch["attention_mask"], lengths)])
    left = ref.completion_labels(left_ids, prompt_lengths, left_mask)
    want = torch.stack([row.roll(int(T - n)) for row, n in zip(batch["labels"], lengths)])
    torch.testing.assert_close(left, want, rtol=0, atol=0)


def tiny_gpt2(seed=0, vocab=50):
    torch.manual_seed(seed)
    config = transformers.GPT2Config(vocab_size=vocab, n_positions=32, n_embd=16, n_layer=2, n_head=2)
    return transformers.GPT2LMHeadModel(config).eval()        # float32: its loss upcasts to float32 anyway


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_token_loss_and_gradient_agree_with_a_gpt2_trained_on_these_labels(ref, oracle, seed):
    rows = examples(seed)
    batch = trl_batch(rows)
    model = tiny_gpt2(seed)
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"])
    (theirs_grad,) = torch.autograd.grad(out.loss, model.lm_head.weight)
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    ours = ref.sft_loss(logits, batch["labels"])
    (ours_grad,) = torch.autograd.grad(ours, model.lm_head.weight)
    torch.testing.assert_close(ours, out.loss, rtol=1e-6, atol=1e-7)
    torch.testing.assert_close(ours_grad, theirs_grad, rtol=1e-5, atol=1e-8)
    torch.testing.assert_close(oracle.oracle_loss(logits.detach(), batch["labels"]).float(), out.loss.detach(),
                               rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("seed", [0, 1])
def test_sequence_mean_oracle_and_reference_agree_with_a_loop(ref, oracle, seed):
    logits, labels = oracle.loss_batch(seed, dtype=torch.float64)
    labels[2] = -100
    rows = []
    for b in range(labels.shape[0]):
        terms = [-torch.log_softmax(logits[b, t - 1], -1)[labels[b, t]] for t in range(1, labels.shape[1])
                 if labels[b, t] != -100]
        if terms:
            rows.append(sum(terms) / len(terms))
    want = sum(rows) / len(rows)
    torch.testing.assert_close(oracle.oracle_loss(logits, labels, "sequences"), want)
    torch.testing.assert_close(ref.sft_loss(logits, labels, "sequences"), want)
