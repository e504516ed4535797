"""Visible checks: a small Llama configuration counted by hand, its forward FLOPs, and the KV cache
of a 7B-like model with and without grouped-query attention."""
from mlkata.checks import check, expect_equal, probe


@probe
def accounting(sub, sizes, fn, *args):
    return getattr(sub, fn)(sub.Shape(**sizes), *args)


SMALL = dict(vocab_size=50, n_layer=2, d_model=32, n_head=4, n_kv_head=2, d_ff=48)
LLAMA_7B = dict(vocab_size=32000, n_layer=32, d_model=4096, n_head=32, n_kv_head=32, d_ff=11008)


@check("param_count of a small Llama by hand: 18720")
def params_by_hand(run):
    got = run(accounting, SMALL, "param_count")
    # embedding 1600 + head 1600 + 2 layers x (2*1024 + 2*32*16 + 3*32*48 + 64) + 32
    expect_equal(got, 18720, "embedding V*d, per layer q/o d*d, k/v d*(n_kv_head*head_dim), gated MLP 3*d*d_ff, two "
                 "norms d; final norm d; untied head d*V", what="param_count(V=50, L=2, d=32, H=4, H_kv=2, d_ff=48)")


@check("forward_flops of the same model on 2 x 7 tokens: 499968 (as FlopCounterMode counts)")
def flops_by_hand(run):
    got = run(accounting, SMALL, "forward_flops", 2, 7)
    expect_equal(got, 499968, "2 FLOPs per weight per token for every matmul weight (layers and head), plus "
                 "2 * 2 * B * n_head * T^2 * head_dim per layer for the attention products",
                 what="forward_flops(small model, batch=2, seq_len=7)")


@check("kv_cache_bytes: Llama-2-7B at 4096 tokens in bfloat16 is 2 GiB per sequence; 8 KV heads cut it 4x")
def kv_cache_by_hand(run):
    got = run(accounting, LLAMA_7B, "kv_cache_bytes", 1, 4096)
    expect_equal(got, 2 * 32 * 4096 * 32 * 128 * 2, "keys and values x layers x tokens x n_kv_head x head_dim x 2 bytes",
                 what="kv_cache_bytes(7B, batch=1, seq_len=4096)")
    got = run(accounting, dict(LLAMA_7B, n_kv_head=8), "kv_cache_bytes", 1, 4096)
    expect_equal(got, 2 * 32 * 4096 * 8 * 128 * 2, "only the n_kv_head key/value heads are cached",
                 what="kv_cache_bytes(7B with 8 KV heads, batch=1, seq_len=4096)")
