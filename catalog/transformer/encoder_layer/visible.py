"""Visible checks: the layer's parameters, and its output against torch.nn.TransformerEncoderLayer
holding the same weights -- post-LN, pre-LN, and with a padding mask."""
import torch

from mlkata.checks import Fail, check, describe, expect_close, probe


@probe
def encode(sub, cfg, params, src, train=False, grad_out=None, calls=1, dtype=None, **forward_kwargs):
    """Build the learner's EncoderLayer(**cfg), copy ``params`` into it by name, run forward
    ``calls`` times (in training mode when ``train``); with ``grad_out``, also backpropagate
    loss = sum(output * grad_out) and report the parameter and input gradients."""
    torch.manual_seed(0)
    layer = sub.EncoderLayer(**cfg)
    named = dict(layer.named_parameters())
    report = {"shapes": {n: tuple(p.shape) for n, p in named.items()}}
    if set(named) != set(params) or any(tuple(named[n].shape) != tuple(t.shape) for n, t in params.items()):
        return report                       # the check reports the parameter mismatch
    if dtype is not None:
        layer = layer.to(dtype)
    with torch.no_grad():
        for n, t in params.items():
            named[n].copy_(t)
    layer.train(train)
    x = src.clone().requires_grad_(grad_out is not None)
    outs = [layer(x, **forward_kwargs)] + [layer(src.clone(), **forward_kwargs) for _ in range(calls - 1)]
    report["out"] = outs[0]
    report["outs"] = outs
    report["src_after"] = x.detach()
    if grad_out is not None:
        (outs[0] * grad_out).sum().backward()
        report["grads"] = {n: p.grad for n, p in layer.named_parameters()}
        report["src_grad"] = x.grad
    return report


def torch_encoder(d_model, nhead, dim_feedforward=16, activation="relu", layer_norm_eps=1e-5,
                  norm_first=False, seed=0):
    """torch's layer (dropout 0, eval) with random parameters, LayerNorm scales and shifts included.
    Returns (layer, params, cfg) where cfg are the constructor arguments of the learner's layer."""
    cfg = dict(d_model=d_model, nhead=nhead, dim_feedforward=dim_feedforward, dropout=0.0,
               activation=activation, layer_norm_eps=layer_norm_eps, norm_first=norm_first)
    g = torch.Generator().manual_seed(seed)   # a generator of its own: the judge grades exercises in threads that share torch's global RNG
    ref = torch.nn.TransformerEncoderLayer(batch_first=True, **cfg)
    with torch.no_grad():
        for n, p in ref.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5 + (1.0 if n.startswith("norm") and n.endswith("weight") else 0.0))
    ref.eval()
    return ref, {n: p.detach().clone() for n, p in ref.named_parameters()}, cfg


def expect_params(got, params, label=""):
    want = {n: tuple(t.shape) for n, t in params.items()}
    if got["shapes"] != want:
        missing = sorted(set(want) - set(got["shapes"]))
        extra = sorted(set(got["shapes"]) - set(want))
        wrong = sorted(n for n in set(want) & set(got["shapes"]) if want[n] != got["shapes"][n])
        problems = "; ".join(f"{what} {names}" for what, names in
                             (("missing", missing), ("unexpected", extra), ("wrong shape", wrong)) if names)
        raise Fail("parameters named and shaped as torch.nn.TransformerEncoderLayer's: self_attn (in_proj_weight, "
                   "in_proj_bias, out_proj), linear1, linear2, norm1, norm2 -- and nothing else",
                   f"{label}: {problems}\n  expected {want}\n  your layer has {got['shapes']}")


def valid(out, kpm):
    """The rows of ``out`` [B, L, E] at non-padding positions, [N, E]."""
    if kpm is None:
        return out
    if not isinstance(out, torch.Tensor) or out.dim() != 3 or tuple(out.shape[:2]) != tuple(kpm.shape):
        raise Fail("the layer returns a tensor [B, L, E] shaped like its input", f"your layer returned {describe(out)}")
    return out[~kpm]


def inputs(seed, B, L, E):
    return torch.randn(B, L, E, generator=torch.Generator().manual_seed(seed))


@check("has torch's parameters: self_attn, linear1, linear2, norm1, norm2 (names and shapes), and computes "
       "with them")
def parameters(run):
    ref, params, cfg = torch_encoder(8, 2, dim_feedforward=12)
    x = inputs(0, 1, 3, 8)
    got = run(encode, cfg, params, x)
    expect_params(got, params, "d_model=8, nhead=2, dim_feedforward=12")
    with torch.no_grad():
        want = ref(x)
    expect_close(got["out"], want, "the layer holding torch's weights gives torch's output",
                 what="output (d_model=8, nhead=2, dim_feedforward=12)")


@check("post-LN (default): norm1(x + self_attn(x)), then norm2(x + FFN(x)), as torch computes it")
def post_ln(run):
    ref, params, cfg = torch_encoder(8, 2)
    x = inputs(1, 2, 4, 8)
    got = run(encode, cfg, params, x)
    expect_params(got, params)
    expect_close(got["out"], ref(x), "post-LN: x = norm1(x + self_attn(x)); x = norm2(x + linear2(relu(linear1(x))))",
                 what="output")


@check("pre-LN (norm_first=True): x + self_attn(norm1(x)), then x + FFN(norm2(x)), as torch computes it")
def pre_ln(run):
    ref, params, cfg = torch_encoder(8, 2, norm_first=True)
    x = inputs(2, 2, 4, 8)
    got = run(encode, cfg, params, x)
    expect_params(got, params)
    expect_close(got["out"], ref(x), "pre-LN: x = x + self_attn(norm1(x)); x = x + FFN(norm2(x)); "
                 "the output itself is not normalized", what="output")


@check("src_key_padding_mask: padding positions (True) are hidden from every query")
def key_padding(run):
    ref, params, cfg = torch_encoder(8, 2)
    x = inputs(3, 2, 5, 8)
    kpm = torch.tensor([[False, False, False, True, True], [False] * 5])
    got = run(encode, cfg, params, x, src_key_padding_mask=kpm)
    expect_params(got, params)
    expect_close(valid(got["out"], kpm), valid(ref(x, src_key_padding_mask=kpm), kpm),
                 "src_key_padding_mask True = padding: no query attends to it (outputs at padding positions "
                 "are not graded)", what="output at non-padding positions")
