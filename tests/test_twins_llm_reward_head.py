"""Library twin of llm/reward_head: the reference's last-token index and rewards agree with
Hugging Face's sequence-classification pooling -- tiny random ``LlamaForSequenceClassification``
and ``GPT2ForSequenceClassification`` models with one label (what TRL's RewardTrainer trains),
batches padded on the right and on the left -- given the model's own last hidden states and its
``score`` weight.  The grader's oracle is checked against the same models."""
import pytest
import torch

from mlkata.engine import load_module
from helpers import ROOT

transformers = pytest.importorskip("transformers")
PAD = 0


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "llm" / "reward_head.py"), "twin_solution_llm_reward_head")


@pytest.fixture(scope="module")
def oracle():
    return load_module(str(ROOT / "graders" / "llm" / "reward_head.py"), "twin_grader_llm_reward_head")


def tiny(kind):
    torch.manual_seed(0)
    if kind == "llama":
        config = transformers.LlamaConfig(vocab_size=40, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                                          num_attention_heads=2, num_key_value_heads=2, num_labels=1, pad_token_id=PAD)
        return transformers.LlamaForSequenceClassification(config).eval()
    config = transformers.GPT2Config(vocab_size=40, n_positions=32, n_embd=16, n_layer=2, n_head=2, num_labels=1,
                                     pad_token_id=PAD)
    return transformers.GPT2ForSequenceClassification(config).eval()


def padded_batch(seed, side, B=5, T=8):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 40, (B, T), generator=g)                  # real tokens are never the pad id
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    pos = torch.arange(T)[None, :]
    real = pos < lengths[:, None] if side == "right" else pos >= (T - lengths)[:, None]
    return ids.masked_fill(~real, PAD), real.long()


@pytest.mark.parametrize("kind", ["llama", "gpt2"])
@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("seed", [0, 1])
def test_rewards_agree_with_sequence_classification(ref, oracle, kind, side, seed):
    model = tiny(kind)
    ids, mask = padded_batch(seed, side)
    with torch.no_grad():
        theirs = model(input_ids=ids, attention_mask=mask).logits.squeeze(-1)           # (B,)
        hidden = model.base_model(input_ids=ids, attention_mask=mask).last_hidden_state  # (B, T, H)
        head = ref.RewardHead(hidden.shape[-1])
        head.load_state_dict({"score.weight": model.score.weight})
        ours = head(hidden, mask)
    torch.testing.assert_close(ours, theirs)
    torch.testing.assert_close(oracle.oracle_rewards(hidden, mask, model.score.weight.detach()), theirs)
    # HF's index rule (rightmost token that is not the pad id) equals the mask's last 1 on these batches
    hf_last = (torch.arange(ids.shape[1]) * (ids != PAD).int()).argmax(-1)
    torch.testing.assert_close(ref.last_token_index(mask), hf_last)
