"""Hidden graders of transformer/decoder_layer: causal_mask for every size; agreement with
torch.nn.TransformerDecoderLayer (same parameters, eval mode) on random sizes (T != S, T = 1),
activations and eps, with every mask form; properties (causality, source padding invariance);
dropout only in training mode; gradients to the parameters, tgt and memory; float64; large
inputs.  Outputs at target padding positions are never compared."""
import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, expect_rate, expect_tensor, probe, visible_module

V = visible_module("transformer/decoder_layer")


@probe
def decode_each(sub, cases):
    """One call beside the learner's code for a list of (args, kwargs) cases of V.decode."""
    return [V.decode.fn(sub, *args, **kwargs) for args, kwargs in cases]


def run_cases(run, cases):
    """Each case: dict(ref=(layer, params, cfg), tgt, memory, label, kwargs={forward}, cfg={}, probe={}).
    Returns the learner's reports, after checking the parameters of each."""
    calls = [((c["ref"][2] | c.get("cfg", {}), c["ref"][1], c["tgt"], c["memory"]),
              c.get("probe", {}) | c.get("kwargs", {})) for c in cases]
    gots = run(decode_each, calls)
    for got, c in zip(gots, cases):
        V.expect_params(got, c["ref"][1], c["label"])
    return gots


def expect_agree(gots, cases, rule, tol=1e-4):
    for got, c in zip(gots, cases):
        ref, kwargs = c["ref"][0], c.get("kwargs", {})
        want = ref(c["tgt"], c["memory"], **kwargs)
        expect_tensor(got["out"], f"the output is [B, T, E], shaped like tgt ({c['label']})", shape=want.shape)
        kpm = kwargs.get("tgt_key_padding_mask")
        expect_close(V.valid(got["out"], kpm), V.valid(want, kpm), rule, rtol=tol, atol=tol / 10,
                     what=f"output{'' if kpm is None else ' at non-padding positions'} ({c['label']})")


@check("causal_mask(n) for n = 1..7: bool, [n, n], True exactly where j > i")
def causal_mask_sizes(run):
    sizes = list(range(1, 8))
    for n, got in zip(sizes, run(V.masks, sizes)):
        expect_tensor(got, f"causal_mask({n}) is a [{n}, {n}] tensor", shape=(n, n))
        expect_equal(str(got.dtype), "torch.bool", "causal_mask returns a bool tensor", what=f"dtype of causal_mask({n})")
        expect_equal(got, V.torch_causal(n), "True = blocked strictly above the diagonal (key after the query); "
                     "the diagonal is allowed: a position sees itself", what=f"causal_mask({n})")


@check("agrees with torch.nn.TransformerDecoderLayer (random sizes, T != S, T = 1, relu/gelu, eps)", points=2)
def agrees_random(run):
    cases = []
    for seed in range(100, 107):
        g = torch.Generator().manual_seed(seed)
        H = int(torch.randint(1, 4, (1,), generator=g))
        E = H * int(torch.randint(2, 5, (1,), generator=g))
        B = int(torch.randint(1, 4, (1,), generator=g))
        T = 1 if seed == 100 else int(torch.randint(1, 7, (1,), generator=g))
        S = int(torch.randint(1, 8, (1,), generator=g))
        ff = int(torch.randint(4, 24, (1,), generator=g))
        act, eps = ("gelu" if seed % 2 else "relu"), [1e-5, 1e-3, 0.5][seed % 3]
        tgt, memory = V.inputs(seed, B, T, S, E)
        cases.append(dict(ref=V.torch_decoder(E, H, ff, act, eps, seed), tgt=tgt * 1.5, memory=memory * 1.5,
                          kwargs=dict(tgt_mask=V.torch_causal(T)),
                          label=f"B={B}, T={T}, S={S}, d_model={E}, nhead={H}, dim_feedforward={ff}, "
                                f"activation={act}, layer_norm_eps={eps}, causal tgt_mask"))
    expect_agree(run_cases(run, cases), cases,
                 "x = norm1(x + self_attn(x, x, x)); x = norm2(x + multihead_attn(x, memory, memory)); "
                 "x = norm3(x + linear2(activation(linear1(x)))) -- queries of the cross-attention come from x, "
                 "keys and values from memory")


