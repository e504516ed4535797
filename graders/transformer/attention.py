"""Hidden graders of transformer/attention: agreement with torch's scaled_dot_product_attention
and nn.MultiheadAttention on random shapes, masks and parameters; the edge cases of the contract
(fully masked rows, L != S causal, mask + is_causal); huge logits; gradients."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, expect_tensor, probe, visible_module

V = visible_module("transformer/attention")


# One probe call per check (each call beside the learner's code has a fixed cost): the batched
# probes run the visible ones on a list of cases and report a list.
@probe
def attend_each(sub, cases):
    return [V.attend.fn(sub, **case) for case in cases]


@probe
def mha_each(sub, cases):
    return [V.mha.fn(sub, *args, **kwargs) for args, kwargs in cases]


# --------------------------------------------------------------------------------------------
# Oracles and inputs
# --------------------------------------------------------------------------------------------

def oracle_weights(q, k, mask=None, is_causal=False):
    """The attention weights in float64 (torch's function does not return them)."""
    q, k = q.double(), k.double()
    L, S = q.size(-2), k.size(-2)
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if is_causal:
        mask = torch.ones(L, S, dtype=torch.bool).tril()
    if mask is None:
        return torch.softmax(scores, -1)
    any_allowed = mask.any(-1, keepdim=True)
    scores = scores.masked_fill(~mask, -math.inf).masked_fill(~any_allowed, 0.0)
    return torch.softmax(scores, -1) * mask


def torch_sdpa(q, k, v, mask=None, is_causal=False):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=is_causal)


def sdpa_case(seed, dtype=torch.float32):
    """Random q, k, v with 0..2 batch dims, L != S and dv != d (most of the time)."""
    g = torch.Generator().manual_seed(seed)
    rank = seed % 3
    batch = tuple(int(b) for b in torch.randint(1, 4, (rank,), generator=g))
    L = int(torch.randint(1, 6, (1,), generator=g))
    S = L + int(torch.randint(1, 4, (1,), generator=g)) * (1 if seed % 2 else -1)
    S = max(S, 1) if S != L else L + 1
    d = int(torch.randint(2, 9, (1,), generator=g))
    dv = d + int(torch.randint(1, 5, (1,), generator=g))
    q = torch.randn(*batch, L, d, generator=g, dtype=dtype) * 1.5
    k = torch.randn(*batch, S, d, generator=g, dtype=dtype) * 1.5
    v = torch.randn(*batch, S, dv, generator=g, dtype=dtype)
    return q, k, v


def shape_of(q, k, v):
    return f"q {list(q.shape)}, k {list(k.shape)}, v {list(v.shape)}"


def _agree(run, cases, rule):
    """Run every case (a dict of q, k, v, mask, is_causal, label) in one call; compare each with torch."""
    gots = run(attend_each, [{n: c[n] for n in ("q", "k", "v", "mask", "is_causal") if n in c} for c in cases])
    for c, got in zip(cases, gots):
        q, k, v, mask, is_causal = c["q"], c["k"], c["v"], c.get("mask"), c.get("is_causal", False)
        expect_close(got["out"], torch_sdpa(q, k, v, mask, is_causal), rule, what=f"output ({c['label']})")
        expect_close(got["weights"], oracle_weights(q, k, mask, is_causal).to(q.dtype), rule,
                     what=f"weights ({c['label']})")
    return gots


# --------------------------------------------------------------------------------------------
# scaled_dot_product_attention
# --------------------------------------------------------------------------------------------

@check("agrees with torch's scaled_dot_product_attention on random shapes (0-2 batch dims, L != S, dv != d)",
       points=2)
def agrees_random(run):
    cases = []
    for seed in range(9):
        q, k, v = sdpa_case(seed)
        cases.append(dict(q=q, k=k, v=v, label=shape_of(q, k, v)))
    _agree(run, cases, "output = softmax(q k^T / sqrt(d)) v over the last (key) dim; d is the width of q and k, "
                       "not of v")


@check("boolean masks broadcast from smaller shapes ([L, S], [1, L, S], [B, 1, 1, S], ...) agree with torch",
       points=2)
def mask_broadcast(run):
    g = torch.Generator().manual_seed(100)
    q = torch.randn(2, 3, 4, 5, generator=g)
    k = torch.randn(2, 3, 6, 5, generator=g)
    v = torch.randn(2, 3, 6, 7, generator=g)
    cases = []
    for shape in [(4, 6), (1, 4, 6), (2, 1, 1, 6), (3, 1, 6), (2, 3, 4, 6)]:
        mask = torch.rand(shape, generator=g) < 0.6
        mask[..., int(torch.randint(0, 6, (1,), generator=g))] = True    # every query keeps a key here
        cases.append(dict(q=q, k=k, v=v, mask=mask, label=f"mask of shape {list(shape)}"))
    _agree(run, cases, "mask True = may attend; it broadcasts against [..., L, S]")


