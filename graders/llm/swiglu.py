"""Hidden graders of llm/swiglu.

Oracle: the formula with ``torch.nn.functional.silu``; tests/test_twins_llm_swiglu.py shows that
the reference and this oracle agree with ``transformers``' ``LlamaMLP`` (weights copied, and the
reference's state_dict loaded into LlamaMLP strictly).  Checks: the gate on random inputs, which
branch is gated, SiLU (not sigmoid, ReLU or GELU), huge gate values (finite values and gradients),
gradients, dtypes, the MLP's parameters, output and gradients, any leading shape.
"""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, expect_tensor, visible_module

V = visible_module("llm/swiglu")
loaded = V.loaded

GATE_RULE = "swiglu(x_gate, x_up) = silu(x_gate) * x_up, silu(z) = z * sigmoid(z)"
MLP_RULE = "forward(x) = down_proj(silu(gate_proj(x)) * up_proj(x))"


def oracle_gate(g, u):
    return F.silu(g) * u


def oracle_mlp(x, w):
    return F.linear(F.silu(F.linear(x, w["gate_proj.weight"])) * F.linear(x, w["up_proj.weight"]),
                    w["down_proj.weight"])


def gate_inputs(seed, shape, dtype=torch.float32, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g) * scale).to(dtype), torch.randn(shape, generator=g).to(dtype)