@check("every mask: tgt_mask [B*H, T, T], memory_mask [T, S] and [B*H, T, S], both key padding masks", points=2)
def every_mask(run):
    B, T, S, E, H = 2, 4, 5, 8, 2
    g = torch.Generator().manual_seed(301)
    tgt_per_head = (torch.rand(B * H, T, T, generator=g) < 0.5) | V.torch_causal(T)
    tgt_per_head[..., 0] = False                            # every query keeps key 0
    mem_mask = torch.rand(T, S, generator=g) < 0.5
    mem_mask[:, 0] = False                                 # (never padding below)
    mem_per_head = torch.rand(B * H, T, S, generator=g) < 0.5
    mem_per_head[..., 2] = False
    tkpm = torch.tensor([[False, False, False, True], [False, False, False, False]])
    mkpm = torch.tensor([[False, True, False, False, True], [False, False, False, True, True]])
    cases = []
    for i, (label, kwargs) in enumerate([
            ("tgt_mask [B*H, T, T]", dict(tgt_mask=tgt_per_head)),
            ("memory_mask [T, S]", dict(tgt_mask=V.torch_causal(T), memory_mask=mem_mask)),
            ("memory_mask [B*H, T, S]", dict(memory_mask=mem_per_head)),
            ("tgt_key_padding_mask", dict(tgt_mask=V.torch_causal(T), tgt_key_padding_mask=tkpm)),
            ("all four masks", dict(tgt_mask=V.torch_causal(T), memory_mask=mem_mask, tgt_key_padding_mask=tkpm,
                                    memory_key_padding_mask=mkpm))]):
        tgt, memory = V.inputs(300 + i, B, T, S, E)
        cases.append(dict(ref=V.torch_decoder(E, H, 12, seed=300 + i), tgt=tgt, memory=memory, label=label,
                          kwargs=kwargs))
    expect_agree(run_cases(run, cases), cases,
                 "tgt_mask and tgt_key_padding_mask belong to the self-attention, memory_mask and "
                 "memory_key_padding_mask to the cross-attention; True = NOT allowed; [B*H, ...] is indexed b * H + h")


@check("causality: changing target position p changes no output before p (and does change outputs from p on)")
def causality(run):
    B, T, S, E, H = 2, 6, 4, 8, 2
    ref = V.torch_decoder(E, H, 12, seed=400)
    tgt, memory = V.inputs(400, B, T, S, E)
    changed = {}
    for p in (2, 4):
        t2 = tgt.clone()
        t2[:, p] = torch.randn(B, E, generator=torch.Generator().manual_seed(401 + p)) * 3
        changed[p] = t2
    cases = [dict(ref=ref, tgt=t, memory=memory, label=label, kwargs=dict(tgt_mask=V.torch_causal(T)))
             for label, t in [("original", tgt), ("position 2 changed", changed[2]), ("position 4 changed", changed[4])]]
    base, *others = run_cases(run, cases)
    expect_agree([base], cases[:1], "the layer agrees with torch.nn.TransformerDecoderLayer under the causal tgt_mask")
    for p, got in zip((2, 4), others):
        expect_close(got["out"][:, :p], base["out"][:, :p],
                     "with the causal tgt_mask, an output may depend only on target positions up to its own: "
                     "apply tgt_mask in the self-attention", what=f"outputs before position {p} after changing position {p}")
        diff = (got["out"][:, p] - base["out"][:, p]).abs().max().item()
        expect(diff > 1e-3, "the output at position p depends on the target token at p (the self-attention and "
                            "residual read tgt)", f"changing target position {p} left its own output unchanged")


@check("changing the content of padding source positions does not change any output")
def memory_padding_invariance(run):
    B, T, S, E, H = 2, 3, 6, 8, 2
    ref = V.torch_decoder(E, H, 12, seed=500)
    tgt, memory = V.inputs(500, B, T, S, E)
    mkpm = torch.zeros(B, S, dtype=torch.bool)
    mkpm[0, 3:] = True
    mkpm[1, 1:] = True
    m2 = memory.clone()
    m2[mkpm] = V.inputs(501, B, T, S, E)[1][mkpm] * 10
    kwargs = dict(tgt_mask=V.torch_causal(T), memory_key_padding_mask=mkpm)
    cases = [dict(ref=ref, tgt=tgt, memory=m, label=label, kwargs=kwargs)
             for label, m in (("original", memory), ("padding replaced", m2))]
    a, b = run_cases(run, cases)
    expect_agree([a], cases[:1], "memory_key_padding_mask (True = pad) masks source positions in the cross-attention")
    expect_close(b["out"], a["out"], "padding source positions (memory_key_padding_mask True) are invisible to the "
                 "cross-attention: what they hold cannot change any output", what="outputs after replacing the "
                 "padding content of memory")


