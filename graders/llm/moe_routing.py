"""Hidden graders of llm/moe_routing: routing against softmax + topk (renormalised or raw); the
load-balancing loss against transformers' Mixtral formula (tests/test_twins_* runs the library
itself), with padding masks and gradients; capacity routing against SwitchTransformersTop1Router's
rule (per sequence, in position order); the MoE block against a dense computation with the same
weights, its gradients (the router's included), and sparse dispatch (every torch result's size is
watched: no [E, N, I] tensor)."""
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from mlkata.checks import check, expect, expect_close, expect_equal, expect_tensor, probe, visible_module

V = visible_module("llm/moe_routing")


class LargestResult(TorchFunctionMode):
    """Records the largest number of elements of any tensor a torch function returns."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        for t in result if isinstance(result, (tuple, list)) else (result,):
            if isinstance(t, torch.Tensor):
                self.largest = max(self.largest, t.numel())
        return result


@probe
def routing_each(sub, cases):
    return [V.routed.fn(sub, logits, k, normalize=norm) for logits, k, norm in cases]


@probe
def balance_each(sub, cases):
    """load_balancing_loss for each (logits, k, mask); also d(loss)/d(logits)."""
    out = []
    for logits, k, mask in cases:
        logits = logits.detach().clone().requires_grad_(True)
        loss = sub.load_balancing_loss(logits, k, attention_mask=mask)
        loss.backward()
        out.append({"loss": loss, "grad": logits.grad})
    return out


@probe
def switch_each(sub, cases):
    return [V.switched.fn(sub, logits, cap) for logits, cap in cases]


@probe
def moe_each(sub, cases):
    return [V.moe.fn(sub, *args, **kwargs) for args, kwargs in cases]


@probe
def moe_watched(sub, H, I, E, k, params, x):
    """The block's forward under a mode that records the largest tensor any torch call returned."""
    module = sub.SparseMoE(H, I, E, k)
    with torch.no_grad():
        for n, p in module.named_parameters():
            p.copy_(params[n])
    with LargestResult() as watch:
        y, logits = module(x)
    return {"y": y, "logits": logits, "largest": watch.largest}


def oracle_routing(logits, k, normalize):
    w, e = logits.softmax(-1).topk(k, dim=-1)
    return [w / w.sum(-1, keepdim=True) if normalize else w, e]


def oracle_balance(logits, k, mask=None):
    """transformers' Mixtral load_balancing_loss_func for one layer (with its padding mask)."""
    E = logits.size(-1)
    probs = logits.softmax(-1)
    chosen = F.one_hot(probs.topk(k, dim=-1).indices, E).sum(1).to(probs.dtype)
    keep = torch.ones(logits.size(0), dtype=probs.dtype) if mask is None else mask.to(probs.dtype)
    f = (chosen * keep[:, None]).sum(0) / keep.sum()
    P = (probs * keep[:, None]).sum(0) / keep.sum()
    return E * (f * P).sum()


def oracle_switch(logits, capacity):
    """SwitchTransformersTop1Router: argmax expert, claimed in position order, capacity per sequence."""
    probs = logits.softmax(-1)
    one_hot = F.one_hot(probs.argmax(-1), logits.size(-1))
    return [one_hot * (one_hot.cumsum(dim=-2) <= capacity), probs.max(-1).values.unsqueeze(-1)]


def logits_case(seed, *shape, scale=2.0, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype) * scale


# --------------------------------------------------------------------------------------------
# Routing and the auxiliary loss
# --------------------------------------------------------------------------------------------

@check("top_k_routing agrees with softmax + topk for k = 1..4, renormalised (Mixtral) or raw (Switch)", points=2)
def routing_random(run):
    cases = [(logits_case(s, N, E), k, norm) for s, (N, E, k, norm) in
             enumerate([(7, 4, 2, True), (5, 8, 1, False), (9, 6, 3, True), (3, 8, 4, True), (6, 5, 1, True),
                        (4, 6, 2, False)])]
    gots = run(routing_each, cases)
    for (logits, k, norm), got in zip(cases, gots):
        want = oracle_routing(logits, k, norm)
        label = f"N={logits.size(0)}, E={logits.size(1)}, k={k}, normalize={norm}"
        expect_close(got, want, "softmax over the experts, the k largest probabilities in decreasing order; with "
                     "normalize=True divided by their sum, with normalize=False left as they are",
                     what=f"(weights, experts) ({label})")


@check("load_balancing_loss agrees with transformers' Mixtral formula (k = 1..3, with and without a padding "
       "mask), and so do its gradients", points=2)
def balance_random(run):
    cases = []
    for s, (N, E, k, masked) in enumerate([(12, 4, 1, False), (10, 8, 2, False), (9, 6, 3, True), (16, 8, 2, True)]):
        mask = (torch.rand(N, generator=torch.Generator().manual_seed(50 + s)) < 0.7).long() if masked else None
        if mask is not None:
            mask[0] = 1
        cases.append((logits_case(20 + s, N, E, dtype=torch.float64), k, mask))
    gots = run(balance_each, cases)
    for (logits, k, mask), got in zip(cases, gots):
        leaf = logits.clone().requires_grad_(True)
        want = oracle_balance(leaf, k, mask)
        want.backward()
        label = f"N={logits.size(0)}, E={logits.size(1)}, k={k}, mask={'yes' if mask is not None else 'no'}"
        expect_close(got["loss"], want.detach(), "E * sum_i f_i P_i, f_i = share of (unpadded) tokens whose top-k "
                     "includes expert i (the f_i sum to k), P_i = mean router probability of expert i",
                     rtol=1e-8, atol=1e-10, what=f"loss ({label})")
        expect_close(got["grad"], leaf.grad, "the loss reaches the logits through P only (the counts are constants)",
                     rtol=1e-7, atol=1e-10, what=f"d(loss)/d(logits) ({label})")


