"""transformer/debug_gpt: the fixed model (the reference) and the graders' oracle give the logits
of transformers' GPT2LMHeadModel (exact GELU, dropout off) holding the same weights, and the
reference's cached decoding equals the library's full pass; the model as handed out (the stub)
differs from the library -- the bugs are real."""
import pytest
import torch

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("transformer/debug_gpt")
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


def hf_gpt2(cfg, state):
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(vocab_size=cfg["vocab_size"], n_positions=cfg["block_size"],
                                     n_embd=cfg["n_embd"], n_layer=cfg["n_layer"], n_head=cfg["n_head"],
                                     activation_function="gelu", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = transformers.GPT2LMHeadModel(config).eval()
    missing, unexpected = model.load_state_dict({k: (v.T if k.endswith(CONV1D) else v) for k, v in state.items()},
                                                strict=False)
    assert not unexpected and set(missing) <= {"lm_head.weight"}
    return model


@pytest.mark.parametrize("cfg_index", range(3))
def test_fixed_model_and_oracle_agree_with_gpt2_and_the_given_model_does_not(grader, cfg_index):
    cfg = grader.CONFIGS[cfg_index]
    state = grader.V.random_state(cfg, seed=cfg_index)
    theirs = hf_gpt2(cfg, state)
    idx = grader.ids(cfg_index, 2, cfg["block_size"], cfg["vocab_size"])
    with torch.no_grad():
        want = theirs(idx).logits
        torch.testing.assert_close(grader.V.oracle_forward(state, cfg, idx), want, rtol=1e-4, atol=1e-5)
        for folder, agrees in (("solutions", True), ("exercises", False)):
            mod = load_module(str(ROOT / folder / "transformer" / "debug_gpt.py"), f"twin_debug_gpt_{folder}")
            model = mod.GPT(mod.GPTConfig(**cfg))
            model.load_state_dict({**state, "lm_head.weight": state["transformer.wte.weight"]})
            got = model.eval()(idx)[0]
            assert torch.allclose(got, want, rtol=1e-4, atol=1e-5) == agrees, folder
            if agrees:
                logits, cache = model(idx[:, :2])
                steps = [logits]
                for t in range(2, cfg["block_size"]):
                    logits, cache = model(idx[:, t:t + 1], cache)
                    steps.append(logits)
                torch.testing.assert_close(torch.cat(steps, 1), want, rtol=1e-4, atol=1e-5)
