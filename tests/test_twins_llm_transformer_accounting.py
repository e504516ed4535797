"""llm/transformer_accounting: the reference's counts are exact for real models -- param_count equals
transformers' LlamaForCausalLM.num_parameters() (MHA, GQA, MQA; tied and untied heads) and a
plain-MLP variant built in torch; forward_flops equals torch.utils.flop_counter.FlopCounterMode on
the Llama model's forward (eager attention); kv_cache_bytes equals the bytes of the model's own
DynamicCache after a forward pass in bfloat16."""
import pytest
import torch
import torch.nn as nn
from torch.utils.flop_counter import FlopCounterMode

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("llm/transformer_accounting")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "llm" / "transformer_accounting.py"), "twin_ref_accounting")


def llama(sizes, tied):
    transformers = pytest.importorskip("transformers")
    config = transformers.LlamaConfig(vocab_size=sizes["vocab_size"], hidden_size=sizes["d_model"],
                                      num_hidden_layers=sizes["n_layer"], num_attention_heads=sizes["n_head"],
                                      num_key_value_heads=sizes["n_kv_head"], intermediate_size=sizes["d_ff"],
                                      tie_word_embeddings=tied)
    config._attn_implementation = "eager"
    return transformers.LlamaForCausalLM(config).eval()


@pytest.mark.parametrize("n_head,n_kv_head,tied", [(4, 4, False), (4, 2, False), (8, 1, True), (6, 3, True)])
def test_counts_agree_with_llama_and_flop_counter(ref, n_head, n_kv_head, tied):
    sizes = dict(vocab_size=57, n_layer=2, d_model=8 * n_head, n_head=n_head, n_kv_head=n_kv_head, d_ff=40)
    model = llama(sizes, tied)
    shape = ref.Shape(**sizes, tied_embeddings=tied)
    assert ref.param_count(shape) == model.num_parameters()
    ids = torch.randint(57, (3, 9))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        out = model(ids, use_cache=True)
    assert ref.forward_flops(shape, 3, 9) == counter.get_total_flops()
    cache = out.past_key_values
    layers = [(cache.layers[i].keys, cache.layers[i].values) for i in range(sizes["n_layer"])]
    n_values = sum(k.numel() + v.numel() for k, v in layers)
    assert ref.kv_cache_bytes(shape, 3, 9, bytes_per_value=2) == n_values * torch.tensor([], dtype=torch.bfloat16).element_size()


def test_plain_mlp_counts_agree_with_a_torch_model(ref):
    d, f, V, L = 16, 24, 30, 3
    layers = []
    for _ in range(L):
        layers += [nn.RMSNorm(d), nn.Linear(d, d, bias=False), nn.Linear(d, d // 2, bias=False),
                   nn.Linear(d, d // 2, bias=False), nn.Linear(d, d, bias=False), nn.RMSNorm(d),
                   nn.Linear(d, f, bias=False), nn.Linear(f, d, bias=False)]
    model = nn.ModuleList([nn.Embedding(V, d), *layers, nn.RMSNorm(d), nn.Linear(d, V, bias=False)])
    shape = ref.Shape(vocab_size=V, n_layer=L, d_model=d, n_head=4, n_kv_head=2, d_ff=f, gated_mlp=False)
    assert ref.param_count(shape) == sum(p.numel() for p in model.parameters())
    assert ref.training_flops(shape, 2, 5) == 3 * ref.forward_flops(shape, 2, 5)
