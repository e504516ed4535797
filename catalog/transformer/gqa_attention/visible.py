"""Visible checks: repeat_kv's head order, multi-query attention on a case you can work out by
hand, grouped-query attention against torch's enable_gqa=True, and the module's parameters."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect_close, probe


@probe
def repeated(sub, x, n_rep):
    return sub.repeat_kv(x, n_rep)


@probe
def gqa(sub, q, k, v, is_causal=None, scale=None, grad_out=None):
    """Call grouped_query_attention (is_causal and scale passed only when given: the defaults are part
    of the contract); with ``grad_out``, also report d(sum(out * grad_out))/d(q, k, v)."""
    if grad_out is not None:
        q, k, v = (t.detach().clone().requires_grad_(True) for t in (q, k, v))
    kwargs = {n: a for n, a in (("is_causal", is_causal), ("scale", scale)) if a is not None}
    out = sub.grouped_query_attention(q, k, v, **kwargs)
    report = {"out": out}
    if grad_out is not None:
        (out * grad_out).sum().backward()
        report["grads"] = [q.grad, k.grad, v.grad]
    return report


@probe
def module(sub, n_embd, n_head, n_kv_head, params, x, is_causal=None, grad_out=None):
    """Build the learner's GroupedQueryAttention, copy ``params`` in by name, run forward (and
    backward of sum(y * grad_out) when ``grad_out`` is given)."""
    mod = sub.GroupedQueryAttention(n_embd, n_head, n_kv_head)
    named = dict(mod.named_parameters())
    report = {"shapes": {n: tuple(p.shape) for n, p in named.items()}}
    if report["shapes"] != {n: tuple(t.shape) for n, t in params.items()}:
        return report                              # the check reports the parameter mismatch
    mod = mod.to(next(iter(params.values())).dtype)             # a float64 case runs a float64 module
    named = dict(mod.named_parameters())
    with torch.no_grad():
        for n, t in params.items():
            named[n].copy_(t)
    if grad_out is not None:
        x = x.detach().clone().requires_grad_(True)
    y = mod(x) if is_causal is None else mod(x, is_causal=is_causal)
    report["out"] = y
    if grad_out is not None:
        (y * grad_out).sum().backward()
        report["grads"] = {n: p.grad for n, p in named.items()}
        report["x_grad"] = x.grad
    return report


def random_params(n_embd, n_head, n_kv_head, seed=0, dtype=torch.float32):
    """Llama-shaped projection weights (no biases)."""
    g = torch.Generator().manual_seed(seed)
    hd = n_embd // n_head
    shapes = {"q_proj.weight": (n_head * hd, n_embd), "k_proj.weight": (n_kv_head * hd, n_embd),
              "v_proj.weight": (n_kv_head * hd, n_embd), "o_proj.weight": (n_embd, n_head * hd)}
    return {n: (torch.randn(s, generator=g) / math.sqrt(s[1])).to(dtype) for n, s in shapes.items()}


def oracle_module(params, x, n_head, n_kv_head, is_causal=True):
    """The module computed with torch's own GQA attention."""
    B, T, E = x.shape
    hd = E // n_head
    q = F.linear(x, params["q_proj.weight"]).view(B, T, n_head, hd).transpose(1, 2)
    k = F.linear(x, params["k_proj.weight"]).view(B, T, n_kv_head, hd).transpose(1, 2)
    v = F.linear(x, params["v_proj.weight"]).view(B, T, n_kv_head, hd).transpose(1, 2)
    y = F.scaled_dot_product_attention(q, k, v, is_causal=is_causal, enable_gqa=True)
    return F.linear(y.transpose(1, 2).reshape(B, T, n_head * hd), params["o_proj.weight"])


def expect_params(got, params, label=""):
    want = {n: tuple(t.shape) for n, t in params.items()}
    if got["shapes"] != want:
        raise Fail("parameters named and shaped as Llama's attention: q_proj [H*hd, E], k_proj and v_proj "
                   "[H_kv*hd, E], o_proj [E, H*hd], no biases",
                   f"{label}expected named_parameters {want},\n  your module has {got['shapes']}")


@check("repeat_kv repeats each key/value head consecutively: heads [0, 0, 0, 1, 1, 1] for H_kv=2, n_rep=3")
def repeat_kv_order(run):
    x = torch.tensor([10.0, 20.0]).view(1, 2, 1, 1).expand(1, 2, 2, 1).contiguous()   # head h holds (h+1)*10
    got = run(repeated, x, 3)
    want = torch.tensor([10.0, 10.0, 10.0, 20.0, 20.0, 20.0]).view(1, 6, 1, 1).expand(1, 6, 2, 1)
    expect_close(got, want, "output head j is input head j // n_rep (repeat_interleave along the head dim, "
                 "not tiling)", what="repeat_kv(x, 3) with x's heads holding 10 and 20")


@check("multi-query attention (H_kv = 1): every query head reads the single key/value head")
def mqa_by_hand(run):
    q = torch.zeros(3, 1, 2)                     # 3 query heads, 1 query each: equal logits
    q[1, 0] = torch.tensor([1.0, 0.0]) * 20      # head 1 looks strongly at key 0
    k = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])  # 1 kv head, 2 keys
    v = torch.tensor([[[2.0], [4.0]]])
    got = run(gqa, q, k, v)
    w0 = 1 / (1 + math.exp(-20 / math.sqrt(2)))
    want = torch.tensor([[[3.0]], [[2 * w0 + 4 * (1 - w0)]], [[3.0]]])
    expect_close(got["out"], want, "with H_kv = 1 all query heads attend over the same keys and values; "
                 "softmax(q k^T / sqrt(d)) v per query head", what="output [H=3, L=1, dv=1]")


@check("grouped-query attention agrees with torch's scaled_dot_product_attention(enable_gqa=True)")
def agrees_with_torch_gqa(run):
    g = torch.Generator().manual_seed(1)
    q, k, v = torch.randn(2, 4, 3, 5, generator=g), torch.randn(2, 2, 6, 5, generator=g), torch.randn(2, 2, 6, 3, generator=g)
    got = run(gqa, q, k, v)
    expect_close(got["out"], F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
                 "query head h uses key/value head h // (H // H_kv): heads 0, 1 -> kv 0; heads 2, 3 -> kv 1",
                 what="output (H=4, H_kv=2)")


@check("GroupedQueryAttention has Llama's parameters and, holding the same values, gives torch's GQA output")
def module_matches(run):
    params = random_params(8, 4, 2, seed=3)
    x = torch.randn(1, 3, 8, generator=torch.Generator().manual_seed(4))
    got = run(module, 8, 4, 2, params, x)
    expect_params(got, params)
    expect_close(got["out"], oracle_module(params, x, 4, 2), "project, split into H query heads and H_kv "
                 "key/value heads, causal GQA, heads side by side, o_proj", what="y (E=8, H=4, H_kv=2)")
