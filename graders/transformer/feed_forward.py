"""Hidden graders of transformer/feed_forward: agreement with the feed-forward block of
torch.nn.TransformerEncoderLayer (same weights) for ReLU and GELU, with and without biases, and
inside a whole post-norm / pre-norm encoder layer; any leading dims; callable activations; the
position-wise property; dropout placement and statistics; gradients in float64."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import check, expect, expect_close, expect_equal, expect_rate, expect_tensor, probe, \
    visible_module

V = visible_module("transformer/feed_forward")


@probe
def ffn_each(sub, cases):
    return [V.ffn.fn(sub, **case) for case in cases]


@probe
def construct_error(sub, activation):
    """Build FeedForward(4, 8, activation=activation); report the exception, if any."""
    try:
        sub.FeedForward(4, 8, activation=activation)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - the check decides which exception is right
        return {"raised": type(e).__name__, "message": str(e)[:200]}
    return {"raised": None}


def _x(seed, *shape, dtype=torch.float32, scale=1.0):
    return (torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * scale).to(dtype)


def run_cases(run, cases):
    """Run every case (kwargs of V.ffn plus 'label'); check the parameter names first."""
    gots = run(ffn_each, [{k: v for k, v in c.items() if k != "label"} for c in cases])
    for c, got in zip(cases, gots):
        if c.get("params") is not None:
            V.expect_params(got, {n: tuple(t.shape) for n, t in c["params"].items()}, c["label"])
    return gots


RULE_BLOCK = "out = linear2(dropout(activation(linear1(x)))), as in torch's TransformerEncoderLayer"


@check("agrees with TransformerEncoderLayer's feed-forward block for ReLU and GELU on random shapes", points=2)
def agrees_with_layer(run):
    sizes = [(2, 5, 8, 32, "relu"), (3, 4, 12, 48, "gelu"), (1, 7, 6, 24, "relu"), (2, 3, 16, 64, "gelu"),
             (4, 2, 5, 7, "gelu")]
    layers, cases = [], []
    for seed, (B, T, d, d_ff, act) in enumerate(sizes):
        layer, params = V.torch_layer(d, d_ff, act, seed=10 + seed)
        layers.append(layer)
        cases.append(dict(d_model=d, d_ff=d_ff, x=_x(20 + seed, B, T, d), params=params, activation=act,
                          label=f"B={B}, T={T}, d_model={d}, d_ff={d_ff}, activation={act}"))
    for layer, c, got in zip(layers, cases, run_cases(run, cases)):
        with torch.no_grad():
            want = layer._ff_block(c["x"])
        expect_close(got["out"], want, RULE_BLOCK, what=f"output ({c['label']})")


@check("slots into a whole encoder layer: post-norm (ReLU) and pre-norm (GELU) outputs match torch's", points=2)
def inside_encoder_layer(run):
    B, T, d, d_ff = 2, 6, 8, 32
    x = _x(30, B, T, d)
    cases, wants = [], []
    for seed, (act, norm_first) in enumerate([("relu", False), ("gelu", True)]):
        g = torch.Generator().manual_seed(31 + seed)   # a generator of its own: the judge grades exercises in threads that share torch's global RNG
        layer = torch.nn.TransformerEncoderLayer(d, 2, dim_feedforward=d_ff, dropout=0.0, activation=act,
                                                 batch_first=True, norm_first=norm_first).eval()
        with torch.no_grad():
            for n, p in layer.named_parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.5 + (1.0 if n.startswith("norm") and n.endswith("weight")
                                                                   else 0.0))
            want = layer(x)
            if norm_first:       # out = h + FFN(norm2(h)), h = x + SA(norm1(x))
                y = layer.norm1(x)
                h = x + layer.self_attn(y, y, y, need_weights=False)[0]
                ffn_in = layer.norm2(h)
            else:                # out = norm2(h + FFN(h)), h = norm1(x + SA(x))
                h = layer.norm1(x + layer.self_attn(x, x, x, need_weights=False)[0])
                ffn_in = h
        params = {n: p.detach().clone() for n, p in layer.named_parameters() if n.startswith(("linear1", "linear2"))}
        cases.append(dict(d_model=d, d_ff=d_ff, x=ffn_in, params=params, activation=act,
                          label=f"{'pre' if norm_first else 'post'}-norm layer, activation={act}"))
        wants.append((layer, h, want, norm_first))
    for (layer, h, want, norm_first), c, got in zip(wants, cases, run_cases(run, cases)):
        ff = expect_tensor(got["out"], f"the FFN output is [B, T, d_model] ({c['label']})", shape=(B, T, d))
        with torch.no_grad():
            out = h + ff if norm_first else layer.norm2(h + ff)
        expect_close(out, want, "with your FFN in place of torch's, the encoder layer's output is unchanged",
                     what=f"encoder layer output ({c['label']})")


@check("works on any number of leading dims: [d], [T, d], [B1, B2, T, d]")
def any_leading_dims(run):
    layer, params = V.torch_layer(6, 10, "gelu", seed=40)
    shapes = [(6,), (5, 6), (2, 3, 4, 6)]
    cases = [dict(d_model=6, d_ff=10, x=_x(41 + i, *s), params=params, activation="gelu", label=f"x of shape {list(s)}")
             for i, s in enumerate(shapes)]
    for c, got in zip(cases, run_cases(run, cases)):
        with torch.no_grad():
            want = layer._ff_block(c["x"])
        expect_close(got["out"], want, "the FFN acts on the last dim only: x is [..., d_model] with any leading "
                     "dims (do not unpack B, T, C = x.shape)", what=f"output ({c['label']})")


@check("bias=False: only linear1.weight and linear2.weight, and the output matches torch's layer(bias=False)")
def no_bias(run):
    layer, params = V.torch_layer(8, 16, "relu", bias=False, seed=50)
    x = _x(51, 3, 4, 8, scale=2.0)
    [got] = run_cases(run, [dict(d_model=8, d_ff=16, x=x, params=params, bias=False, label="bias=False")])
    with torch.no_grad():
        want = layer._ff_block(x)
    expect_close(got["out"], want, "with bias=False both linears are purely linear maps", what="output (bias=False)")


@check("activation may be any callable (e.g. F.silu); an unknown string raises ValueError")
def callable_activation(run):
    _, params = V.torch_layer(6, 12, "relu", seed=60)
    x = _x(61, 2, 5, 6)
    cases = [dict(d_model=6, d_ff=12, x=x, params=params, activation=f"callable:{name}", label=f"activation={name}")
             for name in ("silu", "tanh")]
    for (name, fn), c, got in zip([("silu", F.silu), ("tanh", torch.tanh)], cases, run_cases(run, cases)):
        want = F.linear(fn(F.linear(x, params["linear1.weight"], params["linear1.bias"])),
                        params["linear2.weight"], params["linear2.bias"])
        expect_close(got["out"], want, "a callable activation is applied as it is, between linear1 and linear2",
                     what=f"output ({c['label']})")
    got = run(construct_error, "swish")
    expect_equal(got["raised"], "ValueError", "activation must be 'relu', 'gelu' or a callable: anything else "
                 "raises ValueError", what="exception for activation='swish'")


@check("'gelu' is the exact erf GELU, not the tanh approximation (differences up to 5e-4 are caught)")
def gelu_is_exact(run):
    d, d_ff = 4, 4
    params = {"linear1.weight": torch.eye(4, dtype=torch.float64), "linear1.bias": torch.zeros(4, dtype=torch.float64),
              "linear2.weight": torch.eye(4, dtype=torch.float64), "linear2.bias": torch.zeros(4, dtype=torch.float64)}
    z = torch.linspace(-4, 4, 64, dtype=torch.float64).reshape(16, 4)      # the hidden pre-activations
    [got] = run_cases(run, [dict(d_model=d, d_ff=d_ff, x=z, params=params, activation="gelu", label="identity linears")])
    want = z * 0.5 * (1 + torch.erf(z / math.sqrt(2)))
    expect_close(got["out"], want, "gelu(z) = z * 0.5 * (1 + erf(z / sqrt(2))) -- F.gelu's default, not "
                 "approximate='tanh'", rtol=1e-9, atol=1e-9, what="gelu(z) through identity linears (float64)")


@check("dropout is off in eval mode: FeedForward(dropout=0.5).eval() is deterministic and equals torch's block")
def dropout_eval(run):
    layer, params = V.torch_layer(8, 32, "relu", seed=70)
    x = _x(71, 2, 6, 8)
    [got] = run_cases(run, [dict(d_model=8, d_ff=32, x=x, params=params, dropout=0.5, train=False,
                                 label="dropout=0.5, eval mode")])
    with torch.no_grad():
        want = layer._ff_block(x)
    expect_close(got["out"], want, "dropout acts only in training mode (nn.Dropout, or F.dropout with "
                 "training=self.training: F.dropout's default is training=True)", what="output in eval mode")


IDENTITY16 = {"linear1.weight": torch.eye(16), "linear1.bias": torch.zeros(16),
              "linear2.weight": torch.eye(16), "linear2.bias": torch.zeros(16)}


@check("training mode: dropout zeroes a fraction p of the hidden units and scales the rest by 1/(1-p)", points=2)
def dropout_train(run):
    p = 0.25
    x = _x(80, 8, 64, 16).abs() + 0.5                     # positive, so relu keeps every hidden unit
    [got] = run_cases(run, [dict(d_model=16, d_ff=16, x=x, params=IDENTITY16, dropout=p, train=True, seed=81,
                                 label="identity linears, dropout=0.25, training")])
    out = expect_tensor(got["out"], "the output is [..., d_model]", shape=x.shape)
    zero = out == 0
    expect_rate(int(zero.sum()), zero.numel(), p, "in training mode each hidden unit is dropped with probability p "
                "(with identity linears, each output is one hidden unit)", what="fraction of dropped units")
    expect_close(out[~zero], x[~zero] / (1 - p), "kept hidden units are scaled by 1 / (1 - p) (inverted dropout)",
                 what="kept outputs")


@check("FeedForward(d_model, d_ff)'s defaults: ReLU, biases, no dropout (training mode changes nothing)")
def defaults(run):
    layer, params = V.torch_layer(6, 20, "relu", seed=95)
    x = _x(96, 3, 5, 6)
    [got] = run_cases(run, [dict(d_model=6, d_ff=20, x=x, params=params, train=True, label="defaults, training")])
    with torch.no_grad():
        want = layer._ff_block(x)
    expect_close(got["out"], want, "by default: activation relu, bias True, dropout 0 -- so training mode computes "
                 "linear2(relu(linear1(x))) exactly", what="output of FeedForward(6, 20) in training mode")


@check("dropout sits on the d_ff hidden units (before linear2), not on the output")
def dropout_on_hidden(run):
    layer, params = V.torch_layer(4, 64, "relu", seed=90)
    x = _x(91, 8, 32, 4)
    got, in_eval = run_cases(run, [dict(d_model=4, d_ff=64, x=x, params=params, dropout=0.25, train=train, seed=92,
                                        label=f"dropout=0.25, {'training' if train else 'eval'}")
                                   for train in (True, False)])
    with torch.no_grad():
        want = layer._ff_block(x)
    expect_close(in_eval["out"], want, "in eval mode dropout is off: out = linear2(relu(linear1(x)))",
                 what="output in eval mode")
    out = expect_tensor(got["out"], "the output is [..., d_model]", shape=x.shape)
    changed = int((out != want).sum())
    expect(changed > out.numel() // 2, "in training mode dropout zeroes hidden units, so outputs change",
           f"only {changed} of {out.numel()} outputs differ from the eval-mode output")
    zeros = int((out == 0).sum())
    expect(zeros <= out.numel() // 100, "dropout goes between the activation and linear2; an output is a sum over 64 "
           "hidden units, so it is (almost) never exactly 0 -- dropping outputs is the encoder layer's dropout2, "
           "not the FFN's", f"{zeros} of {out.numel()} outputs are exactly 0")


@check("position-wise: permuting positions permutes the outputs; each position's output depends on it alone")
def position_wise(run):
    _, params = V.torch_layer(8, 24, "gelu", seed=100)
    x = _x(101, 2, 6, 8)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    xs = [x, x[:, perm], x[:, 2:3], x[1:]]
    [got] = run_cases(run, [dict(d_model=8, d_ff=24, x=xs, params=params, activation="gelu", label="position-wise")])
    outs = got["out"]
    expect(isinstance(outs, (list, tuple)) and len(outs) == 4, "forward returns one tensor per input",
           f"got {type(outs).__name__}")
    base = expect_tensor(outs[0], "the output is [B, T, d_model]", shape=(2, 6, 8))
    layer, _ = V.torch_layer(8, 24, "gelu", seed=100)
    with torch.no_grad():
        expect_close(base, layer._ff_block(x), RULE_BLOCK, what="output (gelu)")
    rule = "the same MLP is applied to every position separately: nothing mixes positions or batch elements"
    expect_close(outs[1], base[:, perm], rule, what="output for permuted positions (vs the permuted output)")
    expect_close(outs[2], base[:, 2:3], rule, what="output for position 2 alone")
    expect_close(outs[3], base[1:], rule, what="output for batch element 1 alone")


@check("gradients of x and every parameter agree with torch's block (float64)", points=2)
def gradients(run):
    for seed, (act, bias) in enumerate([("gelu", True), ("relu", False)]):
        layer, params = V.torch_layer(6, 12, act, bias=bias, seed=110 + seed, dtype=torch.float64)
        x = _x(120 + seed, 2, 3, 6, dtype=torch.float64)
        go = _x(130 + seed, 2, 3, 6, dtype=torch.float64)
        label = f"activation={act}, bias={bias}"
        [got] = run_cases(run, [dict(d_model=6, d_ff=12, x=x, params=params, activation=act, bias=bias, grad_out=go,
                                     label=label)])
        leaf = x.clone().requires_grad_(True)
        (layer._ff_block(leaf) * go).sum().backward()
        want = {n: p.grad for n, p in layer.named_parameters() if n in params}
        expect_close(got["out"], layer._ff_block(x).detach(), "float64 in, float64 out", rtol=1e-10, atol=1e-12,
                     check_dtype=True, what=f"output ({label})")
        expect_close(got["grads"], want, "backpropagation through your FFN gives torch's parameter gradients",
                     rtol=1e-8, atol=1e-10, what=f"parameter gradients ({label})")
        expect_close(got["x_grad"], leaf.grad, "backpropagation gives torch's input gradient", rtol=1e-8, atol=1e-10,
                     what=f"d loss / d x ({label})")
