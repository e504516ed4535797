"""llm/moe_routing: the reference and the graders' oracles agree with transformers' own MoE code,
built from tiny random configs: MixtralTopKRouter and MixtralSparseMoeBlock (whose state dict the
reference's block loads as is), Mixtral's load_balancing_loss_func (with and without a padding
mask), SwitchTransformersTop1Router (capacity per sequence) and Switch's load_balancing_loss_func
(the k = 1 case)."""
import pytest
import torch

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("llm/moe_routing")
mixtral = pytest.importorskip("transformers.models.mixtral.modeling_mixtral")
switch = pytest.importorskip("transformers.models.switch_transformers.modeling_switch_transformers")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "llm" / "moe_routing.py"), "twin_ref_moe")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


def mixtral_config(H, I, E, k):
    from transformers import MixtralConfig
    return MixtralConfig(hidden_size=H, intermediate_size=I, num_local_experts=E, num_experts_per_tok=k,
                         router_jitter_noise=0.0, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2)


@pytest.mark.parametrize("H,I,E,k", [(8, 6, 4, 2), (6, 4, 8, 2), (4, 5, 3, 1), (8, 4, 6, 3)])
def test_block_and_router_agree_with_mixtral(ref, grader, H, I, E, k):
    torch.manual_seed(H * 100 + E * 10 + k)
    theirs = mixtral.MixtralSparseMoeBlock(mixtral_config(H, I, E, k)).eval()
    with torch.no_grad():
        for p in theirs.parameters():
            p.normal_(0, 0.5)
    mine = ref.SparseMoE(H, I, E, k)
    mine.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 5, H)
    y, logits = mine(x)
    torch.testing.assert_close(y, theirs(x))
    their_logits, their_scores, their_idx = theirs.gate(x)
    torch.testing.assert_close(logits, their_logits)
    weights, experts = ref.top_k_routing(logits, k)
    torch.testing.assert_close(weights, their_scores)
    assert torch.equal(experts, their_idx)
    params = {n: p.detach() for n, p in theirs.named_parameters()}
    torch.testing.assert_close(grader.V.dense_oracle(params, x, k)[0], y)


@pytest.mark.parametrize("k,masked", [(1, False), (2, False), (2, True), (3, True)])
def test_balance_loss_agrees_with_mixtral(ref, grader, k, masked):
    g = torch.Generator().manual_seed(k)
    B, T, E = 3, 7, 6
    logits = torch.randn(B * T, E, generator=g) * 2
    mask = (torch.rand(B, T, generator=g) < 0.7).long() if masked else None
    want = mixtral.load_balancing_loss_func((logits,), E, top_k=k, attention_mask=mask)
    flat = None if mask is None else mask.reshape(-1)
    torch.testing.assert_close(ref.load_balancing_loss(logits, k, attention_mask=flat), want)
    torch.testing.assert_close(grader.oracle_balance(logits, k, flat), want)


def test_balance_loss_k1_agrees_with_switch(ref):
    logits = torch.randn(1, 12, 4, generator=torch.Generator().manual_seed(5)) * 2
    probs = logits.softmax(-1)
    want = switch.load_balancing_loss_func(probs, probs.argmax(-1))
    torch.testing.assert_close(ref.load_balancing_loss(logits[0], 1), want)


@pytest.mark.parametrize("capacity", [1, 2, 3, 8])
def test_switch_route_agrees_with_top1_router(ref, grader, capacity):
    from transformers import SwitchTransformersConfig
    E = 4
    config = SwitchTransformersConfig(d_model=E, num_experts=E, expert_capacity=capacity, router_bias=False,
                                      router_jitter_noise=0.0)
    router = switch.SwitchTransformersTop1Router(config).eval()
    with torch.no_grad():
        router.classifier.weight.copy_(torch.eye(E))            # hidden states ARE the logits
    logits = torch.randn(3, 9, E, generator=torch.Generator().manual_seed(capacity)) * 2
    dispatch, gate, their_logits = router(logits)
    mine = ref.switch_route(logits, capacity)
    assert torch.equal(mine[0], dispatch)
    torch.testing.assert_close(mine[1], gate)
    oracle = grader.oracle_switch(logits, capacity)
    assert torch.equal(oracle[0], dispatch)
