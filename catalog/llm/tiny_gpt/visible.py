"""Visible checks: the tokenizer on a word you can spell out, the parameter count of a small
configuration, the model's logits against GPT-2's computation with the same weights, and the
causal property: changing the last token leaves every earlier logit as it was.  ``CORPUS`` is the
small text the graded training run uses (``tokenizer = CharTokenizer(CORPUS)``)."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, probe

CORPUS = """\
the cat sat on the mat and the dog sat on the log.
the cat saw the dog and the dog saw the cat.
a bird sang in the tree and the cat looked up at the bird.
the dog ran to the tree and the bird flew away.
the sun was warm and the day was long.
the cat slept in the sun and the dog slept in the shade.
when the night came the moon rose over the hill.
the bird came back to the tree and sang a soft song.
the cat and the dog and the bird were friends at last.
one day the rain fell on the hill and on the tree and on the mat.
the cat ran in from the rain and the dog ran in after the cat.
the bird sat in the tree and sang in the rain.
then the sun came out and the grass was green and wet.
the dog said to the cat, let us go out and play.
the cat said to the dog, the grass is wet and i am warm.
so the dog went out alone and ran on the green hill.
the bird flew down and sat on the back of the dog.
they went up the hill and down the hill and back to the mat.
at night the cat and the dog and the bird slept by the fire.
and the moon was bright over the hill and the tree.
"""


def config_dict(vocab_size, block_size, n_layer, n_head, n_embd):
    return dict(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer, n_head=n_head, n_embd=n_embd)


def random_state(cfg, seed=0, dtype=torch.float32):
    """nanoGPT-named weights (the head tied: no lm_head entry), biases and LayerNorms not trivial."""
    g = torch.Generator().manual_seed(seed)
    V, T, L, E = cfg["vocab_size"], cfg["block_size"], cfg["n_layer"], cfg["n_embd"]
    rnd = lambda *s, scale=1.0: (torch.randn(*s, generator=g) * scale).to(dtype)   # noqa: E731
    state = {"transformer.wte.weight": rnd(V, E, scale=0.5), "transformer.wpe.weight": rnd(T, E, scale=0.3),
             "transformer.ln_f.weight": 1 + rnd(E, scale=0.1), "transformer.ln_f.bias": rnd(E, scale=0.1)}
    for i in range(L):
        p = f"transformer.h.{i}."
        for ln in ("ln_1", "ln_2"):
            state[p + ln + ".weight"], state[p + ln + ".bias"] = 1 + rnd(E, scale=0.1), rnd(E, scale=0.1)
        for name, (n_out, n_in) in {"attn.c_attn": (3 * E, E), "attn.c_proj": (E, E), "mlp.c_fc": (4 * E, E),
                                    "mlp.c_proj": (E, 4 * E)}.items():
            state[p + name + ".weight"] = rnd(n_out, n_in, scale=1 / math.sqrt(n_in))
            state[p + name + ".bias"] = rnd(n_out, scale=0.1)
    return state


def build(sub, cfg, state):
    """The learner's TinyGPT holding ``state``; returns (model, report of its parameters)."""
    model = sub.TinyGPT(sub.GPTConfig(**cfg))
    named = dict(model.named_parameters())
    report = {"shapes": {n: tuple(p.shape) for n, p in named.items()}, "tied": None}
    head = getattr(model, "lm_head", None)
    wte = getattr(getattr(model, "transformer", None), "wte", None) if hasattr(model, "transformer") else None
    if head is not None and wte is not None:
        report["tied"] = getattr(head, "weight", None) is getattr(wte, "weight", None)
    if report["shapes"] != {n: tuple(t.shape) for n, t in state.items()}:
        return None, report
    model = model.to(next(iter(state.values())).dtype)
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(state[n])
    model.eval()
    return model, report


@probe
def logits_of(sub, cfg, state, inputs):
    """The learner's model with ``state``: logits for each id tensor of ``inputs`` (no cache)."""
    model, report = build(sub, cfg, state)
    if model is not None:
        with torch.no_grad():
            report["logits"] = [model(idx)[0] for idx in inputs]
    return report


@probe
def counted(sub, cfg):
    return sub.count_parameters(sub.GPTConfig(**cfg))


@probe
def tokenize(sub, text, samples):
    tok = sub.CharTokenizer(text)
    encoded = [tok.encode(s) for s in samples]
    return {"vocab_size": tok.vocab_size, "encoded": encoded, "decoded": [tok.decode(e) for e in encoded],
            "decoded_list": [tok.decode(e.tolist()) for e in encoded]}


