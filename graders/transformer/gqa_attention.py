"""Hidden graders of transformer/gqa_attention: repeat_kv against repeat_interleave; the attention
function against torch's scaled_dot_product_attention(enable_gqa=True) on random shapes (MQA, GQA
and MHA, 0-2 batch dims, L != S, dv != d), the head-to-group mapping, the causal triangle, the
scale argument, the divisibility error, huge logits, gradients; the module against the same
computation built from torch's function, for MHA, GQA and MQA layouts, with gradients."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, expect_tensor, probe, visible_module

V = visible_module("transformer/gqa_attention")


@probe
def repeated_each(sub, cases):
    return [sub.repeat_kv(x, n) for x, n in cases]


@probe
def gqa_each(sub, cases):
    return [V.gqa.fn(sub, **case) for case in cases]


@probe
def gqa_error(sub, q, k, v):
    """Report the exception grouped_query_attention raises for these shapes, if any."""
    try:
        sub.grouped_query_attention(q, k, v)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - the check decides which exception is right
        return {"raised": type(e).__name__, "message": str(e)[:200]}
    return {"raised": None}


@probe
def module_each(sub, cases):
    return [V.module.fn(sub, *args, **kwargs) for args, kwargs in cases]


def torch_gqa(q, k, v, is_causal=False, scale=None):
    return F.scaled_dot_product_attention(q, k, v, is_causal=is_causal, scale=scale, enable_gqa=True)


def gqa_case(seed, H, H_kv, batch=(2,), L=4, S=6, d=5, dv=3, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(*batch, H, L, d, generator=g, dtype=dtype) * 1.5
    k = torch.randn(*batch, H_kv, S, d, generator=g, dtype=dtype) * 1.5
    v = torch.randn(*batch, H_kv, S, dv, generator=g, dtype=dtype)
    return q, k, v


def agree(run, cases, rule):
    """Each case: dict(q, k, v, label, and optionally is_causal, scale); compared with torch."""
    gots = run(gqa_each, [{n: c[n] for n in ("q", "k", "v", "is_causal", "scale") if n in c} for c in cases])
    for c, got in zip(cases, gots):
        want = torch_gqa(c["q"], c["k"], c["v"], c.get("is_causal", False), c.get("scale"))
        expect_tensor(got["out"], f"the output is [..., H, L, dv] ({c['label']})", shape=want.shape)
        expect_close(got["out"], want, rule, what=f"output ({c['label']})")


# --------------------------------------------------------------------------------------------
# repeat_kv
# --------------------------------------------------------------------------------------------

@check("repeat_kv agrees with torch.repeat_interleave along the head dim (random shapes, n_rep 1..4)")
def repeat_kv_random(run):
    cases = []
    for seed in range(6):
        g = torch.Generator().manual_seed(seed)
        B, H_kv, S, d = (int(t) for t in torch.randint(1, 5, (4,), generator=g))
        cases.append((torch.randn(B, H_kv, S, d, generator=g), 1 + seed % 4))
    gots = run(repeated_each, cases)
    for (x, n), got in zip(cases, gots):
        want = x.repeat_interleave(n, dim=1)
        expect_tensor(got, "repeat_kv returns [B, H_kv * n_rep, S, d]", shape=want.shape)
        expect_close(got, want, "output head j is input head j // n_rep: each head repeated n_rep times in a row",
                     rtol=0, atol=0, what=f"repeat_kv(x of shape {list(x.shape)}, n_rep={n})")


# --------------------------------------------------------------------------------------------
# grouped_query_attention
# --------------------------------------------------------------------------------------------

@check("agrees with scaled_dot_product_attention(enable_gqa=True): MQA, GQA and MHA, 0-2 batch dims, "
       "L != S, dv != d", points=2)
def agrees_random(run):
    cases = []
    for seed, (H, H_kv, batch, L, S) in enumerate([(4, 1, (2,), 3, 5), (6, 2, (), 4, 4), (6, 3, (2, 2), 2, 7),
                                                    (4, 4, (1,), 5, 3), (8, 2, (3,), 1, 6), (3, 1, (), 6, 2)]):
        q, k, v = gqa_case(seed, H, H_kv, batch, L, S, d=2 + seed, dv=1 + seed % 3)
        cases.append(dict(q=q, k=k, v=v, label=f"H={H}, H_kv={H_kv}, q {list(q.shape)}, v {list(v.shape)}"))
    agree(run, cases, "query head h attends with key/value head h // (H // H_kv); softmax(q k^T / sqrt(d)) v "
                      "per head, d the width of q and k; is_causal defaults to False (every key visible)")


@check("query heads are grouped consecutively: kv head g serves query heads g*n_rep .. (g+1)*n_rep - 1")
def group_mapping(run):
    H, H_kv, S = 6, 3, 4
    q = torch.zeros(1, H, 1, 2)                                   # equal logits: uniform weights
    k = torch.zeros(1, H_kv, S, 2)
    v = torch.arange(H_kv, dtype=torch.float32).view(1, H_kv, 1, 1).expand(1, H_kv, S, 1) * 10
    [got] = run(gqa_each, [dict(q=q, k=k, v=v)])
    heads = got["out"]
    expect_tensor(heads, "the output is [B, H, L, dv]", shape=(1, H, 1, 1))
    expect_close(heads.reshape(-1), torch.tensor([0.0, 0.0, 10.0, 10.0, 20.0, 20.0]),
                 "with H=6, H_kv=3 query heads 0,1 read kv head 0, heads 2,3 kv head 1, heads 4,5 kv head 2 "
                 "(repeat_interleave, not repeat/tile, which pairs them as 0,1,2,0,1,2)",
                 what="each query head's output when kv head g's values are all 10*g")


@check("is_causal is the top-left lower triangle of [L, S], also for L < S and L > S")
def causal(run):
    cases = []
    for seed, (H, H_kv, L, S) in enumerate([(4, 2, 3, 6), (2, 1, 5, 2), (4, 4, 4, 4), (6, 2, 1, 3)], start=20):
        q, k, v = gqa_case(seed, H, H_kv, (2,), L, S)
        cases.append(dict(q=q, k=k, v=v, is_causal=True, label=f"L={L}, S={S}, H={H}, H_kv={H_kv}"))
    agree(run, cases, "is_causal lets query i attend to keys j <= i, counted from the top-left corner "
                      "(torch.ones(L, S).tril()), whatever L and S are")


@check("scale replaces 1/sqrt(d) when given")
def explicit_scale(run):
    cases = []
    for seed, scale in enumerate([0.05, 1.0, 2.5], start=30):
        q, k, v = gqa_case(seed, 4, 2, (1,), 3, 5)
        cases.append(dict(q=q, k=k, v=v, scale=scale, label=f"scale={scale}"))
    q, k, v = gqa_case(33, 4, 2, (1,), 3, 5)
    cases.append(dict(q=q, k=k, v=v, scale=None, label="scale=None"))
    agree(run, cases, "the logits are scale * q k^T, with scale = 1/sqrt(d) only when scale is None")


@check("raises ValueError when the query heads cannot be split into groups (H not a multiple of H_kv)")
def divisibility_error(run):
    q, k, v = gqa_case(40, 5, 2, (1,), 3, 3)
    got = run(gqa_error, q, k, v)
    expect(got["raised"] == "ValueError", "H = 5 query heads and H_kv = 2 key/value heads do not group: raise "
           "ValueError (not a silent wrong answer, nor the IndexError/RuntimeError of a failed reshape)",
           f"your code {'raised ' + got['raised'] + ': ' + got['message'] if got['raised'] else 'raised nothing'}")
    [ok] = run(gqa_each, [dict(zip("qkv", gqa_case(41, 6, 2, (1,), 3, 3)))])
    expect_close(ok["out"], torch_gqa(*gqa_case(41, 6, 2, (1,), 3, 3)), "H = 6, H_kv = 2 is a valid grouping",
                 what="output (H=6, H_kv=2)")


@check("huge logits (q * 1e4) stay finite and agree with torch")
def huge_logits(run):
    q, k, v = gqa_case(50, 4, 2, (2,), 3, 5)
    cases = [dict(q=q * 1e4, k=k, v=v, is_causal=c, label=f"q * 1e4, is_causal={c}") for c in (False, True)]
    gots = run(gqa_each, [{n: c[n] for n in ("q", "k", "v", "is_causal")} for c in cases])
    for c, got in zip(cases, gots):
        out = got["out"]
        expect(isinstance(out, torch.Tensor) and bool(out.isfinite().all()),
               "subtract the row maximum before exp (torch.softmax does): exp(1e4) overflows",
               f"output ({c['label']}) is not finite")
        expect_close(out, torch_gqa(c["q"], c["k"], c["v"], c["is_causal"]), "huge logits make the softmax "
                     "(nearly) one-hot, not NaN", what=f"output ({c['label']})")


@check("gradients with respect to q, k and v agree with torch's (float64), and float64 stays float64")
def gradients(run):
    q, k, v = gqa_case(60, 6, 2, (2,), 3, 4, dtype=torch.float64)
    go = torch.randn(2, 6, 3, 3, generator=torch.Generator().manual_seed(61), dtype=torch.float64)
    [got] = run(gqa_each, [dict(q=q, k=k, v=v, is_causal=True, grad_out=go)])
    leaves = [t.clone().requires_grad_(True) for t in (q, k, v)]
    want = torch_gqa(*leaves, is_causal=True)
    (want * go).sum().backward()
    expect_close(got["out"], want.detach(), "float64 inputs give a float64 output", rtol=1e-10, atol=1e-12,
                 check_dtype=True, what="output")
    expect_close(got["grads"], [t.grad for t in leaves], "each shared key/value head collects the gradients "
                 "of every query head in its group", rtol=1e-8, atol=1e-10, what="[dq, dk, dv]")


# --------------------------------------------------------------------------------------------
# GroupedQueryAttention
# --------------------------------------------------------------------------------------------

def run_modules(run, cases):
    """cases: dicts of E, H, H_kv, x, label and optionally seed, is_causal, grad_out, dtype.
    Returns [(got, params, case)] after checking every module's parameters."""
    calls, all_params = [], []
    for c in cases:
        params = V.random_params(c["E"], c["H"], c["H_kv"], seed=c.get("seed", 0), dtype=c.get("dtype", torch.float32))
        all_params.append(params)
        calls.append(((c["E"], c["H"], c["H_kv"], params, c["x"]),
                      dict(is_causal=c.get("is_causal"), grad_out=c.get("grad_out"))))
    gots = run(module_each, calls)
    for got, params, c in zip(gots, all_params, cases):
        V.expect_params(got, params, f"{c['label']}: ")
    return list(zip(gots, all_params, cases))