@check("is_causal is the top-left lower triangle of [L, S], also for L < S and L > S", points=2)
def causal(run):
    g = torch.Generator().manual_seed(200)
    cases = []
    for batch, L, S in [((), 3, 7), ((2,), 6, 2), ((2, 2), 4, 4), ((1,), 1, 5), ((3,), 5, 1)]:
        q = torch.randn(*batch, L, 3, generator=g)
        k = torch.randn(*batch, S, 3, generator=g)
        v = torch.randn(*batch, S, 2, generator=g)
        cases.append(dict(q=q, k=k, v=v, is_causal=True, label=f"L={L}, S={S}"))
    _agree(run, cases, "is_causal lets query i attend to keys j <= i, counted from the top-left corner "
                       "(torch.ones(L, S).tril()), whatever L and S are")


@check("giving both a mask and is_causal=True raises ValueError")
def mask_and_causal_raise(run):
    q = torch.randn(3, 4, generator=torch.Generator().manual_seed(300))
    got = run(V.attend_error, q, q, q, mask=torch.ones(3, 3, dtype=torch.bool), is_causal=True)
    expect(got["raised"] == "ValueError", "mask and is_causal=True together are ambiguous: raise ValueError",
           f"your code raised {got['raised']} ({got['message']})" if got["raised"] else "your code raised nothing")


@check("query rows with no allowed key give zeros in output and weights (no NaN); other rows unchanged",
       points=2)
def fully_masked_rows(run):
    g = torch.Generator().manual_seed(400)
    q, k, v = torch.randn(2, 4, 3, generator=g), torch.randn(2, 5, 3, generator=g), torch.randn(2, 5, 2, generator=g)
    mask = torch.rand(2, 4, 5, generator=g) < 0.5
    mask[..., 0] = True
    mask[0, 1] = False          # one query of batch 0 sees nothing
    mask[1] = False             # batch 1 sees nothing at all
    got = run(V.attend, q, k, v, mask=mask)
    for name in ("out", "weights"):
        t = got[name]
        if isinstance(t, torch.Tensor) and t.isnan().any():
            raise Fail("a row with no allowed key must not be NaN: softmax over only -inf is 0/0",
                       f"{name} has {int(t.isnan().sum())} NaN entries")
    expect_close(got["weights"][0, 1], torch.zeros(5), "a row with no allowed key has all-zero weights "
                 "(a finite stand-in like -1e9 spreads them evenly over blocked keys instead)", what="weights[0, 1]")
    expect_close(got["out"][1], torch.zeros(4, 2), "rows with no allowed key give a zero output, as torch's does",
                 what="output[1]")
    expect_close(got["out"], torch_sdpa(q, k, v, mask), "agree with torch on every row", what="output")
    expect_close(got["weights"], oracle_weights(q, k, mask).float(), "agree with torch on every row", what="weights")


@check("weights are non-negative, 0 on blocked keys, and each row sums to 1 where any key is allowed")
def weights_rows(run):
    g = torch.Generator().manual_seed(500)
    q, k, v = torch.randn(3, 6, 4, generator=g), torch.randn(3, 8, 4, generator=g), torch.randn(3, 8, 4, generator=g)
    mask = torch.rand(3, 6, 8, generator=g) < 0.4
    got = run(V.attend, q, k, v, mask=mask)
    w = expect_tensor(got["weights"], "weights have shape [..., L, S]", shape=(3, 6, 8))
    expect(bool((w >= 0).all()), "attention weights are probabilities (>= 0)", f"smallest weight {w.min().item():.4g}")
    expect_close(w * ~mask, torch.zeros(3, 6, 8), "blocked keys (mask False) get weight exactly 0",
                 what="weights on blocked keys")
    any_allowed = mask.any(-1)
    expect_close(w.sum(-1)[any_allowed], torch.ones(int(any_allowed.sum())),
                 "each query's weights sum to 1 over its allowed keys", what="row sums")


