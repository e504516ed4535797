"""llm/tiny_gpt: the reference model and the graders' oracle give the logits of transformers'
GPT2LMHeadModel (exact GELU, dropout off) holding the same weights (GPT-2's Conv1D stores the
transposed matrices); count_parameters equals that model's parameter count; and the reference's
cached decoding equals the library's full forward pass."""
import pytest
import torch

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("llm/tiny_gpt")
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "llm" / "tiny_gpt.py"), "twin_ref_tiny_gpt")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


def hf_gpt2(cfg, state):
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(vocab_size=cfg["vocab_size"], n_positions=cfg["block_size"],
                                     n_embd=cfg["n_embd"], n_layer=cfg["n_layer"], n_head=cfg["n_head"],
                                     activation_function="gelu", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = transformers.GPT2LMHeadModel(config).eval()
    theirs = {k: (v.T if k.endswith(CONV1D) else v) for k, v in state.items()}
    missing, unexpected = model.load_state_dict(theirs, strict=False)
    assert not unexpected and set(missing) <= {"lm_head.weight"}          # tied to wte
    return model


@pytest.mark.parametrize("cfg_index", range(3))
def test_reference_and_oracle_agree_with_gpt2(ref, grader, cfg_index):
    cfg = grader.CONFIGS[cfg_index]
    state = grader.V.random_state(cfg, seed=cfg_index)
    theirs = hf_gpt2(cfg, state)
    mine = ref.TinyGPT(ref.GPTConfig(**cfg))
    mine.load_state_dict({**state, "lm_head.weight": state["transformer.wte.weight"]})
    mine.eval()
    idx = grader.ids(cfg_index, 2, cfg["block_size"], cfg["vocab_size"])
    with torch.no_grad():
        want = theirs(idx).logits
        torch.testing.assert_close(mine(idx)[0], want, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(grader.V.oracle_forward(state, cfg, idx), want, rtol=1e-4, atol=1e-5)
        logits, cache = mine(idx[:, :3])
        steps = [logits]
        for t in range(3, cfg["block_size"]):
            logits, cache = mine(idx[:, t:t + 1], cache)
            steps.append(logits)
        torch.testing.assert_close(torch.cat(steps, 1), want, rtol=1e-4, atol=1e-5)
    assert ref.count_parameters(ref.GPTConfig(**cfg)) == theirs.num_parameters()
