"""Hidden graders of llm/transformer_accounting: parameter counts, forward and training FLOPs, KV-cache
bytes and the largest batch against the exact formulas (tests/test_twins_* checks the formulas
against transformers' LlamaForCausalLM.num_parameters() and torch's FlopCounterMode on the real
model) for random shapes -- multi-head, grouped-query and multi-query attention, gated and plain
MLPs, tied and untied heads -- and the defaults."""
import torch

from mlkata.checks import check, expect_equal, probe, visible_module

V = visible_module("llm/transformer_accounting")


@probe
def each(sub, cases):
    return [V.accounting.fn(sub, sizes, fn, *args) for sizes, fn, args in cases]


def oracle(sizes):
    s = dict(dict(gated_mlp=True, tied_embeddings=False), **sizes)
    d, hd, Vv, L = s["d_model"], s["d_model"] // s["n_head"], s["vocab_size"], s["n_layer"]
    attn = 2 * d * d + 2 * d * s["n_kv_head"] * hd
    mlp = (3 if s["gated_mlp"] else 2) * d * s["d_ff"]
    params = Vv * d + L * (attn + mlp + 2 * d) + d + (0 if s["tied_embeddings"] else d * Vv)

    def fwd(B, T):
        return 2 * B * T * (L * (attn + mlp) + d * Vv) + L * 4 * B * s["n_head"] * T * T * hd

    def kv(B, T, nbytes=2):
        return 2 * L * B * T * s["n_kv_head"] * hd * nbytes

    return params, fwd, kv


def shapes(seed, n):
    g = torch.Generator().manual_seed(seed)
    out = []
    for i in range(n):
        H = int(torch.randint(1, 9, (1,), generator=g))
        kv = [H, 1, max(H // 2, 1)][i % 3]
        if H % kv:
            kv = H
        sizes = dict(vocab_size=int(torch.randint(10, 5000, (1,), generator=g)), n_layer=int(torch.randint(1, 40, (1,), generator=g)),
                     d_model=H * int(torch.randint(2, 64, (1,), generator=g)), n_head=H, n_kv_head=kv,
                     d_ff=int(torch.randint(8, 3000, (1,), generator=g)))
        if i % 4 == 1:
            sizes["gated_mlp"] = False
        if i % 4 == 2:
            sizes["tied_embeddings"] = True
        out.append(sizes)
    return out


def label(s):
    return ", ".join(f"{k}={v}" for k, v in s.items())


@check("param_count for random shapes: MHA, GQA and MQA, gated and plain MLPs, tied and untied heads", points=2)
def params_random(run):
    cases = shapes(0, 12)
    gots = run(each, [(s, "param_count", ()) for s in cases])
    for s, got in zip(cases, gots):
        expect_equal(got, oracle(s)[0], "V*d + n_layer * (2 d^2 + 2 d n_kv_head head_dim + (3 or 2) d d_ff + 2d) + d "
                     "+ (d*V unless tied); the defaults are a gated MLP and an untied head", what=f"param_count({label(s)})")


@check("forward_flops and training_flops for random shapes, batches and lengths", points=2)
def flops_random(run):
    cases = shapes(1, 8)
    calls = []
    for i, s in enumerate(cases):
        B, T = 1 + i % 4, 1 + 37 * i
        calls += [(s, "forward_flops", (B, T)), (s, "training_flops", (B, T))]
    gots = run(each, calls)
    for (s, fn, (B, T)), got in zip(calls, gots):
        want = oracle(s)[1](B, T) * (3 if fn == "training_flops" else 1)
        expect_equal(got, want, "2 FLOPs per matmul weight per token (layers and head, tied or not) + 4 B n_head T^2 "
                     "head_dim per layer for attention; training = 3 x forward",
                     what=f"{fn}(batch={B}, seq_len={T}; {label(s)})")


@check("kv_cache_bytes for random shapes and value sizes (the default: 2 bytes)")
def kv_random(run):
    cases = shapes(2, 8)
    calls = [(s, "kv_cache_bytes", (1 + i, 100 * i + 7) + ((4,) if i % 2 else ())) for i, s in enumerate(cases)]
    gots = run(each, calls)
    for (s, _, args), got in zip(calls, gots):
        expect_equal(got, oracle(s)[2](*args), "2 (keys and values) x n_layer x batch x seq_len x n_kv_head x head_dim "
                     "x bytes_per_value", what=f"kv_cache_bytes{args} ({label(s)})")


@check("max_batch: weights plus per-sequence caches fit in memory; 0 when even one sequence does not")
def max_batch_cases(run):
    s = dict(vocab_size=32000, n_layer=32, d_model=4096, n_head=32, n_kv_head=8, d_ff=11008)
    params, _, kv = oracle(s)
    weights = params * 2
    per_seq = kv(1, 4096)
    memories = [80 * 2 ** 30, weights + 3 * per_seq, weights + 3 * per_seq - 1, weights + per_seq - 1, weights // 2]
    calls = [(s, "max_batch", (4096, m)) for m in memories] + [(s, "max_batch", (2048, 40 * 2 ** 30, 1))]
    gots = run(each, calls)
    for (sizes, _, args), got in zip(calls, gots):
        nbytes = args[2] if len(args) > 2 else 2
        want = max((args[1] - params * nbytes) // kv(1, args[0], nbytes), 0)
        expect_equal(got, want, "batch = floor((memory - param_count * bytes_per_value) / one sequence's KV cache), "
                     "never negative", what=f"max_batch(seq_len={args[0]}, memory_bytes={args[1]}"
                                            f"{', bytes_per_value=1' if len(args) > 2 else ''})")