@check("gradients agree with torch (float64), also through masked and fully masked rows", points=2)
def gradients(run):
    g = torch.Generator().manual_seed(600)
    q = torch.randn(2, 4, 3, generator=g, dtype=torch.float64)
    k = torch.randn(2, 5, 3, generator=g, dtype=torch.float64)
    v = torch.randn(2, 5, 6, generator=g, dtype=torch.float64)
    mask = torch.rand(2, 4, 5, generator=g) < 0.6
    mask[..., 2] = True
    mask[1, 3] = False          # a fully masked row
    go = torch.randn(2, 4, 6, generator=g, dtype=torch.float64)
    gw = torch.randn(2, 4, 5, generator=g, dtype=torch.float64)
    cases = [("output only, mask", dict(mask=mask), None),
             ("output only, is_causal", dict(is_causal=True), None),
             ("output and weights, mask", dict(mask=mask), gw)]
    gots = run(attend_each, [dict(q=q, k=k, v=v, grad_out=go, grad_weights=grad_w, **kwargs)
                             for _, kwargs, grad_w in cases])
    for (label, kwargs, grad_w), got in zip(cases, gots):
        leaves = [t.clone().requires_grad_(True) for t in (q, k, v)]
        loss = (torch_sdpa(*leaves, kwargs.get("mask"), kwargs.get("is_causal", False)) * go).sum()
        if grad_w is not None:
            loss = loss + (oracle_weights(*leaves[:2], kwargs.get("mask")) * grad_w).sum()
        want = torch.autograd.grad(loss, leaves)
        expect(isinstance(got["grads"], (list, tuple)) and all(isinstance(t, torch.Tensor) for t in got["grads"]),
               "the output must be differentiable with respect to q, k and v",
               f"gradients came back as {[type(t).__name__ for t in got['grads']]}")
        for name, gt, wt in zip("qkv", got["grads"], want):
            if gt.isnan().any():
                raise Fail("gradients must be finite, also through rows with no allowed key",
                           f"d loss / d {name} ({label}) has {int(gt.isnan().sum())} NaN entries")
            expect_close(gt, wt, "gradients agree with torch's scaled_dot_product_attention",
                         rtol=1e-6, atol=1e-8, what=f"d loss / d {name} ({label})")


@check("huge logits (q * 1e4) give finite outputs, weights and gradients that agree with torch")
def huge_logits(run):
    g = torch.Generator().manual_seed(700)
    q = torch.randn(2, 5, 4, generator=g) * 1e4
    k, v = torch.randn(2, 6, 4, generator=g), torch.randn(2, 6, 3, generator=g)
    mask = torch.rand(2, 5, 6, generator=g) < 0.7
    mask[..., 1] = True
    cases = [("no mask", {}), ("mask", dict(mask=mask))]
    gots = run(attend_each, [dict(q=q, k=k, v=v, grad_out=torch.ones(2, 5, 3), **kwargs) for _, kwargs in cases])
    for (label, kwargs), got in zip(cases, gots):
        for name in ("out", "weights"):
            t = got[name]
            expect(isinstance(t, torch.Tensor) and bool(t.isfinite().all()),
                   "subtract the row maximum before exp (torch.softmax does): exp(1e4) overflows",
                   f"{name} ({label}): " + (f"{int((~t.isfinite()).sum())} of {t.numel()} entries are inf or NaN"
                                            if isinstance(t, torch.Tensor) else f"not a tensor: {t!r}"))
        expect(all(isinstance(t, torch.Tensor) and bool(t.isfinite().all()) for t in got["grads"]),
               "gradients stay finite for huge logits", f"some gradient of q, k or v ({label}) is missing or not finite")
        expect_close(got["out"], torch_sdpa(q, k, v, kwargs.get("mask")), "huge logits make the softmax "
                     "(nearly) one-hot, not NaN", what=f"output ({label})")
        expect_close(got["weights"], oracle_weights(q, k, kwargs.get("mask")).float(), "huge logits make the "
                     "softmax (nearly) one-hot, not NaN", what=f"weights ({label})")


@check("keeps the input dtype: float64 in, float64 output and weights")
def dtype_float64(run):
    q, k, v = sdpa_case(11, dtype=torch.float64)
    got = run(V.attend, q, k, v)
    expect_close(got["out"], torch_sdpa(q, k, v), "output in float64 for float64 inputs", rtol=1e-10, atol=1e-12,
                 check_dtype=True, what="output")
    expect_close(got["weights"], oracle_weights(q, k), "weights in float64 for float64 inputs", rtol=1e-10,
                 atol=1e-12, check_dtype=True, what="weights")


# --------------------------------------------------------------------------------------------
# MultiHeadAttention
# --------------------------------------------------------------------------------------------