def oracle_forward(state, cfg, idx, past=0):
    """GPT-2's computation (nanoGPT layout, exact GELU) of the logits of idx [B, T] at positions
    past .. past + T - 1, attending to nothing before them (use on a whole sequence: past = 0)."""
    B, T = idx.shape
    E, H, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    hd = E // H
    x = state["transformer.wte.weight"][idx] + state["transformer.wpe.weight"][past:past + T]
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    for i in range(L):
        p = lambda n: state[f"transformer.h.{i}.{n}"]                                   # noqa: E731
        h = F.layer_norm(x, (E,), p("ln_1.weight"), p("ln_1.bias"))
        q, k, v = F.linear(h, p("attn.c_attn.weight"), p("attn.c_attn.bias")).split(E, dim=2)
        q, k, v = (t.view(B, T, H, hd).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=causal).transpose(1, 2).reshape(B, T, E)
        x = x + F.linear(y, p("attn.c_proj.weight"), p("attn.c_proj.bias"))
        h = F.layer_norm(x, (E,), p("ln_2.weight"), p("ln_2.bias"))
        x = x + F.linear(F.gelu(F.linear(h, p("mlp.c_fc.weight"), p("mlp.c_fc.bias"))),
                         p("mlp.c_proj.weight"), p("mlp.c_proj.bias"))
    x = F.layer_norm(x, (E,), state["transformer.ln_f.weight"], state["transformer.ln_f.bias"])
    return x @ state["transformer.wte.weight"].T


def expect_model(got, state, label=""):
    want = {n: tuple(t.shape) for n, t in state.items()}
    if got["shapes"] != want:
        extra = sorted(set(got["shapes"]) - set(want))
        missing = sorted(set(want) - set(got["shapes"]))
        tie = (" -- lm_head.weight must BE transformer.wte.weight (tied: one tensor, listed once)"
               if "lm_head.weight" in extra else "")
        raise Fail("parameters named and shaped as nanoGPT's (see the TinyGPT docstring), the head tied to wte",
                   f"{label}your model has extra {extra[:4]} and lacks {missing[:4]}{tie}"
                   if extra or missing else f"{label}shapes differ: expected {want}, your model has {got['shapes']}")


def expect_logits(got, want, rule, what):
    expect_close(got, want, rule, rtol=1e-4, atol=1e-4, what=what)


SMALL = config_dict(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)


@check("CharTokenizer: the sorted distinct characters are the ids; decode(encode(s)) == s")
def tokenizer_by_hand(run):
    got = run(tokenize, "hello world", ["hello", "low"])
    expect_equal(got["vocab_size"], 8, "the vocabulary is the distinct characters: ' ', d, e, h, l, o, r, w",
                 what="vocab_size of CharTokenizer('hello world')")
    expect_equal([e.tolist() if isinstance(e, torch.Tensor) else e for e in got["encoded"]],
                 [[3, 2, 4, 4, 5], [4, 5, 7]], "ids follow the sorted characters: ' '=0, d=1, e=2, h=3, l=4, o=5, "
                 "r=6, w=7", what="encode('hello'), encode('low')")
    expect_equal(got["decoded"], ["hello", "low"], "decode inverts encode", what="decode(encode(s))")


@check("count_parameters matches the architecture: 11 tokens, 8 positions, 2 layers of width 8 -> 1912")
def parameter_count_by_hand(run):
    got = run(counted, SMALL)
    expect_equal(got, 1912, "V*E + T*E + L*(12 E^2 + 13 E) + 2E with the head tied (88 + 64 + 2 * 872 + 16)",
                 what="count_parameters(GPTConfig(11, 8, 2, 2, 8))")


@check("TinyGPT with given weights gives GPT-2's logits")
def logits_match(run):
    state = random_state(SMALL, seed=1)
    idx = torch.tensor([[1, 5, 2, 9, 0, 3], [4, 4, 10, 7, 6, 2]])
    got = run(logits_of, SMALL, state, [idx])
    expect_model(got, state)
    expect_logits(got["logits"][0], oracle_forward(state, SMALL, idx), "x = wte + wpe; per block x += attn(ln_1(x)), "
                  "x += mlp(ln_2(x)); logits = ln_f(x) @ wte^T", what="logits [2, 6, 11]")


@check("causal: changing the last token changes no earlier position's logits")
def last_token_does_not_leak(run):
    state = random_state(SMALL, seed=2)
    a = torch.tensor([[3, 1, 4, 1, 5, 9]])
    b = a.clone()
    b[0, -1] = 2
    got = run(logits_of, SMALL, state, [a, b])
    expect_model(got, state)
    la, lb = got["logits"]
    expect_logits(la, oracle_forward(state, SMALL, a), "logits of the first sequence", what="logits")
    expect_close(lb[:, :-1], la[:, :-1], "position t may only see positions <= t: the causal mask in every layer",
                 rtol=0, atol=1e-6, what="logits of positions 0..4 after changing token 5")