@check("the module agrees with torch's GQA for MHA (H_kv = H), GQA and MQA (H_kv = 1) layouts", points=2)
def module_layouts(run):
    cases = []
    for seed, (B, T, E, H, H_kv) in enumerate([(2, 5, 8, 2, 2), (1, 6, 12, 6, 2), (2, 4, 8, 4, 1),
                                                (3, 3, 16, 4, 2)], start=70):
        x = torch.randn(B, T, E, generator=torch.Generator().manual_seed(seed))
        cases.append(dict(E=E, H=H, H_kv=H_kv, x=x, seed=seed, label=f"B={B}, T={T}, E={E}, H={H}, H_kv={H_kv}"))
    for got, params, c in run_modules(run, cases):
        want = V.oracle_module(params, c["x"], c["H"], c["H_kv"])
        expect_close(got["out"], want, "k_proj and v_proj give H_kv heads of width E // H (view as "
                     "[B, T, H_kv, hd], then transpose), q_proj gives H heads; causal GQA; heads side by side; "
                     "o_proj", what=f"y ({c['label']})")


@check("is_causal=False lets every position attend to every position")
def module_not_causal(run):
    x = torch.randn(2, 4, 8, generator=torch.Generator().manual_seed(80))
    [(got, params, c)] = run_modules(run, [dict(E=8, H=4, H_kv=2, x=x, seed=80, is_causal=False,
                                                label="is_causal=False")])
    expect_close(got["out"], V.oracle_module(params, x, 4, 2, is_causal=False),
                 "forward(x, is_causal=False) attends bidirectionally", what="y (is_causal=False)")


@check("the module's parameter and input gradients agree with torch's GQA (float64)")
def module_gradients(run):
    x = torch.randn(2, 4, 12, generator=torch.Generator().manual_seed(90), dtype=torch.float64)
    go = torch.randn(2, 4, 12, generator=torch.Generator().manual_seed(91), dtype=torch.float64)
    [(got, params, c)] = run_modules(run, [dict(E=12, H=6, H_kv=3, x=x, seed=90, grad_out=go, dtype=torch.float64,
                                                label="float64")])
    leaves = {n: t.clone().requires_grad_(True) for n, t in params.items()}
    xl = x.clone().requires_grad_(True)
    (V.oracle_module(leaves, xl, 6, 3) * go).sum().backward()
    rule = "backpropagation through the module gives torch's gradients (float64 stays float64)"
    expect_close(got["grads"], {n: t.grad for n, t in leaves.items()}, rule, rtol=1e-8, atol=1e-10,
                 what="parameter gradients")
    expect_close(got["x_grad"], xl.grad, rule, rtol=1e-8, atol=1e-10, what="input gradient")