def expect_params(got, params, label):
    want = {n: tuple(t.shape) for n, t in params.items()}
    if got["shapes"] != want:
        raise Fail("parameters named and shaped as torch.nn.MultiheadAttention's: in_proj_weight [3E, E], "
                   "in_proj_bias [3E], out_proj = nn.Linear(E, E)",
                   f"{label}: expected named_parameters {want},\n  your module has {got['shapes']}")


def run_mha(run, cases):
    """Run the learner's module on every case in one call, holding the parameters of torch's module.

    A case is a dict: E, H, q, k, v, label, and optionally bias, seed, grad_out, kwargs (for forward).
    Returns [(got, torch's module, case)] after checking the parameters' names and shapes."""
    refs, calls = [], []
    for c in cases:
        ref, params = V.torch_mha(c["E"], c["H"], bias=c.get("bias", True), seed=c.get("seed", 0))
        refs.append(ref)
        calls.append(((c["E"], c["H"], params, c["q"], c["k"], c["v"]),     # no "bias": the default, True
                      dict(bias=c.get("bias"), grad_out=c.get("grad_out"), **c.get("kwargs", {}))))
    gots = run(mha_each, calls)
    for got, (args, _), c in zip(gots, calls, cases):
        expect_params(got, args[2], c["label"])
    return list(zip(gots, refs, cases))


def mha_inputs(seed, B, L, S, E):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, L, E, generator=g), torch.randn(B, S, E, generator=g), torch.randn(B, S, E, generator=g)


@check("MultiHeadAttention: parameter names and shapes; bias=False leaves in_proj_bias None and out_proj unbiased")
def mha_parameters(run):
    x = torch.randn(1, 2, 12, generator=torch.Generator().manual_seed(70))
    results = run_mha(run, [dict(E=12, H=3, q=x, k=x, v=x, bias=bias, label=f"embed_dim=12, num_heads=3, bias={bias}")
                            for bias in (True, False)])
    for got, _, c in results:
        expect(got["out_proj"] == "Linear", "out_proj is an nn.Linear(E, E)", f"out_proj is a {got['out_proj']}")
    got = results[1][0]
    expect(got["in_proj_bias"] == "None", "with bias=False, in_proj_bias is None (as torch's module has it)",
           f"in_proj_bias is {got['in_proj_bias']}")
    expect(got["out_proj_bias"] == "None", "with bias=False, out_proj has no bias", "out_proj.bias is present")
    expect_agree(results, "the module computes with these parameters, with and without biases",
                 "the weights are averaged over the heads")


def expect_agree(results, rule_out, rule_weights):
    for got, ref, c in results:
        want_out, want_w = ref(c["q"], c["k"], c["v"], **c.get("kwargs", {}))
        expect_tensor(got["out"], f"the output is [B, L, E] ({c['label']})", shape=want_out.shape)
        expect_tensor(got["weights"], f"the weights are [B, L, S], averaged over the heads ({c['label']})",
                      shape=want_w.shape)
        expect_close(got["out"], want_out, rule_out, what=f"output ({c['label']})")
        expect_close(got["weights"], want_w, rule_weights, what=f"weights ({c['label']})")


@check("self-attention agrees with torch.nn.MultiheadAttention (several E and H, same parameters)", points=2)
def mha_self(run):
    cases = []
    for seed, (B, L, E, H) in enumerate([(2, 5, 8, 2), (1, 4, 12, 3), (3, 3, 6, 1), (2, 6, 8, 8)]):
        x, _, _ = mha_inputs(seed, B, L, L, E)
        cases.append(dict(E=E, H=H, q=x, k=x, v=x, seed=seed, label=f"B={B}, L={L}, E={E}, H={H}"))
    expect_agree(run_mha(run, cases),
                 "project with in_proj_weight (q, k, v stacked in that order), split E into H heads of E // H, "
                 "attend per head, put the heads side by side, apply out_proj",
                 "weights are averaged over the heads: [B, L, S]")


@check("cross-attention (L != S, distinct key and value) agrees with torch.nn.MultiheadAttention", points=2)
def mha_cross(run):
    cases = []
    for seed, (B, L, S, E, H) in enumerate([(2, 3, 7, 8, 2), (1, 6, 2, 12, 4), (2, 1, 4, 6, 3)], start=10):
        q, k, v = mha_inputs(seed, B, L, S, E)
        cases.append(dict(E=E, H=H, q=q, k=k, v=v, seed=seed, label=f"B={B}, L={L}, S={S}, E={E}, H={H}"))
    expect_agree(run_mha(run, cases),
                 "queries come from query, keys from key, values from value (each with its own slice of "
                 "in_proj_weight)", "weights are [B, L, S], averaged over the heads")


