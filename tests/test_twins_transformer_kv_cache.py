"""transformer/kv_cache: the grader's oracle (scaled_dot_product_attention with a bottom-right
causal mask) agrees with torch.nn.MultiheadAttention under a causal mask, and the reference,
decoding token by token, reproduces Hugging Face GPT-2's attention outputs and its
``past_key_values`` (same [B, H, T, hd] layout, same values) -- GPT-2's attention is nanoGPT's
(c_attn / c_proj), stored as Conv1D, i.e. with transposed weights."""
import pytest
import torch

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("transformer/kv_cache")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "transformer" / "kv_cache.py"), "twin_ref_transformer_kv_cache")


@pytest.fixture(scope="module")
def visible():
    return grading.check_module("visible", EX)


@pytest.mark.parametrize("seed", range(6))
def test_oracle_agrees_with_multihead_attention(visible, seed):
    E, H, T = 8, [1, 2, 4][seed % 3], 3 + seed
    params = visible.random_params(E, seed)
    x = visible.sequence(seed, 2, T, E)
    mha = torch.nn.MultiheadAttention(E, H, batch_first=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(params["c_attn.weight"])
        mha.in_proj_bias.copy_(params["c_attn.bias"])
        mha.out_proj.weight.copy_(params["c_proj.weight"])
        mha.out_proj.bias.copy_(params["c_proj.bias"])
    want, _ = mha(x, x, x, attn_mask=torch.ones(T, T, dtype=torch.bool).triu(1), need_weights=False)
    y, _ = visible.oracle(params, x, H)
    torch.testing.assert_close(y, want)
    # the oracle with a cache: the last chunk after the first T - 2 tokens is the tail of the full result
    _, cache = visible.oracle(params, x[:, :T - 2], H)
    tail, _ = visible.oracle(params, x[:, T - 2:], H, cache)
    torch.testing.assert_close(tail, want[:, T - 2:])


def _cache_layer(past, i=0):
    """(keys, values) of layer i, across transformers' cache APIs."""
    if hasattr(past, "layers"):
        return past.layers[i].keys, past.layers[i].values
    if hasattr(past, "key_cache"):
        return past.key_cache[i], past.value_cache[i]
    return past[i]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("seed", range(3))
def test_reference_reproduces_gpt2_past_key_values(ref, seed):
    transformers = pytest.importorskip("transformers")
    E, H = 16, 4
    cfg = transformers.GPT2Config(n_embd=E, n_head=H, n_layer=1, vocab_size=50, n_positions=32, attn_pdrop=0.0,
                                  resid_pdrop=0.0, embd_pdrop=0.0, bos_token_id=0, eos_token_id=0)
    torch.manual_seed(seed)
    model = transformers.GPT2Model(cfg).eval()
    attn = model.h[0].attn
    with torch.no_grad():                          # nonzero biases, so the test sees them
        attn.c_attn.bias.normal_(0, 0.3)
        attn.c_proj.bias.normal_(0, 0.3)
    seen = []
    attn.register_forward_hook(lambda m, args, kwargs, out: seen.append(
        ((args[0] if args else kwargs["hidden_states"]).detach(), out[0].detach())), with_kwargs=True)

    mine = ref.CachedCausalSelfAttention(E, H)
    with torch.no_grad():                          # Conv1D stores [in, out]; nn.Linear [out, in]
        mine.c_attn.weight.copy_(attn.c_attn.weight.T)
        mine.c_attn.bias.copy_(attn.c_attn.bias)
        mine.c_proj.weight.copy_(attn.c_proj.weight.T)
        mine.c_proj.bias.copy_(attn.c_proj.bias)

    ids = torch.randint(0, 50, (2, 7), generator=torch.Generator().manual_seed(seed))
    sizes = [3, 1, 2, 1]
    past, cache, start = None, None, 0
    with torch.no_grad():
        for size in sizes:
            out = model(ids[:, start:start + size], past_key_values=past, use_cache=True)
            past = out.past_key_values
            hidden, hf_y = seen[-1]
            y, cache = mine(hidden, cache)
            torch.testing.assert_close(y, hf_y)
            hf_k, hf_v = _cache_layer(past)
            torch.testing.assert_close(cache[0], hf_k)
            torch.testing.assert_close(cache[1], hf_v)
            start += size
    assert cache[0].shape == (2, H, 7, E // H)