@check("switch_route agrees with SwitchTransformersTop1Router: capacity per sequence, claimed in position order",
       points=2)
def switch_random(run):
    cases = [(logits_case(30 + s, B, T, E), cap) for s, (B, T, E, cap) in
             enumerate([(2, 8, 3, 2), (3, 6, 2, 1), (1, 10, 4, 3), (2, 5, 4, 5), (4, 7, 3, 2)])]
    gots = run(switch_each, cases)
    for (logits, cap), got in zip(cases, gots):
        label = f"B={logits.size(0)}, T={logits.size(1)}, E={logits.size(2)}, capacity={cap}"
        want = oracle_switch(logits, cap)
        if not (isinstance(got, (list, tuple)) and len(got) == 2):
            expect(False, "switch_route returns (dispatch, gate)", f"your code returned {type(got).__name__} ({label})")
        expect_equal(got[0], want[0], "each token's argmax expert, one-hot; within each sequence the claimants of an "
                     "expert are counted in position order (cumsum along T) and those beyond capacity get an all-zero "
                     "row; the count restarts for every sequence", what=f"dispatch ({label})")
        expect_close(got[1], want[1], "gate = the chosen expert's softmax probability, [B, T, 1]",
                     what=f"gate ({label})")


# --------------------------------------------------------------------------------------------
# The block
# --------------------------------------------------------------------------------------------

@check("SparseMoE agrees with the dense computation for several H, I, E, k (router logits too)", points=2)
def moe_random(run):
    specs = [(8, 6, 4, 2, 2, 5), (6, 4, 8, 2, 1, 7), (4, 5, 3, 1, 3, 3), (8, 4, 6, 3, 2, 4)]
    calls, expected = [], []
    for s, (H, I, E, k, B, T) in enumerate(specs):
        params = V.random_params(H, I, E, seed=40 + s)
        x = torch.randn(B, T, H, generator=torch.Generator().manual_seed(60 + s))
        calls.append(((H, I, E, k, params, x), {}))
        expected.append((params, x, k, f"H={H}, I={I}, E={E}, k={k}, B={B}, T={T}"))
    gots = run(moe_each, calls)
    for got, (params, x, k, label) in zip(gots, expected):
        V.expect_params(got, params, f"{label}: ")
        want_y, want_logits = V.dense_oracle(params, x, k)
        expect_close(got["logits"], want_logits, "router_logits = gate(x.view(B*T, H)): [B*T, E]",
                     what=f"router_logits ({label})")
        expect_close(got["y"], want_y, "token n's output = sum over its top-k experts of (renormalised gate) x "
                     "expert(x_n), expert(x) = down_proj[e] @ (silu(g) * u), (g, u) = (gate_up_proj[e] @ x).chunk(2)",
                     what=f"y ({label})")


@check("gradients of every parameter (router included) and of the input agree with the dense computation")
def moe_gradients(run):
    H, I, E, k = 6, 4, 5, 2
    params = V.random_params(H, I, E, seed=70, dtype=torch.float64)
    x = torch.randn(2, 4, H, generator=torch.Generator().manual_seed(71), dtype=torch.float64)
    go = torch.randn(2, 4, H, generator=torch.Generator().manual_seed(72), dtype=torch.float64)
    [got] = run(moe_each, [((H, I, E, k, params, x), dict(grad_out=go))])
    V.expect_params(got, params)
    leaves = {n: t.clone().requires_grad_(True) for n, t in params.items()}
    xl = x.clone().requires_grad_(True)
    y, _ = V.dense_oracle(leaves, xl, k)
    (y * go).sum().backward()
    rule = ("the gate values multiply the experts' outputs and stay in the graph, so the router gets gradients; "
            "experts get them from their own tokens only")
    expect_close(got["grads"], {n: t.grad for n, t in leaves.items()}, rule, rtol=1e-7, atol=1e-9,
                 what="parameter gradients")
    expect_close(got["x_grad"], xl.grad, rule, rtol=1e-7, atol=1e-9, what="input gradient")


@check("dispatch, not dense: each expert runs only on its own tokens (no [E, B*T, I]-sized tensor)")
def moe_sparse(run):
    H, I, E, k, B, T = 8, 16, 8, 2, 4, 16
    params = V.random_params(H, I, E, seed=80)
    x = torch.randn(B, T, H, generator=torch.Generator().manual_seed(81))
    got = run(moe_watched, H, I, E, k, params, x)
    want_y, _ = V.dense_oracle(params, x, k)
    expect_close(got["y"], want_y, "the block's output (E=8, k=2, 64 tokens)", what="y")
    dense = E * B * T * I
    expect(got["largest"] < dense // 2, "run each expert on the tokens routed to it (torch.where(experts == e)), "
           "not every expert on every token: that is E/k times the compute, the cost an MoE exists to avoid",
           f"your code built a tensor of {got['largest']} elements; every expert's hidden layer for every token, "
           f"[E, B*T, I], has {dense}; the limit is {dense // 2}")
