"""Hidden graders of llm/lora.

The oracle is the explicit formula ``x W^T + b + (alpha / r) x A^T B^T`` computed here (with
autograd for the gradients of A and B).  tests/test_twins_llm_lora.py compares the reference with
Hugging Face PEFT's LoRA Linear when peft is installed.  Checks: random agreement (shapes, bias or
not, leading dimensions, r and alpha), the scaling, the initialisation (B zero, A Kaiming-uniform:
bound and shape of the distribution), frozen base and trainable A/B, gradients, merge/unmerge
(equivalence, exact weight, idempotence, round trip, training after unmerge), dropout on the LoRA
path only, and float64.
"""
import math

import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_rate, expect_tensor, probe, visible_module

V = visible_module("llm/lora")
records = V.records
formula = V.formula


def layer_inputs(seed, in_features, out_features, r, lead=(4,), bias=True, dtype=torch.float32):
    """A base layer's weight/bias, trained-looking A and B (B non-zero), and an input x."""
    g = torch.Generator().manual_seed(seed)
    r64 = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    weight = r64(out_features, in_features) / math.sqrt(in_features)
    b = r64(out_features) if bias else None
    A = r64(r, in_features) / math.sqrt(in_features)
    B = r64(out_features, r) * 0.5
    x = r64(*lead, in_features)
    cast = lambda t: None if t is None else t.to(dtype)  # noqa: E731
    return cast(weight), cast(b), cast(A), cast(B), cast(x)


FORWARD_RULE = "output = x W^T + b + (alpha / r) * x A^T B^T, for x of shape (..., in)"


def fmt(t):
    return "[" + ", ".join(f"{v:.4g}" for v in t.reshape(-1).tolist()[:6]) + (", ...]" if t.numel() > 6 else "]")


# --------------------------------------------------------------------------------------------
# forward
# --------------------------------------------------------------------------------------------

@check("forward agrees with x W^T + b + (alpha / r) x A^T B^T on random layers (bias or not, 2-D and 3-D x)",
       points=2)
def forward_random(run):
    cases = [(0, 16, 8, 4, 8.0, (5,), True), (1, 7, 11, 2, 16.0, (3, 4), True), (2, 32, 32, 8, 8.0, (2, 3), False),
             (3, 10, 6, 1, 0.5, (2, 2, 3), True), (4, 5, 9, 5, 32.0, (1,), False)]
    for seed, fin, fout, r, alpha, lead, bias in cases:
        weight, b, A, B, x = layer_inputs(seed, fin, fout, r, lead, bias)
        got = records(run(V.lora, weight, b, r, alpha, ["forward"], x=x, A=A, B=B))[0]
        want = formula(weight, b, A, B, alpha / r, x)
        expect_close(got, want, FORWARD_RULE, what=f"output (in {fin}, out {fout}, r {r}, alpha {alpha}, "
                     f"x {list(x.shape)}, bias {bias})")


@check("the update is scaled by alpha / r (not alpha, not 1 / r, not alpha / sqrt(r))")
def scaling(run):
    for r, alpha in ((4, 32.0), (4, 1.0), (16, 4.0)):
        weight, b, A, B, x = layer_inputs(10 + r, 8, 6, r, (3,))
        state, out = records(run(V.lora, weight, b, r, alpha, ["state", "forward"], x=x, A=A, B=B))
        expect(isinstance(state["scaling"], (int, float)) and abs(state["scaling"] - alpha / r) < 1e-9,
               "layer.scaling is the float alpha / r",
               f"r {r}, alpha {alpha}: expected scaling {alpha / r}, your layer has {state['scaling']!r}")
        expect_close(out, formula(weight, b, A, B, alpha / r, x), "the LoRA path is multiplied by alpha / r",
                     what=f"output (r {r}, alpha {alpha})")


@check("x may have any number of leading dimensions: (..., in) -> (..., out)")
def leading_dims(run):
    weight, b, A, B, x = layer_inputs(12, 6, 4, 3, (2, 3, 2))
    got = records(run(V.lora, weight, b, 3, 6.0, ["forward"], x=x, A=A, B=B))[0]
    expect_tensor(got, "the output has shape (..., out)", shape=(2, 3, 2, 4))
    expect_close(got, formula(weight, b, A, B, 2.0, x), FORWARD_RULE, what="output (x of shape [2, 3, 2, 6])")
    got = records(run(V.lora, weight, b, 3, 6.0, ["forward"], x=x[0, 0, 0], A=A, B=B))[0]
    expect_close(got, formula(weight, b, A, B, 2.0, x[0, 0, 0]), FORWARD_RULE, what="output (x of shape [6])")