def mlp_inputs(seed, hidden, inter, lead, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    w = {"gate_proj.weight": torch.randn(inter, hidden, generator=g) / hidden ** 0.5,
         "up_proj.weight": torch.randn(inter, hidden, generator=g) / hidden ** 0.5,
         "down_proj.weight": torch.randn(hidden, inter, generator=g) / inter ** 0.5}
    x = torch.randn(*lead, hidden, generator=g)
    return {k: v.to(dtype) for k, v in w.items()}, x.to(dtype)


def diagnose_gate(got, g, u):
    """A specific rule when the output matches a known confusion; else the general rule."""
    if isinstance(got, torch.Tensor) and got.shape == g.shape:
        for wrong, rule in ((F.silu(u) * g, "the gate is x_gate: silu(x_gate) * x_up, not silu(x_up) * x_gate"),
                            (torch.sigmoid(g) * u, "SwiGLU uses silu(z) = z * sigmoid(z), not sigmoid(z) (that is GLU)"),
                            (g * torch.sigmoid(1.702 * g) * u, "silu(z) = z * sigmoid(z), not z * sigmoid(1.702 z) "
                             "(that is the sigmoid approximation of GELU)"),
                            (torch.relu(g) * u, "SwiGLU uses silu(z) = z * sigmoid(z), not relu (that is ReGLU)")):
            if torch.allclose(got.double(), wrong.double(), rtol=1e-4, atol=1e-5):
                return rule
    return GATE_RULE


@check("swiglu agrees with F.silu(x_gate) * x_up on random inputs of several shapes", points=2)
def gate_random(run):
    for seed, shape in ((0, (5, 8)), (1, (2, 3, 4)), (2, (17,)), (3, (1, 64))):
        g, u = gate_inputs(seed, shape)
        got = run(V.gate, g, u)["y"]
        want = oracle_gate(g, u)
        expect_tensor(got, "swiglu returns a tensor of the inputs' shape", shape=shape)
        expect_close(got, want, diagnose_gate(got, g, u), what=f"output (shape {list(shape)})")


@check("only the gate goes through SiLU: swiglu(a, b) != swiglu(b, a)")
def gate_asymmetric(run):
    g, u = gate_inputs(4, (3, 6))
    got = run(V.gate, g, u)["y"]
    expect_close(got, oracle_gate(g, u), diagnose_gate(got, g, u), what="output")


@check("gradients w.r.t. x_gate and x_up agree with autograd through F.silu (float64)", points=2)
def gate_gradients(run):
    g, u = gate_inputs(5, (4, 7), torch.float64)
    go = torch.randn(4, 7, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    gr, ur = g.clone().requires_grad_(True), u.clone().requires_grad_(True)
    (oracle_gate(gr, ur) * go).sum().backward()
    got = run(V.gate, g, u, grad=True, grad_out=go)
    expect(got["differentiable"], "swiglu is differentiable in both inputs (build it from torch operations)",
           "your output does not require grad")
    for name, want in (("gate_grad", gr.grad), ("up_grad", ur.grad)):
        expect_tensor(got[name], f"a gradient reaches x_{name[:-5]}", shape=want.shape)
        expect_close(got[name], want, "d/d gate = up * sigmoid(gate) * (1 + gate * (1 - sigmoid(gate))), "
                     "d/d up = silu(gate)", rtol=1e-8, atol=1e-12, what=f"gradient w.r.t. x_{name[:-5]}")


@check("huge gate values (+-1000, +-100 in float32): finite outputs and finite gradients", points=2)
def gate_stability(run):
    g = torch.tensor([[-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0]])
    u = torch.tensor([[1.0, -2.0, 0.5, 3.0, -1.0, 2.0, 0.5]])
    got = run(V.gate, g, u, grad=True)
    y = expect_tensor(got["y"], "swiglu returns a tensor", shape=g.shape)
    expect(bool(torch.isfinite(y).all()), "silu(z) must stay finite for large |z|: use torch.sigmoid "
           "(z / (1 + exp(-z)) gives inf / inf at z = -1000)", f"your output: {y.tolist()}")
    expect_close(y, oracle_gate(g, u), GATE_RULE + " (silu(-1000) = 0, silu(1000) = 1000)", what="output")
    expect(got["differentiable"], "swiglu is differentiable in both inputs", "your output does not require grad")
    gg = got["gate_grad"]
    expect(isinstance(gg, torch.Tensor) and bool(torch.isfinite(gg).all()),
           "the gradient must stay finite for large |gate|: z / (1 + exp(-z)) differentiates to inf / inf = NaN at "
           "z = -1000; z * torch.sigmoid(z) does not", f"your gradient w.r.t. x_gate: {gg if gg is None else gg.tolist()}")
    gr = g.clone().requires_grad_(True)
    oracle_gate(gr, u).sum().backward()
    expect_close(gg, gr.grad, "d silu(z)/dz tends to 0 for z -> -inf and to 1 for z -> +inf",
                 what="gradient w.r.t. x_gate")


@check("swiglu keeps the inputs' dtype: float64 stays float64, bfloat16 stays bfloat16")
def gate_dtypes(run):
    g, u = gate_inputs(6, (3, 5), torch.float64)
    expect_close(run(V.gate, g, u)["y"], oracle_gate(g, u), GATE_RULE + " (float64)", rtol=1e-12, atol=1e-12,
                 check_dtype=True, what="output")
    g, u = gate_inputs(7, (3, 5), torch.bfloat16)
    expect_close(run(V.gate, g, u)["y"], oracle_gate(g, u), GATE_RULE + " (bfloat16)", rtol=2e-2, atol=1e-2,
                 check_dtype=True, what="output")


@check("swiglu does not modify its inputs in place")
def gate_untouched(run):
    g, u = gate_inputs(8, (4, 4))
    got = run(V.gate, g, u)
    expect_close(got["y"], oracle_gate(g, u), GATE_RULE, what="swiglu(x_gate, x_up)")
    expect(got["unchanged"], "swiglu must not modify x_gate or x_up in place (no mul_ / sigmoid_): "
           "return a new tensor", "an input was changed by the call")


# --------------------------------------------------------------------------------------------
# SwiGLUMLP
# --------------------------------------------------------------------------------------------

@check("SwiGLUMLP's parameters: gate_proj.weight, up_proj.weight [inter, hidden], down_proj.weight [hidden, inter], "
       "all trainable, no biases, nothing else in the state_dict", points=2)
def mlp_parameters(run):
    for hidden, inter in ((8, 22), (5, 3)):
        w, x = mlp_inputs(140 + hidden, hidden, inter, (2,))
        got = run(V.mlp, hidden, inter, x, w)
        want = {"down_proj.weight": [hidden, inter], "gate_proj.weight": [inter, hidden],
                "up_proj.weight": [inter, hidden]}
        expect(got["params"] == want, "exactly LLaMA's three bias-free projections (nn.Linear(..., bias=False)), "
               "named gate_proj, up_proj, down_proj -- fusing gate and up into one matrix or adding biases breaks "
               "loading a checkpoint", f"parameters (name: shape) for hidden {hidden}, intermediate {inter}: expected "
               f"{want}, your module has {got['params']}")
        expect(got["trainable"] == sorted(want), "all three weights are trainable",
               f"parameters that require grad: {got['trainable']}")
        expect(got["state_dict"] == sorted(want), "the state_dict holds the three weights and nothing else "
               "(so that LlamaMLP's state_dict loads strictly)", f"your state_dict keys: {got['state_dict']}")
        expect_close(loaded(got)["y"], oracle_mlp(x, w), MLP_RULE, what=f"output (hidden {hidden}, intermediate {inter})")


def diagnose_mlp(got, x, w):
    if isinstance(got, torch.Tensor) and got.shape[:-1] == x.shape[:-1]:
        swapped = F.linear(F.silu(F.linear(x, w["up_proj.weight"])) * F.linear(x, w["gate_proj.weight"]),
                           w["down_proj.weight"])
        if got.shape == swapped.shape and torch.allclose(got, swapped, rtol=1e-4, atol=1e-5):
            return "SiLU goes on gate_proj(x), and up_proj(x) is the linear branch -- your module has them swapped"
    return MLP_RULE


@check("SwiGLUMLP agrees with down_proj(F.silu(gate_proj(x)) * up_proj(x)) on random weights and inputs", points=2)
def mlp_random(run):
    for seed, (hidden, inter, lead) in enumerate(((8, 22, (3,)), (16, 43, (2, 5)), (4, 4, (2, 2, 3)), (6, 10, ()))):
        w, x = mlp_inputs(10 + seed, hidden, inter, lead)
        got = loaded(run(V.mlp, hidden, inter, x, w))["y"]
        expect_tensor(got, "the output has x's shape (..., hidden_size)", shape=x.shape)
        expect_close(got, oracle_mlp(x, w), diagnose_mlp(got, x, w),
                     what=f"output (hidden {hidden}, intermediate {inter}, x {list(x.shape)})")


@check("SwiGLUMLP: gradients of gate_proj, up_proj and down_proj weights agree with the formula's (float64)",
       points=2)
def mlp_gradients(run):
    w, x = mlp_inputs(20, 6, 14, (2, 3), torch.float64)
    go = torch.randn(2, 3, 6, generator=torch.Generator().manual_seed(20), dtype=torch.float64)
    wr = {k: v.clone().requires_grad_(True) for k, v in w.items()}
    (oracle_mlp(x, wr) * go).sum().backward()
    got = loaded(run(V.mlp, 6, 14, x, w, torch.float64, go))
    if got["grads"] is None:
        raise Fail("the MLP's output is differentiable with respect to its three weights", "no gradients came back")
    for name in sorted(w):
        g = got["grads"].get(name)
        if g is None:
            raise Fail(f"{name} takes part in the output, so it receives a gradient", f"{name}.grad is None")
        expect_close(g, wr[name].grad, MLP_RULE + " -- backpropagated", rtol=1e-8, atol=1e-12, what=f"{name}.grad")


@check("SwiGLUMLP in float64 computes in float64")
def mlp_float64(run):
    w, x = mlp_inputs(30, 8, 12, (4,), torch.float64)
    got = loaded(run(V.mlp, 8, 12, x, w, torch.float64))["y"]
    expect_close(got, oracle_mlp(x, w), MLP_RULE + " (float64)", rtol=1e-12, atol=1e-12, check_dtype=True,
                 what="output")
