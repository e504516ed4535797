"""Visible checks: attention on tiny fixed cases you can work out by hand, and the module's
parameters and output against torch.nn.MultiheadAttention."""
import math

import torch

from mlkata.checks import check, expect_close, expect_equal, probe


def _pair(result, name):
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise TypeError(f"{name} must return a pair (output, weights), not {type(result).__name__}")
    return result


@probe
def attend(sub, q, k, v, mask=None, is_causal=False, grad_out=None, grad_weights=None):
    """Call scaled_dot_product_attention; with upstream gradients, also report d(loss)/d(q, k, v)
    for loss = sum(output * grad_out) + sum(weights * grad_weights)."""
    if grad_out is not None:
        q, k, v = (t.detach().clone().requires_grad_(True) for t in (q, k, v))
    out, weights = _pair(sub.scaled_dot_product_attention(q, k, v, mask=mask, is_causal=is_causal),
                         "scaled_dot_product_attention")
    report = {"out": out, "weights": weights}
    if grad_out is not None:
        loss = (out * grad_out).sum()
        if grad_weights is not None:
            loss = loss + (weights * grad_weights).sum()
        loss.backward()
        report["grads"] = [q.grad, k.grad, v.grad]
    return report


@probe
def attend_error(sub, q, k, v, mask=None, is_causal=False):
    """Call scaled_dot_product_attention and report the exception it raises, if any."""
    try:
        sub.scaled_dot_product_attention(q, k, v, mask=mask, is_causal=is_causal)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - the check decides which exception is right
        return {"raised": type(e).__name__, "message": str(e)[:200]}
    return {"raised": None}


@probe
def mha(sub, embed_dim, num_heads, params, query, key, value, bias=None, grad_out=None, **forward_kwargs):
    """Build the learner's MultiHeadAttention, copy ``params`` into it by name, run forward
    (and backward with loss = sum(output * grad_out) when ``grad_out`` is given).  ``bias=None``
    leaves it at its default (True)."""
    torch.manual_seed(0)
    module = (sub.MultiHeadAttention(embed_dim, num_heads) if bias is None
              else sub.MultiHeadAttention(embed_dim, num_heads, bias=bias))
    named = dict(module.named_parameters())
    in_bias = getattr(module, "in_proj_bias", "missing")
    out_proj = getattr(module, "out_proj", None)
    report = {
        "shapes": {n: tuple(p.shape) for n, p in named.items()},
        "in_proj_bias": "missing" if isinstance(in_bias, str) else "None" if in_bias is None else "tensor",
        "out_proj": type(out_proj).__name__,
        "out_proj_bias": "None" if getattr(out_proj, "bias", "missing") is None else "present",
    }
    if set(named) != set(params) or any(tuple(named[n].shape) != tuple(t.shape) for n, t in params.items()):
        return report      # the check reports the parameter mismatch
    with torch.no_grad():
        for n, t in params.items():
            named[n].copy_(t)
    if grad_out is not None:
        query, key, value = (t.detach().clone().requires_grad_(True) for t in (query, key, value))
    out, weights = _pair(module(query, key, value, **forward_kwargs), "MultiHeadAttention.forward")
    report["out"], report["weights"] = out, weights
    if grad_out is not None:
        (out * grad_out).sum().backward()
        report["grads"] = {n: p.grad for n, p in named.items()}
        report["input_grads"] = [query.grad, key.grad, value.grad]
    return report


def torch_mha(embed_dim, num_heads, bias=True, seed=0):
    """torch's module with fixed random parameters (nonzero biases); returns (module, params)."""
    g = torch.Generator().manual_seed(seed)   # a generator of its own: the judge grades exercises in threads that share torch's global RNG
    ref = torch.nn.MultiheadAttention(embed_dim, num_heads, bias=bias, batch_first=True)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return ref, {n: p.detach().clone() for n, p in ref.named_parameters()}


# Two keys, one query.  q . k0 = 2, q . k1 = 0, d = 2, so the logits are [2/sqrt(2), 0].
Q = torch.tensor([[1.0, 1.0]])
K = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
V = torch.tensor([[10.0], [20.0]])


@check("weights = softmax(q k^T / sqrt(d)) over the keys, output = weights @ v")
def tiny_by_hand(run):
    got = run(attend, Q, K, V)
    w0 = 1 / (1 + math.exp(-2 / math.sqrt(2)))          # softmax([sqrt(2), 0])[0]
    expect_close(got["weights"], torch.tensor([[w0, 1 - w0]]),
                 "weights are softmax over the keys of q k^T / sqrt(d), d = width of q and k", what="weights")
    expect_close(got["out"], torch.tensor([[10 * w0 + 20 * (1 - w0)]]),
                 "the output is the weights times the values", what="output")


@check("a boolean mask keeps the keys marked True; a blocked key gets weight exactly 0")
def mask_true_means_attend(run):
    got = run(attend, Q, K, V, mask=torch.tensor([[False, True]]))
    expect_close(got["weights"], torch.tensor([[0.0, 1.0]]),
                 "mask True means 'may attend': key 0 is blocked, so key 1 gets all the weight", what="weights")
    expect_close(got["out"], torch.tensor([[20.0]]), "only the allowed key's value reaches the output", what="output")


@check("is_causal: query i sees keys 0..i, aligned top-left (here L=2 queries, S=3 keys)")
def causal_top_left(run):
    q, k = torch.zeros(2, 4), torch.zeros(3, 4)          # equal logits: uniform weights over the allowed keys
    v = torch.tensor([[1.0], [2.0], [3.0]])
    got = run(attend, q, k, v, is_causal=True)
    expect_close(got["weights"], torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]]),
                 "is_causal allows key j for query i when j <= i, counting from the top-left corner", what="weights")


@check("a query with no allowed key gets zeros in output and weights, not NaN")
def fully_masked_row_is_zero(run):
    mask = torch.tensor([[True, True], [False, False]])
    got = run(attend, torch.ones(2, 2), K, V, mask=mask)
    w0 = torch.softmax(torch.ones(2) @ K.T / 2 ** 0.5, dim=-1)        # row 0 may see both keys
    expect_close(got["weights"][0], w0, "a row with allowed keys is softmax(q k^T / sqrt(d)) over them",
                 what="weights[0]")
    expect_close(got["out"][0], w0 @ V, "output = weights @ v", what="output[0]")
    expect_close(got["weights"][1], torch.zeros(2),
                 "a row with no allowed key has all-zero weights: not NaN (softmax of only -inf), "
                 "nor spread evenly (a finite stand-in such as -1e9)", what="weights[1]")
    expect_close(got["out"][1], torch.zeros(1), "a row with no allowed key has a zero output", what="output[1]")


@check("MultiHeadAttention has torch's parameters and, holding the same values, gives torch's output")
def mha_matches_torch(run):
    ref, params = torch_mha(4, 2)
    x = torch.randn(1, 3, 4, generator=torch.Generator().manual_seed(1))
    got = run(mha, 4, 2, params, x, x, x)
    expect_equal(got["shapes"], {n: tuple(t.shape) for n, t in params.items()},
                 "parameters named and shaped as torch.nn.MultiheadAttention's", what="named_parameters shapes")
    want_out, want_w = ref(x, x, x)
    expect_close(got["out"], want_out, "output of torch.nn.MultiheadAttention(4, 2, batch_first=True)",
                 what="output")
    expect_close(got["weights"], want_w, "weights averaged over the heads, [B, L, S]", what="weights")
