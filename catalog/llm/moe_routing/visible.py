"""Visible checks: routing a few tokens by hand (Mixtral's renormalised gates, Switch's raw gate),
the load-balancing loss of a collapsed router, capacity dropping the third claimant, and the MoE
block against a dense computation with the same weights."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect_close, expect_equal, probe


def as_tuple(result):
    """A named tuple (torch.topk's return type, say) as a plain tuple: what crosses to the judge."""
    return tuple(result) if isinstance(result, tuple) else result


@probe
def routed(sub, logits, k, normalize=True):
    return as_tuple(sub.top_k_routing(logits, k, normalize=normalize))


@probe
def switched(sub, logits, capacity):
    return as_tuple(sub.switch_route(logits, capacity))


@probe
def moe(sub, H, I, E, k, params, x, grad_out=None):
    """Build the learner's SparseMoE, copy ``params`` in by name, run forward (and backward of
    sum(y * grad_out) when given)."""
    module = sub.SparseMoE(H, I, E, k)
    named = dict(module.named_parameters())
    report = {"shapes": {n: tuple(p.shape) for n, p in named.items()}}
    if report["shapes"] != {n: tuple(t.shape) for n, t in params.items()}:
        return report
    module = module.to(next(iter(params.values())).dtype)
    named = dict(module.named_parameters())
    with torch.no_grad():
        for n, t in params.items():
            named[n].copy_(t)
    if grad_out is not None:
        x = x.detach().clone().requires_grad_(True)
    y, logits = module(x)
    report.update(y=y, logits=logits)
    if grad_out is not None:
        (y * grad_out).sum().backward()
        report["grads"] = {n: p.grad for n, p in named.items()}
        report["x_grad"] = x.grad
    return report


def random_params(H, I, E, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return {"gate.weight": (torch.randn(E, H, generator=g) / math.sqrt(H) * 2).to(dtype),
            "experts.gate_up_proj": (torch.randn(E, 2 * I, H, generator=g) / math.sqrt(H)).to(dtype),
            "experts.down_proj": (torch.randn(E, H, I, generator=g) / math.sqrt(I)).to(dtype)}


def dense_oracle(params, x, k):
    """Every expert on every token, weighted by the renormalised top-k gates (clear, not sparse)."""
    B, T, H = x.shape
    tokens = x.reshape(-1, H)
    logits = tokens @ params["gate.weight"].T
    probs = logits.softmax(-1)
    top, idx = probs.topk(k, dim=-1)
    gates = torch.zeros_like(probs).scatter(-1, idx, top / top.sum(-1, keepdim=True))      # (N, E)
    g, u = torch.einsum("eih,nh->eni", params["experts.gate_up_proj"], tokens).chunk(2, dim=-1)
    outs = torch.einsum("ehi,eni->enh", params["experts.down_proj"], F.silu(g) * u)          # (E, N, H)
    return torch.einsum("ne,enh->nh", gates, outs).view(B, T, H), logits


def expect_params(got, params, label=""):
    want = {n: tuple(t.shape) for n, t in params.items()}
    if got["shapes"] != want:
        raise Fail("parameters named and shaped as Mixtral's block: gate.weight [E, H] (nn.Linear(H, E, bias=False) "
                   "named gate), experts.gate_up_proj [E, 2I, H], experts.down_proj [E, H, I]",
                   f"{label}expected named_parameters {want},\n  your module has {got['shapes']}")


def pair(got, name):
    """``got`` as a 2-list, or a failure saying what came back instead."""
    if not (isinstance(got, (list, tuple)) and len(got) == 2):
        raise Fail(f"{name} returns a pair of tensors", f"your code returned {type(got).__name__}")
    return list(got)


LOGITS = torch.tensor([[math.log(0.5), math.log(0.3), math.log(0.2)],
                       [math.log(0.1), math.log(0.2), math.log(0.7)]])


@check("top_k_routing by hand: Mixtral's gates are the top-k probabilities renormalised to sum to 1")
def routing_by_hand(run):
    got = pair(run(routed, LOGITS, 2), "top_k_routing")
    expect_close(got, [torch.tensor([[0.625, 0.375], [0.7 / 0.9, 0.2 / 0.9]]), torch.tensor([[0, 1], [2, 1]])],
                 "token 0: probabilities [0.5, 0.3, 0.2] -> experts [0, 1] with gates 0.5/0.8 and 0.3/0.8",
                 what="(weights, experts) of top_k_routing(logits, k=2)")
    got = pair(run(routed, LOGITS, 1, normalize=False), "top_k_routing")
    expect_close(got, [torch.tensor([[0.5], [0.7]]), torch.tensor([[0], [2]])],
                 "normalize=False (Switch, k=1) keeps the raw probability of the chosen expert",
                 what="(weights, experts) of top_k_routing(logits, k=1, normalize=False)")


@check("load_balancing_loss: a collapsed router scores about E, an even split with k = 1 exactly 1")
def balance_by_hand(run):
    collapsed = torch.tensor([[20.0, 0.0, 0.0, 0.0]] * 6)
    got = run("load_balancing_loss", collapsed, 1)
    expect_close(got, 4.0, "every token goes to expert 0 with probability ~1: f = [1, 0, 0, 0], P ~ [1, 0, 0, 0], "
                 "loss = E * sum f P ~ E = 4", rtol=1e-6, atol=1e-6, what="loss of a collapsed router (E=4, k=1)")
    even = torch.eye(4) * 20                                     # token i -> expert i, probability ~1
    got = run("load_balancing_loss", even, 1)
    expect_close(got, 1.0, "each expert gets 1/4 of the tokens and 1/4 of the probability: 4 * 4 * (1/4)(1/4) = 1",
                 rtol=1e-6, atol=1e-6, what="loss of a perfectly balanced router (E=4, k=1)")


@check("switch_route: with capacity 2 the third token choosing an expert is dropped")
def capacity_by_hand(run):
    logits = torch.tensor([[[3.0, 0.0], [2.0, 0.0], [0.0, 1.0], [4.0, 0.0]]])   # tokens 0, 1, 3 choose expert 0
    dispatch, gate = pair(run(switched, logits, 2), "switch_route")
    expect_equal(dispatch, torch.tensor([[[1, 0], [1, 0], [0, 1], [0, 0]]]), "tokens claim their expert in position "
                 "order; token 3 is the third to choose expert 0, over capacity 2, so its row is all zeros",
                 what="dispatch")
    expect_close(gate, torch.softmax(logits, -1).amax(-1, keepdim=True), "gate is the chosen expert's probability, "
                 "also for a dropped token", what="gate")


@check("SparseMoE has Mixtral's parameters and equals the dense computation with the same weights")
def moe_matches_dense(run):
    params = random_params(6, 4, 4, seed=1)
    x = torch.randn(2, 3, 6, generator=torch.Generator().manual_seed(2))
    got = run(moe, 6, 4, 4, 2, params, x)
    expect_params(got, params)
    want_y, want_logits = dense_oracle(params, x, 2)
    expect_close(got["logits"], want_logits, "router_logits = gate(tokens), tokens = x.view(B*T, H)",
                 what="router_logits")
    expect_close(got["y"], want_y, "each token's output is the gate-weighted sum of its top-2 experts' SwiGLU "
                 "outputs", what="y")