# --------------------------------------------------------------------------------------------
# initialisation and freezing
# --------------------------------------------------------------------------------------------

@check("at initialisation B is zeros and the output equals the base layer's, for random layers")
def init_is_base(run):
    for seed, (fin, fout, r) in enumerate(((12, 5, 4), (5, 12, 2), (9, 9, 9))):
        weight, b, _, _, x = layer_inputs(20 + seed, fin, fout, r, (3,))
        state, out = records(run(V.lora, weight, b, r, 16.0, ["state", "forward"], x=x, seed=seed))
        expect_tensor(state["B"], "lora_B has shape [out, r]", shape=(fout, r))
        expect(bool((state["B"] == 0).all()), "lora_B starts at exactly zero, so that B A = 0 and training starts "
               "from the pretrained layer", f"lora_B at init: {fmt(state['B'])}")
        expect_close(out, formula(weight, b, torch.zeros(r, fin), torch.zeros(fout, r), 0.0, x),
                     "at initialisation the LoRA layer computes exactly x W^T + b", what="output at init")


@check("lora_A starts Kaiming-uniform like nn.Linear (PEFT): U(-1/sqrt(in), 1/sqrt(in)), not zero, not Gaussian",
       points=2)
def init_A_distribution(run):
    fin, fout, r = 256, 4, 16
    weight = torch.randn(fout, fin, generator=torch.Generator().manual_seed(99))
    x = torch.randn(2, fin, generator=torch.Generator().manual_seed(98))
    samples = []
    for seed in range(3):
        state, out = records(run(V.lora, weight, None, r, 16.0, ["state", "forward"], x=x, seed=100 + seed))
        expect_close(out, x @ weight.T, "at initialisation (B = 0) the layer computes x W^T", what="output at init")
        A = expect_tensor(state["A"], f"lora_A is a tensor of shape [r, in] = [{r}, {fin}]", shape=(r, fin))
        samples.append(A.double().reshape(-1))
    a = torch.cat(samples)
    bound = 1 / math.sqrt(fin)
    expect(bool((a != 0).any()) and len(set(a.tolist())) > a.numel() // 2,
           "lora_A starts random (only B starts at zero): with A = 0 too, neither A nor B gets a gradient",
           f"lora_A at init: {fmt(a)}")
    expect(float(a.abs().max()) <= bound * (1 + 1e-6),
           f"kaiming_uniform_(A, a=sqrt(5)) on A of shape [r, in] draws from U(-1/sqrt(in), 1/sqrt(in)) = "
           f"U(-{bound:.4g}, {bound:.4g}) (fan_in is in, the second dimension; a = sqrt(5), not the default 0)",
           f"the largest |A| at init is {float(a.abs().max()):.4g}, beyond the bound {bound:.4g}")
    n = a.numel()
    expect_rate(int((a.abs() < bound / 2).sum()), n, 0.5, "lora_A is uniform on [-1/sqrt(in), 1/sqrt(in)]: half of "
                "its entries lie within half the bound (a Gaussian or a narrower uniform puts more there)",
                what="fraction of |A| < bound / 2")
    expect_rate(int((a > 0).sum()), n, 0.5, "lora_A is symmetric around 0", what="fraction of A > 0")


@check("lora_A is [r, in] and lora_B is [out, r], both in the base layer's dtype (float64 here)")
def shapes_and_dtype(run):
    weight = torch.randn(5, 7, generator=torch.Generator().manual_seed(30), dtype=torch.float64)
    x = torch.randn(4, 7, generator=torch.Generator().manual_seed(31), dtype=torch.float64)
    state, out = records(run(V.lora, weight, torch.zeros(5, dtype=torch.float64), 3, 6.0, ["state", "forward"], x=x))
    expect_close(out, x @ weight.T, "at initialisation (B = 0) the layer computes x W^T + b, in float64",
                 check_dtype=True, rtol=1e-10, atol=1e-12, what="output at init")
    expect_tensor(state["A"], "lora_A has shape [r, in] = [3, 7] and the base weight's dtype",
                  shape=(3, 7), dtype=torch.float64)
    expect_tensor(state["B"], "lora_B has shape [out, r] = [5, 3] and the base weight's dtype",
                  shape=(5, 3), dtype=torch.float64)


