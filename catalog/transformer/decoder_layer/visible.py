"""Visible checks: the causal mask, the layer's parameters, and its output against
torch.nn.TransformerDecoderLayer holding the same weights (causal, with source padding)."""
import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, probe


@probe
def masks(sub, sizes):
    """causal_mask(n) for every n in ``sizes``."""
    return [sub.causal_mask(n) for n in sizes]


@probe
def decode(sub, cfg, params, tgt, memory, train=False, grad_out=None, calls=1, dtype=None, **forward_kwargs):
    """Build the learner's DecoderLayer(**cfg), copy ``params`` into it by name, run forward
    ``calls`` times (in training mode when ``train``); with ``grad_out``, also backpropagate
    loss = sum(output * grad_out) and report the parameter, tgt and memory gradients."""
    torch.manual_seed(0)
    layer = sub.DecoderLayer(**cfg)
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
    x = tgt.clone().requires_grad_(grad_out is not None)
    m = memory.clone().requires_grad_(grad_out is not None)
    outs = [layer(x, m, **forward_kwargs)]
    outs += [layer(tgt.clone(), memory.clone(), **forward_kwargs) for _ in range(calls - 1)]
    report.update(out=outs[0], outs=outs, tgt_after=x.detach(), memory_after=m.detach())
    if grad_out is not None:
        (outs[0] * grad_out).sum().backward()
        report["grads"] = {n: p.grad for n, p in layer.named_parameters()}
        report["tgt_grad"], report["memory_grad"] = x.grad, m.grad
    return report


def torch_decoder(d_model, nhead, dim_feedforward=16, activation="relu", layer_norm_eps=1e-5, seed=0):
    """torch's layer (dropout 0, eval) with random parameters, LayerNorm scales and shifts included.
    Returns (layer, params, cfg) where cfg are the constructor arguments of the learner's layer."""
    cfg = dict(d_model=d_model, nhead=nhead, dim_feedforward=dim_feedforward, dropout=0.0,
               activation=activation, layer_norm_eps=layer_norm_eps)
    g = torch.Generator().manual_seed(seed)   # a generator of its own: the judge grades exercises in threads that share torch's global RNG
    ref = torch.nn.TransformerDecoderLayer(batch_first=True, **cfg)
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
        raise Fail("parameters named and shaped as torch.nn.TransformerDecoderLayer's: self_attn, multihead_attn "
                   "(each in_proj_weight, in_proj_bias, out_proj), linear1, linear2, norm1, norm2, norm3 -- and "
                   "nothing else", f"{label}: {problems}\n  expected {want}\n  your layer has {got['shapes']}")


def valid(out, kpm):
    """The rows of ``out`` [B, T, E] at non-padding target positions, [N, E]."""
    if kpm is None:
        return out
    if not isinstance(out, torch.Tensor) or out.dim() != 3 or tuple(out.shape[:2]) != tuple(kpm.shape):
        raise Fail("the layer returns a tensor [B, T, E] shaped like its input", f"your layer returned {describe(out)}")
    return out[~kpm]


def inputs(seed, B, T, S, E):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(B, T, E, generator=g), torch.randn(B, S, E, generator=g)


def torch_causal(n):
    return torch.ones(n, n, dtype=torch.bool).triu(1)


@check("causal_mask(n) is True strictly above the diagonal: position i may not see j > i")
def causal_mask_small(run):
    got = run(masks, [3])[0]
    expect_equal(got, torch.tensor([[False, True, True], [False, False, True], [False, False, False]]),
                 "causal_mask uses torch's convention, True = blocked, for every key after the query "
                 "(each position sees itself)", what="causal_mask(3)")
    expect_equal(str(got.dtype), "torch.bool", "causal_mask returns a bool tensor", what="dtype")


@check("has torch's parameters: self_attn, multihead_attn, linear1, linear2, norm1..3 (names and shapes), and "
       "computes with them")
def parameters(run):
    ref, params, cfg = torch_decoder(8, 2, dim_feedforward=12)
    tgt, memory = inputs(0, 1, 3, 4, 8)
    got = run(decode, cfg, params, tgt, memory)
    expect_params(got, params, "d_model=8, nhead=2, dim_feedforward=12")
    with torch.no_grad():
        want = ref(tgt, memory)
    expect_close(got["out"], want, "the layer holding torch's weights gives torch's output",
                 what="output (d_model=8, nhead=2, dim_feedforward=12, no masks)")


@check("with a causal tgt_mask, agrees with torch: norm1(x + self_attn), norm2(x + cross_attn), norm3(x + FFN)")
def causal_output(run):
    ref, params, cfg = torch_decoder(8, 2)
    tgt, memory = inputs(1, 2, 4, 6, 8)
    got = run(decode, cfg, params, tgt, memory, tgt_mask=torch_causal(4))
    expect_params(got, params)
    expect_close(got["out"], ref(tgt, memory, tgt_mask=torch_causal(4)),
                 "x = norm1(x + self_attn(x, x, x, causal)); x = norm2(x + multihead_attn(x, memory, memory)); "
                 "x = norm3(x + FFN(x))", what="output [B, T, E]")


@check("memory_key_padding_mask hides padding source positions from the cross-attention")
def memory_padding(run):
    ref, params, cfg = torch_decoder(8, 2)
    tgt, memory = inputs(2, 2, 3, 5, 8)
    mkpm = torch.tensor([[False, False, False, True, True], [False] * 5])
    got = run(decode, cfg, params, tgt, memory, tgt_mask=torch_causal(3), memory_key_padding_mask=mkpm)
    expect_params(got, params)
    expect_close(got["out"], ref(tgt, memory, tgt_mask=torch_causal(3), memory_key_padding_mask=mkpm),
                 "memory_key_padding_mask [B, S] (True = padding) masks the cross-attention's keys",
                 what="output")