@check("key_padding_mask [B, S]: True blocks that key for every query of that batch element")
def mha_key_padding(run):
    B, L, S, E, H = 3, 4, 6, 8, 2
    q, k, v = mha_inputs(20, B, L, S, E)
    kpm = torch.zeros(B, S, dtype=torch.bool)
    kpm[0, 4:] = True
    kpm[1, 1:] = True
    kpm[2, ::2] = True
    cases = [dict(E=E, H=H, q=qq, k=kk, v=vv, seed=20, label=label, kwargs=dict(key_padding_mask=kpm))
             for label, (qq, kk, vv) in [("cross-attention", (q, k, v)), ("self-attention", (k, k, k))]]
    rule = "key_padding_mask True = that key is padding: it is blocked for all queries (mask the keys, not the queries)"
    expect_agree(run_mha(run, cases), rule, rule)


@check("boolean attn_mask [L, S] or [B*H, L, S] (True = blocked), also together with key_padding_mask")
def mha_attn_mask(run):
    B, L, S, E, H = 2, 5, 5, 8, 2
    x, _, _ = mha_inputs(30, B, L, S, E)
    causal = torch.ones(L, S, dtype=torch.bool).triu(1)           # torch's convention: True = blocked
    g = torch.Generator().manual_seed(31)
    per_head = torch.rand(B * H, L, S, generator=g) < 0.4
    per_head[..., 0] = False                                       # every query keeps key 0
    kpm = torch.zeros(B, S, dtype=torch.bool)
    kpm[0, 3:] = True
    kpm[1, 1] = True
    cases = [dict(E=E, H=H, q=x, k=x, v=x, seed=30, label=label, kwargs=kwargs) for label, kwargs in [
        ("causal [L, S]", dict(attn_mask=causal)),
        ("[B*H, L, S]", dict(attn_mask=per_head)),
        ("causal [L, S] with key_padding_mask", dict(attn_mask=causal, key_padding_mask=kpm))]]
    rule = ("the module's boolean masks mean True = NOT allowed (the opposite of the function's mask); "
            "[B*H, L, S] is indexed b * H + h; a key blocked by either mask is blocked")
    expect_agree(run_mha(run, cases), rule, rule)


@check("need_weights=False returns (output, None) with the same output")
def mha_need_weights_false(run):
    q, k, v = mha_inputs(40, 2, 3, 4, 8)
    [(got, ref, _)] = run_mha(run, [dict(E=8, H=2, q=q, k=k, v=v, seed=40, label="need_weights=False",
                                         kwargs=dict(need_weights=False))])
    want_out, _ = ref(q, k, v)
    expect(got["weights"] is None, "need_weights=False returns None in place of the weights",
           f"the second value was {type(got['weights']).__name__}")
    expect_close(got["out"], want_out, "the output does not depend on need_weights", what="output")


@check("bias=False agrees with torch.nn.MultiheadAttention(bias=False)")
def mha_no_bias(run):
    q, k, v = mha_inputs(50, 2, 4, 3, 8)
    rule = "without biases the projections are purely linear"
    expect_agree(run_mha(run, [dict(E=8, H=4, q=q, k=k, v=v, bias=False, seed=50, label="bias=False")]), rule, rule)


@check("gradients of every parameter and input agree with torch.nn.MultiheadAttention", points=2)
def mha_gradients(run):
    B, L, S, E, H = 2, 3, 5, 8, 2
    q, k, v = mha_inputs(60, B, L, S, E)
    kpm = torch.zeros(B, S, dtype=torch.bool)
    kpm[1, 3:] = True
    go = torch.randn(B, L, E, generator=torch.Generator().manual_seed(61))
    cases = [dict(E=E, H=H, q=q, k=k, v=v, bias=bias, seed=60, grad_out=go, kwargs=dict(key_padding_mask=kpm),
                  label=f"bias={bias}, with key_padding_mask") for bias in (True, False)]
    for got, ref, c in run_mha(run, cases):
        leaves = [t.clone().requires_grad_(True) for t in (q, k, v)]
        out, _ = ref(*leaves, key_padding_mask=kpm)
        (out * go).sum().backward()
        want = {n: p.grad for n, p in ref.named_parameters()}
        expect_close(got["grads"], want, "backpropagation through your module gives torch's parameter gradients",
                     what=f"parameter gradients ({c['label']})")
        expect_close(got["input_grads"], [t.grad for t in leaves],
                     "backpropagation gives torch's gradients for query, key and value",
                     what=f"[query, key, value] gradients ({c['label']})")