@check("dropout acts only in training mode: eval is deterministic and equals dropout=0; train is random")
def dropout_modes(run):
    ref = V.torch_decoder(8, 2, 16, seed=600)
    tgt, memory = V.inputs(600, 2, 4, 5, 8)
    kw = dict(tgt_mask=V.torch_causal(4))
    got_eval, got_train, got_zero = run_cases(run, [
        dict(ref=ref, tgt=tgt, memory=memory, kwargs=kw, cfg=dict(dropout=0.5), label="dropout=0.5, eval mode",
             probe=dict(calls=2)),
        dict(ref=ref, tgt=tgt, memory=memory, kwargs=kw, cfg=dict(dropout=0.5), label="dropout=0.5, training mode",
             probe=dict(calls=2, train=True)),
        dict(ref=ref, tgt=tgt, memory=memory, kwargs=kw, label="dropout=0.0, eval mode")])
    expect_close(got_eval["outs"], [got_zero["out"]] * 2,
                 "in eval mode (layer.eval()) dropout is off, so dropout=0.5 gives the dropout=0 output: "
                 "use nn.Dropout, or F.dropout(..., training=self.training)",
                 what="two eval-mode outputs with dropout=0.5 (expected: your dropout=0 output)")
    a, b = got_train["outs"]
    expect(isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and not torch.allclose(a, b),
           "in training mode with dropout=0.5 the layer applies dropout (two calls give different outputs)",
           "two training-mode calls gave the same output: dropout is not applied")


@check("gradients of every parameter, of tgt and of memory agree with torch's layer", points=2)
def gradients(run):
    B, T, S, E, H = 2, 4, 5, 8, 2
    tkpm = torch.tensor([[False, False, False, True], [False] * 4])
    mkpm = torch.tensor([[False, False, True, True, False], [False] * 5])
    kw = dict(tgt_mask=V.torch_causal(T), tgt_key_padding_mask=tkpm, memory_key_padding_mask=mkpm)
    go = torch.randn(B, T, E, generator=torch.Generator().manual_seed(701))
    go[tkpm] = 0                          # padding outputs take no part in the loss
    tgt, memory = V.inputs(700, B, T, S, E)
    ref = V.torch_decoder(E, H, 12, activation="gelu", seed=700)
    [got] = run_cases(run, [dict(ref=ref, tgt=tgt, memory=memory, kwargs=kw, label="with all masks",
                                 probe=dict(grad_out=go))])
    layer = ref[0]
    layer.zero_grad()
    t, m = tgt.clone().requires_grad_(True), memory.clone().requires_grad_(True)
    (layer(t, m, **kw) * go).sum().backward()
    expect_close(got["grads"], {n: p.grad for n, p in layer.named_parameters()},
                 "backpropagation through your layer gives torch's parameter gradients", what="parameter gradients")
    expect_close(got["tgt_grad"], t.grad, "backpropagation gives torch's gradient for tgt", what="d loss / d tgt")
    expect_close(got["memory_grad"], m.grad, "backpropagation gives torch's gradient for memory (through the "
                 "cross-attention's keys and values)", what="d loss / d memory")


@check("keeps float64, and modifies neither tgt nor memory in place")
def float64_and_inputs_untouched(run):
    layer, params, cfg = V.torch_decoder(8, 2, 12, seed=800)
    layer = layer.double()
    tgt, memory = (t.double() for t in V.inputs(800, 2, 3, 4, 8))
    kw = dict(tgt_mask=V.torch_causal(3))
    [got] = run_cases(run, [dict(ref=(layer, params, cfg), tgt=tgt, memory=memory, kwargs=kw, label="float64",
                                 probe=dict(dtype=torch.float64))])
    expect_close(got["out"], layer(tgt, memory, **kw), "a float64 layer on float64 inputs returns float64 and "
                 "agrees with torch's float64 layer", rtol=1e-10, atol=1e-12, check_dtype=True, what="output (float64)")
    expect_close([got["tgt_after"], got["memory_after"]], [tgt, memory],
                 "tgt and memory are inputs: do not modify them in place (x = x + ..., not x += ...)",
                 rtol=0, atol=0, what="[tgt, memory] after the call")


