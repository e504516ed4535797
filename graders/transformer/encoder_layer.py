"""Hidden graders of transformer/encoder_layer: agreement with torch.nn.TransformerEncoderLayer
(same parameters, eval mode) on random sizes, activations, eps, post-LN and pre-LN; every mask
form; properties (padding invariance, permutation equivariance); dropout only in training mode;
gradients; float64; large inputs.  Outputs at padding positions are never compared."""
import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_rate, expect_tensor, probe, visible_module

V = visible_module("transformer/encoder_layer")


@probe
def encode_each(sub, cases):
    """One call beside the learner's code for a list of (args, kwargs) cases of V.encode."""
    return [V.encode.fn(sub, *args, **kwargs) for args, kwargs in cases]


def run_cases(run, cases):
    """Each case: dict(ref=(layer, params, cfg), x, label, kwargs={...forward kwargs}, probe={...}).
    Returns the learner's reports, after checking the parameters of each."""
    calls = [((c["ref"][2] | c.get("cfg", {}), c["ref"][1], c["x"]), c.get("probe", {}) | c.get("kwargs", {}))
             for c in cases]
    gots = run(encode_each, calls)
    for got, c in zip(gots, cases):
        V.expect_params(got, c["ref"][1], c["label"])
    return gots


def expect_agree(gots, cases, rule, tol=1e-4):
    for got, c in zip(gots, cases):
        ref, kwargs = c["ref"][0], c.get("kwargs", {})
        want = ref(c["x"], **kwargs)
        expect_tensor(got["out"], f"the output is [B, L, E] ({c['label']})", shape=want.shape)
        kpm = kwargs.get("src_key_padding_mask")
        expect_close(V.valid(got["out"], kpm), V.valid(want, kpm), rule, rtol=tol, atol=tol / 10,
                     what=f"output{'' if kpm is None else ' at non-padding positions'} ({c['label']})")


def random_cases(seeds, norm_first):
    cases = []
    for seed in seeds:
        g = torch.Generator().manual_seed(seed)
        H = int(torch.randint(1, 4, (1,), generator=g))
        E = H * int(torch.randint(2, 5, (1,), generator=g))
        B, L = int(torch.randint(1, 4, (1,), generator=g)), int(torch.randint(1, 7, (1,), generator=g))
        ff = int(torch.randint(4, 24, (1,), generator=g))
        act = "gelu" if seed % 2 else "relu"
        eps = [1e-5, 1e-3, 0.5][seed % 3]
        ref = V.torch_encoder(E, H, ff, act, eps, norm_first, seed=seed)
        cases.append(dict(ref=ref, x=V.inputs(seed, B, L, E) * 1.5,
                          label=f"B={B}, L={L}, d_model={E}, nhead={H}, dim_feedforward={ff}, "
                                f"activation={act}, layer_norm_eps={eps}, norm_first={norm_first}"))
    return cases


@check("post-LN agrees with torch.nn.TransformerEncoderLayer (random sizes, relu/gelu, layer_norm_eps)", points=2)
def agrees_post_ln(run):
    cases = random_cases(range(100, 106), norm_first=False)
    expect_agree(run_cases(run, cases), cases,
                 "post-LN: x = norm1(x + self_attn(x)); x = norm2(x + linear2(activation(linear1(x)))); "
                 "gelu is the exact (erf) GELU and both norms use layer_norm_eps")


@check("pre-LN (norm_first=True) agrees with torch.nn.TransformerEncoderLayer", points=2)
def agrees_pre_ln(run):
    cases = random_cases(range(200, 206), norm_first=True)
    expect_agree(run_cases(run, cases), cases,
                 "pre-LN: x = x + self_attn(norm1(x)); x = x + FFN(norm2(x)); the residual adds the "
                 "un-normalized x and the output is not normalized again")


@check("src_mask [L, L] and [B*H, L, L] (True = blocked), alone and with src_key_padding_mask", points=2)
def masks(run):
    B, L, E, H = 2, 5, 8, 2
    causal = torch.ones(L, L, dtype=torch.bool).triu(1)
    g = torch.Generator().manual_seed(301)
    per_head = torch.rand(B * H, L, L, generator=g) < 0.5
    per_head[..., 0] = False                                 # every query keeps key 0
    kpm = torch.tensor([[False, False, False, True, True], [False, True, False, False, True]])
    cases = []
    for i, (label, kwargs) in enumerate([
            ("causal src_mask [L, L]", dict(src_mask=causal)),
            ("src_mask [B*H, L, L]", dict(src_mask=per_head)),
            ("causal src_mask with src_key_padding_mask", dict(src_mask=causal, src_key_padding_mask=kpm)),
            ("src_key_padding_mask, pre-LN", dict(src_key_padding_mask=kpm))]):
        ref = V.torch_encoder(E, H, 12, norm_first=i == 3, seed=300 + i)
        cases.append(dict(ref=ref, x=V.inputs(300 + i, B, L, E), label=label, kwargs=kwargs))
    expect_agree(run_cases(run, cases), cases,
                 "masks follow torch's convention: True = NOT allowed; [B*H, L, L] is indexed b * H + h; "
                 "a key blocked by either mask is blocked; padding masks keys, not queries")