@check("the base weight and bias are frozen (no gradient reaches them) and equal the base layer's")
def base_frozen(run):
    weight, b, A, B, x = layer_inputs(31, 6, 4, 2, (3,))
    g = torch.randn(3, 4, generator=torch.Generator().manual_seed(31))
    state, grads = records(run(V.lora, weight, b, 2, 4.0, ["state", "backward"], x=x, A=A, B=B, grad_out=g))
    expect_close(grads["out"], V.formula(weight, b, A, B, 2.0, x), "output = x W^T + b + (alpha / r) * x A^T B^T",
                 what="output")
    expect(state["trainable"] == ["lora_A", "lora_B"],
           "freeze the base layer: the only parameters with requires_grad=True are lora_A and lora_B",
           f"parameters that require grad: expected ['lora_A', 'lora_B'], your layer has {state['trainable']}")
    expect_close(state["weight"], weight, "layer.weight equals the base layer's weight", what="weight")
    expect_close(state["bias"], b, "layer.bias equals the base layer's bias", what="bias")
    expect(grads["weight"] is None and grads["bias"] is None,
           "no gradient may reach the frozen weight and bias (requires_grad=False)",
           f"weight.grad is {'None' if grads['weight'] is None else 'set'}, "
           f"bias.grad is {'None' if grads['bias'] is None else 'set'}")
    state = records(run(V.lora, weight, None, 2, 4.0, ["state"], A=A, B=B))[0]
    expect(state["bias"] is None, "a base layer without bias gives layer.bias = None",
           f"layer.bias is {state['bias']!r}")


# --------------------------------------------------------------------------------------------
# gradients
# --------------------------------------------------------------------------------------------

DTYPE_RULE = ("lora_A and lora_B take the base layer's dtype (float64 here), and so do their gradients: "
              "create them with dtype=base.weight.dtype")


def oracle_grads(weight, bias, A, B, scaling, x, grad_out):
    A = A.clone().requires_grad_(True)
    B = B.clone().requires_grad_(True)
    (formula(weight, bias, A, B, scaling, x) * grad_out).sum().backward()
    return A.grad, B.grad


@check("gradients of lora_A and lora_B agree with the explicit formula's (float64)", points=2)
def gradients(run):
    for seed, (fin, fout, r, alpha, lead) in enumerate(((8, 6, 2, 4.0, (5,)), (5, 9, 3, 1.0, (2, 3)))):
        weight, b, A, B, x = layer_inputs(40 + seed, fin, fout, r, lead, dtype=torch.float64)
        g = torch.randn(*lead, fout, generator=torch.Generator().manual_seed(40 + seed), dtype=torch.float64)
        grads = records(run(V.lora, weight, b, r, alpha, ["backward"], x=x, A=A, B=B, grad_out=g))[0]
        expect(grads["differentiable"], "the output must be differentiable with respect to lora_A and lora_B",
               "your output does not require grad")
        want_A, want_B = oracle_grads(weight, b, A, B, alpha / r, x, g)
        rule = ("d out / d A and d out / d B follow from out = x W^T + b + (alpha / r) x A^T B^T: "
                "dL/dB = (alpha / r) G^T (x A^T), dL/dA = (alpha / r) (G B)^T x")
        for name, want in (("A", want_A), ("B", want_B)):
            if grads[name] is None:
                raise Fail(rule, f"lora_{name}.grad is None after backward: lora_{name} takes no part in the output")
            expect_tensor(grads[name], DTYPE_RULE, dtype=torch.float64)
            expect_close(grads[name], want, rule, rtol=1e-9, atol=1e-12, what=f"lora_{name}.grad (seed {seed})")
    # at initialisation (B = 0) A gets no gradient but B does: that is why only B starts at zero
    weight, b, _, _, x = layer_inputs(42, 8, 6, 2, (5,), dtype=torch.float64)
    g = torch.randn(5, 6, generator=torch.Generator().manual_seed(42), dtype=torch.float64)
    grads = records(run(V.lora, weight, b, 2, 4.0, ["backward"], x=x, grad_out=g))[0]
    expect(grads["B"] is not None and float(grads["B"].abs().max()) > 0,
           "at initialisation lora_B must receive a non-zero gradient (A random, B zero) or training never starts",
           f"lora_B.grad at init: {grads['B'] if grads['B'] is None else fmt(grads['B'])}")


# --------------------------------------------------------------------------------------------
# merge / unmerge
# --------------------------------------------------------------------------------------------

@check("merged and unmerged layers give the same output; merge adds exactly scaling * B @ A (square layers too)",
       points=2)