@check("large inputs (x * 100, and 10000 + noise) give finite outputs that agree with torch")
def large_inputs(run):
    ref = V.torch_decoder(8, 2, 12, seed=900)
    tgt, memory = V.inputs(900, 2, 4, 5, 8)
    kw = dict(tgt_mask=V.torch_causal(4))
    cases = [dict(ref=ref, tgt=tgt * 100, memory=memory * 100, kwargs=kw, label="inputs * 100"),
             dict(ref=ref, tgt=10000 + tgt, memory=10000 + memory, kwargs=kw, label="10000 + inputs")]
    gots = run_cases(run, cases)
    for got, c in zip(gots, cases):
        out = got["out"]
        if not (isinstance(out, torch.Tensor) and bool(out.isfinite().all())):
            raise Fail("large inputs must give finite outputs: subtract the row maximum in the softmax, and compute "
                       "the layer norm's variance as mean((x - mean)^2), never negative",
                       f"output ({c['label']}) has non-finite entries")
    expect_agree(gots, cases, "agree with torch for large inputs too -- if only these cases differ: compute the "
                              "variance as mean((x - mean)^2), and subtract the row maximum in the softmax", tol=1e-3)


@check("DecoderLayer(d_model, nhead) has torch's defaults: dim_feedforward 2048, layer_norm_eps 1e-5, ReLU")
def constructor_defaults(run):
    g = torch.Generator().manual_seed(700)   # a generator of its own: the judge grades exercises in threads that share torch's global RNG
    ref = torch.nn.TransformerDecoderLayer(8, 2, batch_first=True)            # torch's defaults throughout
    with torch.no_grad():
        for n, p in ref.named_parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5 + (1.0 if n.startswith("norm") and n.endswith("weight") else 0.0))
            if "bias" in n and not n.startswith("norm"):
                p.zero_()
    ref.eval()
    params = {n: p.detach().clone() for n, p in ref.named_parameters()}
    tgt, memory = V.inputs(700, 2, 4, 5, 8)
    tgt = tgt * 1e-3                          # tiny input, no biases: norm1 sees variance ~1e-6, eps shows
    got = run(V.decode, {"d_model": 8, "nhead": 2}, params, tgt, memory)
    V.expect_params(got, params, "DecoderLayer(8, 2) with the defaults")
    with torch.no_grad():
        want = ref(tgt, memory)
    expect_close(got["out"], want, "the defaults are torch.nn.TransformerDecoderLayer's: dim_feedforward=2048, "
                 "activation relu, layer_norm_eps=1e-5", rtol=1e-4, atol=1e-5,
                 what="output of DecoderLayer(8, 2) in eval mode")


@check("DecoderLayer's dropout defaults to 0.1: in training mode a tenth of the self-attention output is dropped")
def dropout_default(run):
    ref = torch.nn.TransformerDecoderLayer(16, 2, batch_first=True)
    params = {}
    for n, p in ref.named_parameters():        # as in the encoder's grader: only the first dropout shows
        t = torch.randn(p.shape, generator=torch.Generator().manual_seed(len(n))) * 0.5
        if n.endswith("out_proj.weight") or n.startswith("linear2."):
            t = torch.zeros(p.shape)
        elif n.endswith("out_proj.bias"):
            t = torch.ones(p.shape) if n.startswith("self_attn") else torch.zeros(p.shape)
        elif n.startswith("norm"):
            t = torch.ones(p.shape) if n.endswith("weight") else torch.zeros(p.shape)
        params[n] = t
    tgt, memory = torch.zeros(16, 64, 16), torch.randn(16, 5, 16, generator=torch.Generator().manual_seed(701))
    got = run(V.decode, {"d_model": 16, "nhead": 2}, params, tgt, memory, train=True)
    V.expect_params(got, params, "DecoderLayer(16, 2)")
    out = expect_tensor(got["out"], "the output is [B, T, E]", shape=tgt.shape)
    dropped = int((out < out.mean(-1, keepdim=True) - 1e-4).sum())
    expect_rate(dropped, out.numel(), 0.1, "dropout defaults to 0.1 (torch's): each entry of the self-attention "
                "output is dropped with probability 0.1 in training mode", what="share of dropped entries:")