@check("changing the content of padding positions does not change any non-padding output")
def padding_invariance(run):
    B, L, E, H = 2, 6, 8, 2
    ref = V.torch_encoder(E, H, 12, seed=400)
    kpm = torch.zeros(B, L, dtype=torch.bool)
    kpm[0, 4:] = True
    kpm[1, 1:] = True
    x = V.inputs(400, B, L, E)
    x2 = x.clone()
    x2[kpm] = V.inputs(401, B, L, E)[kpm] * 10
    cases = [dict(ref=ref, x=xx, label=label, kwargs=dict(src_key_padding_mask=kpm))
             for label, xx in (("original", x), ("padding replaced", x2))]
    gots = run_cases(run, cases)
    expect_agree(gots[:1], cases[:1], "padding positions are masked out as keys (src_key_padding_mask, True = pad)")
    expect_close(V.valid(gots[1]["out"], kpm), V.valid(gots[0]["out"], kpm),
                 "padding positions are invisible: what they hold cannot change the other positions' outputs",
                 what="non-padding outputs after replacing the padding content")


@check("without masks the layer is permutation-equivariant: shuffling positions shuffles the outputs")
def permutation_equivariance(run):
    ref = V.torch_encoder(8, 2, 12, seed=500)
    x = V.inputs(500, 2, 6, 8)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    cases = [dict(ref=ref, x=xx, label=label) for label, xx in (("original", x), ("shuffled", x[:, perm]))]
    gots = run_cases(run, cases)
    expect_agree(gots[:1], cases[:1], "the layer agrees with torch.nn.TransformerEncoderLayer")
    expect_close(gots[1]["out"], gots[0]["out"][:, perm],
                 "attention treats positions as a set and the FFN and norms act on each position alone: "
                 "mix nothing across positions outside attention (normalize over the last dim, E)",
                 what="output of the shuffled input vs shuffled output")


@check("dropout acts only in training mode: eval is deterministic and equals dropout=0; train is random")
def dropout_modes(run):
    ref = V.torch_encoder(8, 2, 16, seed=600)
    x = V.inputs(600, 2, 5, 8)
    got_eval, got_train, got_zero = run_cases(run, [
        dict(ref=ref, x=x, cfg=dict(dropout=0.5), label="dropout=0.5, eval mode", probe=dict(calls=2)),
        dict(ref=ref, x=x, cfg=dict(dropout=0.5), label="dropout=0.5, training mode", probe=dict(calls=2, train=True)),
        dict(ref=ref, x=x, label="dropout=0.0, eval mode")])
    expect_close(got_eval["outs"], [got_zero["out"]] * 2,
                 "in eval mode (layer.eval()) dropout is off, so dropout=0.5 gives the dropout=0 output: "
                 "use nn.Dropout, or F.dropout(..., training=self.training)",
                 what="two eval-mode outputs with dropout=0.5 (expected: your dropout=0 output)")
    a, b = got_train["outs"]
    expect(isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and not torch.allclose(a, b),
           "in training mode with dropout=0.5 the layer applies dropout (two calls give different outputs)",
           "two training-mode calls gave the same output: dropout is not applied")


@check("gradients of every parameter and of src agree with torch's layer (post-LN and pre-LN, with padding)",
       points=2)
def gradients(run):
    B, L, E, H = 2, 5, 8, 2
    kpm = torch.tensor([[False, False, False, False, True], [False] * 5])
    go = torch.randn(B, L, E, generator=torch.Generator().manual_seed(701))
    go[kpm] = 0                          # padding outputs take no part in the loss
    cases = [dict(ref=V.torch_encoder(E, H, 12, activation="gelu", norm_first=nf, seed=700 + nf),
                  x=V.inputs(700 + nf, B, L, E), label=f"norm_first={nf}", kwargs=dict(src_key_padding_mask=kpm),
                  probe=dict(grad_out=go)) for nf in (False, True)]
    for got, c in zip(run_cases(run, cases), cases):
        ref = c["ref"][0]
        ref.zero_grad()
        x = c["x"].clone().requires_grad_(True)
        (ref(x, src_key_padding_mask=kpm) * go).sum().backward()
        want = {n: p.grad for n, p in ref.named_parameters()}
        expect_close(got["grads"], want, "backpropagation through your layer gives torch's parameter gradients",
                     what=f"parameter gradients ({c['label']})")
        expect_close(got["src_grad"], x.grad, "backpropagation gives torch's gradient for src",
                     what=f"d loss / d src ({c['label']})")