def merge_random(run):
    for seed, (fin, fout, r, alpha, bias) in enumerate(((12, 7, 3, 6.0, True), (8, 8, 4, 16.0, False),
                                                       (6, 6, 2, 1.0, True))):
        weight, b, A, B, x = layer_inputs(50 + seed, fin, fout, r, (4,), bias)
        before, _, state, after = records(run(V.lora, weight, b, r, alpha, ["forward", "merge", "state", "forward"],
                                              x=x, A=A, B=B))
        what = f"(in {fin}, out {fout}, r {r}, alpha {alpha})"
        expect_close(state["weight"], weight + (alpha / r) * B @ A, "merge(): weight += (alpha / r) * B @ A -- "
                     "[out, r] @ [r, in], the shape of W (not (B @ A)^T, not A^T @ B^T)", what=f"weight after merge {what}")
        expect(state["merged"] is True, "merge() sets layer.merged to True", f"layer.merged is {state['merged']!r}")
        expect_close(after, before, "the merged layer computes x W'^T + b only, which equals the unmerged output",
                     what=f"output after merge vs before {what}")
        expect_close(after, formula(weight, b, A, B, alpha / r, x), FORWARD_RULE, what=f"output after merge {what}")


@check("merge() twice adds the update once; unmerge() on an unmerged layer changes nothing")
def merge_idempotent(run):
    weight, b, A, B, x = layer_inputs(60, 9, 5, 3, (4,))
    want_w = weight + 2.0 * B @ A
    state, out = records(run(V.lora, weight, b, 3, 6.0, ["merge", "merge", "state", "forward"], x=x, A=A, B=B))[2:]
    expect_close(state["weight"], want_w, "merging an already merged layer must do nothing (check self.merged)",
                 what="weight after merge(); merge()")
    expect_close(out, formula(weight, b, A, B, 2.0, x), "merging twice must not change the output",
                 what="output after merge(); merge()")
    state, out = records(run(V.lora, weight, b, 3, 6.0, ["unmerge", "state", "forward"], x=x, A=A, B=B))[1:]
    expect_close(state["weight"], weight, "unmerge() on a layer that is not merged must do nothing",
                 what="weight after unmerge() of an unmerged layer")
    expect(state["merged"] is False, "layer.merged stays False", f"layer.merged is {state['merged']!r}")
    expect_close(out, formula(weight, b, A, B, 2.0, x), "unmerge() on an unmerged layer must not change the output",
                 what="output after unmerge() of an unmerged layer")


@check("unmerge() restores the original weight and the unmerged forward", points=2)
def unmerge_round_trip(run):
    weight, b, A, B, x = layer_inputs(70, 10, 6, 4, (3,))
    recs = records(run(V.lora, weight, b, 4, 8.0, ["merge", "unmerge", "state", "forward"], x=x, A=A, B=B))
    state, out = recs[2], recs[3]
    expect_close(state["weight"], weight, "unmerge(): weight -= (alpha / r) * B @ A restores the base weight",
                 rtol=1e-5, atol=1e-6, what="weight after merge(); unmerge()")
    expect(state["merged"] is False, "unmerge() sets layer.merged back to False", f"layer.merged is {state['merged']!r}")
    expect_close(out, formula(weight, b, A, B, 2.0, x), "after unmerge() the layer adds the LoRA path again",
                 what="output after merge(); unmerge()")


@check("after merge() and unmerge() the layer still trains: A and B get the right gradients, W stays frozen")
def trains_after_unmerge(run):
    weight, b, A, B, x = layer_inputs(80, 7, 5, 2, (4,), dtype=torch.float64)
    g = torch.randn(4, 5, generator=torch.Generator().manual_seed(80), dtype=torch.float64)
    recs = records(run(V.lora, weight, b, 2, 4.0, ["merge", "unmerge", "state", "backward"], x=x, A=A, B=B,
                       grad_out=g))
    state, grads = recs[2], recs[3]
    expect(state["trainable"] == ["lora_A", "lora_B"],
           "merging must not unfreeze the weight (do it under torch.no_grad(), in place)",
           f"parameters that require grad after merge/unmerge: {state['trainable']}")
    want_A, want_B = oracle_grads(weight, b, A, B, 2.0, x, g)
    for name, want in (("A", want_A), ("B", want_B)):
        if grads[name] is None:
            raise Fail("after unmerge() the LoRA path is used again, so A and B get gradients",
                       f"lora_{name}.grad is None after merge(); unmerge(); backward")
        expect_tensor(grads[name], DTYPE_RULE, dtype=torch.float64)
        expect_close(grads[name], want, "after unmerge() A and B get the same gradients as before merging",
                     rtol=1e-6, atol=1e-9, what=f"lora_{name}.grad")


