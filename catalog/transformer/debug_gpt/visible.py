"""Visible checks: one per behaviour the bugs break -- GPT-2's logits for given weights, no
leakage from the last token, cached decoding equal to recomputation, and lm_loss on logits known
in advance.  (They fail on the model as given; each passes once the bugs it depends on are fixed.)"""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, expect_tensor, probe


def random_state(cfg, seed=0):
    """nanoGPT-named weights (head tied: no lm_head entry), non-trivial LayerNorms and biases."""
    g = torch.Generator().manual_seed(seed)
    V, T, L, E = cfg["vocab_size"], cfg["block_size"], cfg["n_layer"], cfg["n_embd"]
    rnd = lambda *s, scale=1.0: torch.randn(*s, generator=g) * scale   # noqa: E731
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


def oracle_forward(state, cfg, idx):
    """GPT-2's logits (nanoGPT layout, exact GELU) for the whole sequences idx [B, T]."""
    B, T = idx.shape
    E, H = cfg["n_embd"], cfg["n_head"]
    x = state["transformer.wte.weight"][idx] + state["transformer.wpe.weight"][:T]
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    for i in range(cfg["n_layer"]):
        p = lambda n: state[f"transformer.h.{i}.{n}"]                                   # noqa: E731
        h = F.layer_norm(x, (E,), p("ln_1.weight"), p("ln_1.bias"))
        q, k, v = F.linear(h, p("attn.c_attn.weight"), p("attn.c_attn.bias")).split(E, dim=2)
        q, k, v = (t.view(B, T, H, E // H).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=causal).transpose(1, 2).reshape(B, T, E)
        x = x + F.linear(y, p("attn.c_proj.weight"), p("attn.c_proj.bias"))
        h = F.layer_norm(x, (E,), p("ln_2.weight"), p("ln_2.bias"))
        x = x + F.linear(F.gelu(F.linear(h, p("mlp.c_fc.weight"), p("mlp.c_fc.bias"))),
                         p("mlp.c_proj.weight"), p("mlp.c_proj.bias"))
    x = F.layer_norm(x, (E,), state["transformer.ln_f.weight"], state["transformer.ln_f.bias"])
    return x @ state["transformer.wte.weight"].T


def build(sub, cfg, state):
    """The learner's GPT holding ``state`` (or None if its parameters are not nanoGPT's)."""
    model = sub.GPT(sub.GPTConfig(**cfg))
    shapes = {n: tuple(p.shape) for n, p in model.named_parameters()}
    if shapes != {n: tuple(t.shape) for n, t in state.items()}:
        return None, {"shapes": shapes}
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(state[n])
    return model.eval(), {"shapes": shapes}


@probe
def forward_each(sub, cfg, state, inputs):
    """Logits of the learner's model (holding ``state``) for each id tensor, without a cache."""
    model, report = build(sub, cfg, state)
    if model is not None:
        with torch.no_grad():
            report["logits"] = [model(idx)[0] for idx in inputs]
    return report


@probe
def chunked(sub, cfg, state, idx, sizes):
    """The learner's model on idx in one call, and in chunks of ``sizes`` threading the cache."""
    model, report = build(sub, cfg, state)
    if model is None:
        return report
    with torch.no_grad():
        report["full"] = model(idx)[0]
        outs, cache, start = [], None, 0
        for size in sizes:
            logits, cache = model(idx[:, start:start + size], cache)
            outs.append(logits)
            start += size
    report["chunks"] = torch.cat(outs, dim=1)
    return report


class KnownLogits(torch.nn.Module):
    """A stand-in model whose logits are given in advance: ``model(idx) -> (logits, [])``."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, idx, cache=None):
        return self.logits, []


@probe
def loss_of(sub, logits, idx):
    return sub.lm_loss(KnownLogits(logits), idx)


def expect_model(got, state):
    if got["shapes"] != {n: tuple(t.shape) for n, t in state.items()}:
        raise Fail("keep nanoGPT's parameters (the head tied to wte): the graders load weights by name",
                   f"your model's parameters are {sorted(got['shapes'])[:6]} ...")


TINY = dict(vocab_size=9, block_size=8, n_layer=2, n_head=2, n_embd=8)


@check("the logits equal GPT-2's computation for the same weights")
def logits_match(run):
    state = random_state(TINY, seed=1)
    idx = torch.tensor([[1, 5, 2, 8, 0, 3], [4, 4, 7, 6, 6, 2]])
    got = run(forward_each, TINY, state, [idx])
    expect_model(got, state)
    expect_close(got["logits"][0], oracle_forward(state, TINY, idx), "per block x += attn(ln_1 x), x += mlp(ln_2 x); "
                 "attention per head softmax(q k^T / sqrt(head width)) under the causal mask", rtol=1e-4, atol=1e-4,
                 what="logits [2, 6, 9]")


@check("no leakage: changing the last token changes no earlier logit, but does change its own")
def no_leak_from_last(run):
    state = random_state(TINY, seed=2)
    a = torch.tensor([[3, 1, 4, 1, 5, 2]])
    b = a.clone()
    b[0, -1] = 7
    got = run(forward_each, TINY, state, [a, b])
    expect_model(got, state)
    la, lb = (expect_tensor(x, "the logits are [B, T, V]", shape=(1, 6, 9)) for x in got["logits"])
    expect_close(lb[:, :-1], la[:, :-1], "position t may only see positions <= t (the mask, and reshapes that keep "
                 "positions apart)", rtol=0, atol=1e-6, what="logits of positions 0..4 after changing token 5")
    expect(bool((lb[:, -1] - la[:, -1]).abs().max() > 1e-4), "a position sees its own token",
           "the logits of position 5 did not change when token 5 did")


@check("decoding token by token with the cache gives the logits of one full pass")
def cache_consistent(run):
    state = random_state(TINY, seed=3)
    idx = torch.tensor([[2, 7, 1, 8, 2, 8, 1]])
    got = run(chunked, TINY, state, idx, [1] * 7)
    expect_model(got, state)
    full = got["full"]
    expect(isinstance(full, torch.Tensor) and full.dim() == 3 and bool((full[0, 1:] - full[0, :-1]).abs().max() > 1e-4),
           "the logits are [B, T, V] and depend on the tokens", "every position has the same logits")
    expect_close(got["chunks"], full, "with a cache, new tokens sit at positions T_past.. and see "
                 "every earlier position", rtol=1e-4, atol=1e-5, what="token-by-token logits vs one pass")


@check("lm_loss is the mean cross-entropy of each position's logits against the NEXT token")
def loss_by_hand(run):
    logits = torch.tensor([[[2.0, 0.0, 0.0], [0.0, 3.0, 0.0], [1.0, 1.0, 1.0]]])     # B=1, T=3, V=3
    idx = torch.tensor([[0, 1, 2]])
    got = run(loss_of, logits, idx)
    want = F.cross_entropy(logits[0, :2], idx[0, 1:])
    expect_close(got, want, "position 0 predicts token 1 and position 1 predicts token 2; the last position has no "
                 "target", what="lm_loss on known logits")