@check("keeps float64, and does not modify src in place")
def float64_and_src_untouched(run):
    ref, params, cfg = V.torch_encoder(8, 2, 12, seed=800)
    ref = ref.double()
    x = V.inputs(800, 2, 4, 8).double()
    [got] = run_cases(run, [dict(ref=(ref, params, cfg), x=x, label="float64", probe=dict(dtype=torch.float64))])
    expect_close(got["out"], ref(x), "a float64 layer on float64 input returns float64 and agrees with torch's float64 layer",
                 rtol=1e-10, atol=1e-12, check_dtype=True, what="output (float64)")
    expect_close(got["src_after"], x, "src is an input: do not modify it in place (x = x + ..., not x += ...)",
                 rtol=0, atol=0, what="src after the call")


@check("large inputs (x * 100, and 10000 + noise) give finite outputs that agree with torch")
def large_inputs(run):
    cases = []
    for nf in (False, True):
        ref = V.torch_encoder(8, 2, 12, norm_first=nf, seed=900 + nf)
        x = V.inputs(900, 2, 5, 8)
        cases += [dict(ref=ref, x=x * 100, label=f"x * 100, norm_first={nf}"),
                  dict(ref=ref, x=10000 + x, label=f"10000 + x, norm_first={nf}")]
    gots = run_cases(run, cases)
    for got, c in zip(gots, cases):
        out = got["out"]
        if not (isinstance(out, torch.Tensor) and bool(out.isfinite().all())):
            raise Fail("large inputs must give finite outputs: subtract the row maximum in the softmax, and compute "
                       "the layer norm's variance as mean((x - mean)^2), never negative", f"output ({c['label']}) has non-finite entries")
    expect_agree(gots, cases, "agree with torch for large inputs too -- if only these cases differ: compute the "
                              "variance as mean((x - mean)^2), not mean(x^2) - mean^2 (which cancels catastrophically "
                              "for 10000 + noise), and subtract the row maximum in the softmax", tol=1e-3)


@check("EncoderLayer(d_model, nhead) has torch's defaults: dim_feedforward 2048, layer_norm_eps 1e-5, post-LN, ReLU")
def constructor_defaults(run):
    g = torch.Generator().manual_seed(600)   # a generator of its own: the judge grades exercises in threads that share torch's global RNG
    ref = torch.nn.TransformerEncoderLayer(8, 2, batch_first=True)            # torch's defaults throughout
    with torch.no_grad():
        for n, p in ref.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5 + (1.0 if n.startswith("norm") and n.endswith("weight") else 0.0))
            if "bias" in n and not n.startswith("norm"):
                p.zero_()
    ref.eval()
    params = {n: p.detach().clone() for n, p in ref.named_parameters()}
    x = V.inputs(600, 2, 5, 8) * 1e-3        # tiny input, no biases: norm1 sees variance ~1e-6, eps shows
    got = run(V.encode, {"d_model": 8, "nhead": 2}, params, x)
    V.expect_params(got, params, "EncoderLayer(8, 2) with the defaults")
    with torch.no_grad():
        want = ref(x)
    expect_close(got["out"], want, "the defaults are torch.nn.TransformerEncoderLayer's: dim_feedforward=2048, "
                 "activation relu, layer_norm_eps=1e-5, norm_first=False", rtol=1e-4, atol=1e-5,
                 what="output of EncoderLayer(8, 2) in eval mode")


def dropout_probe_params(layer):
    """Parameters that make the layer's output show its first dropout alone: every attention output
    projection is 0 with bias 1 (self-attention) or 0 (others), the FFN's last linear is 0, the norms
    are plain (weight 1, bias 0).  On a zero input the first sublayer's output is then the constant 1,
    dropout turns each entry into 0 or 1 / (1 - p), and the norms keep which entries were dropped
    (below their row's mean)."""
    params = {}
    for n, p in layer.named_parameters():
        t = torch.randn(p.shape, generator=torch.Generator().manual_seed(len(n))) * 0.5
        if n.endswith("out_proj.weight") or n.startswith("linear2."):
            t = torch.zeros(p.shape)
        elif n.endswith("out_proj.bias"):
            t = torch.ones(p.shape) if n.startswith("self_attn") else torch.zeros(p.shape)
        elif n.startswith("norm"):
            t = torch.ones(p.shape) if n.endswith("weight") else torch.zeros(p.shape)
        params[n] = t
    return params


def dropped_share(out):
    """The share of entries below their row's mean: the dropped ones (see dropout_probe_params)."""
    return int((out < out.mean(-1, keepdim=True) - 1e-4).sum()), out.numel()


@check("EncoderLayer's dropout defaults to 0.1: in training mode a tenth of the self-attention output is dropped")
def dropout_default(run):
    params = dropout_probe_params(torch.nn.TransformerEncoderLayer(16, 2, batch_first=True))
    x = torch.zeros(16, 64, 16)
    got = run(V.encode, {"d_model": 16, "nhead": 2}, params, x, train=True)
    V.expect_params(got, params, "EncoderLayer(16, 2)")
    out = expect_tensor(got["out"], "the output is [B, L, E]", shape=x.shape)
    expect_rate(*dropped_share(out), 0.1, "dropout defaults to 0.1 (torch's): each entry of the self-attention "
                "output is dropped with probability 0.1 in training mode", what="share of dropped entries:")