# --------------------------------------------------------------------------------------------
# dropout, dtype
# --------------------------------------------------------------------------------------------

@check("dropout acts on the LoRA path's input only, as inverted dropout, and not in eval mode")
def dropout(run):
    n = 64
    weight, b, _, _, _ = layer_inputs(90, n, n, n, (1,))
    x = torch.rand(80, n, generator=torch.Generator().manual_seed(90)) + 0.5      # no zeros in x
    eye = torch.eye(n)
    base = x @ weight.T + b
    # eval mode: no dropout at all
    got = records(run(V.lora, weight, b, n, float(n), ["forward"], x=x, A=eye, B=eye, dropout=0.5, train=False))[0]
    expect_close(got, base + x, "in eval mode dropout is off: output = x W^T + b + scaling x A^T B^T",
                 what="output in eval mode with dropout 0.5 (A = B = I, scaling 1)")
    # p = 1 in training mode: the LoRA path sees only zeros, the frozen path is untouched
    got = records(run(V.lora, weight, b, n, float(n), ["forward"], x=x, A=eye, B=eye, dropout=1.0, train=True))[0]
    expect_close(got, base, "dropout applies to the LoRA path only, never to the frozen path x W^T + b: with "
                 "p = 1 the output is the base layer's", what="output in training mode with dropout 1.0")
    # p = 0.3: with A = B = I the LoRA path is scaling * dropout(x): each entry 0 or x / 0.7
    got = records(run(V.lora, weight, b, n, float(n), ["forward"], x=x, A=eye, B=eye, dropout=0.3, train=True,
                      seed=91))[0]
    ratio = ((got - base) / x).double()
    kept = (ratio - 1 / 0.7).abs() < 1e-3
    dropped = ratio.abs() < 1e-3
    expect(bool((kept | dropped).all()), "inverted dropout on x: each input entry of the LoRA path is either 0 "
           "or x / (1 - p)", f"(output - base) / x should be 0 or {1 / 0.7:.4g} everywhere; found {fmt(ratio[~(kept | dropped)])}")
    expect_rate(int(dropped.sum()), dropped.numel(), 0.3, "each entry is dropped with probability p = 0.3",
                what="fraction of LoRA-path inputs dropped")


@check("a float64 base layer gives float64 parameters and float64 outputs, as accurate as float64 allows")
def float64(run):
    weight, b, A, B, x = layer_inputs(95, 9, 7, 3, (2, 4), dtype=torch.float64)
    out, _, merged = records(run(V.lora, weight, b, 3, 12.0, ["forward", "merge", "forward"], x=x, A=A, B=B))
    want = formula(weight, b, A, B, 4.0, x)
    expect_close(out, want, FORWARD_RULE + " (float64)", rtol=1e-10, atol=1e-12, check_dtype=True, what="output")
    expect_close(merged, want, FORWARD_RULE + " (float64, merged)", rtol=1e-10, atol=1e-12, check_dtype=True,
                 what="output after merge")


@probe
def lora_with_defaults(sub, weight, bias, x, A, B):
    """``LoRALinear(base)`` with r, alpha and dropout at their defaults: lora_A's shape, then (A and B
    copied in, training mode) the output for ``x``."""
    base = torch.nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        base.weight.copy_(weight)
        base.bias.copy_(bias)
    layer = sub.LoRALinear(base)
    report = {"A_shape": list(layer.lora_A.shape), "B_shape": list(layer.lora_B.shape)}
    if report["A_shape"] == list(A.shape) and report["B_shape"] == list(B.shape):
        with torch.no_grad():
            layer.lora_A.copy_(A)
            layer.lora_B.copy_(B)
        layer.train()
        report["out"] = layer(x).detach()
    return report


@check("LoRALinear(base)'s defaults: r = 8, alpha = 8 (scaling 1), no dropout (training mode is deterministic)")
def defaults(run):
    weight, b, A, B, x = layer_inputs(170, 12, 5, 8, (6,))
    got = run(lora_with_defaults, weight, b, x, A, B)
    expect(got["A_shape"] == [8, 12] and got["B_shape"] == [5, 8], "r defaults to 8: lora_A is [8, in], lora_B [out, 8]",
           f"lora_A {got['A_shape']}, lora_B {got['B_shape']} for a base Linear(12, 5)")
    expect_close(got["out"], V.formula(weight, b, A, B, 1.0, x), "alpha defaults to 8, so scaling = alpha / r = 1; "
                 "dropout defaults to 0, so training mode adds x A^T B^T unchanged", what="output in training mode")
