"""Hidden graders of transformer/debug_gpt, one behaviour per check so that each fixed bug earns
points as soon as every bug breaking that behaviour is gone: GPT-2's logits for given weights
(several sizes); no leakage from any later token, while each position depends on its own token;
cached decoding (token by token and in chunks) equal to one full pass; lm_loss on known logits;
training with lm_loss learns the text; sampling draw for draw with temperature.  The source is
never compared with anything."""
import math

import torch
import torch._dynamo  # noqa: F401 - imported here, before any sandboxed child: its first import asks the OS for the user name
import torch.nn.functional as F

from mlkata.checks import check, expect, expect_close, expect_equal, expect_tensor, probe, visible_module

V = visible_module("transformer/debug_gpt")
CONFIGS = [dict(vocab_size=13, block_size=12, n_layer=2, n_head=2, n_embd=8),
           dict(vocab_size=7, block_size=10, n_layer=1, n_head=4, n_embd=16),
           dict(vocab_size=20, block_size=9, n_layer=3, n_head=1, n_embd=6)]
TEXT = ("the cat sat on the mat. the dog sat on the log. the cat saw the dog and the dog saw the cat. "
        "a bird sang in the tree and the cat looked up at the bird. the dog ran to the tree. ") * 2


@probe
def trained(sub, cfg, data, steps, batch, seed, eval_x):
    """Train the learner's GPT (its own initialisation, default generator seeded) with ITS lm_loss
    and AdamW(lr=1e-2) on random windows of ``data``; report the trained model's logits on eval_x."""
    torch.default_generator.manual_seed(seed)
    model = sub.GPT(sub.GPTConfig(**cfg))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    g = torch.Generator().manual_seed(seed)
    T = cfg["block_size"]
    for _ in range(steps):
        ix = torch.randint(len(data) - T, (batch,), generator=g)
        x = torch.stack([data[i:i + T] for i in ix.tolist()])
        loss = sub.lm_loss(model, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        return model(eval_x)[0]


@probe
def sampled(sub, cfg, state, idx, max_new, temperature, seed):
    model, report = V.build(sub, cfg, state)
    if model is not None:
        options = {} if temperature is None else {"temperature": temperature}     # None: the default, 1.0
        report["tokens"] = sub.generate(model, idx, max_new, generator=torch.Generator().manual_seed(seed), **options)
    return report


def ids(seed, B, T, vocab):
    return torch.randint(vocab, (B, T), generator=torch.Generator().manual_seed(seed))


@check("logits equal GPT-2's computation for given weights (several sizes, 1 to 3 layers, 1 to 4 heads)", points=2)
def logits_random(run):
    for s, cfg in enumerate(CONFIGS):
        state = V.random_state(cfg, seed=10 + s)
        idx = ids(20 + s, 2, cfg["block_size"], cfg["vocab_size"])
        got = run(V.forward_each, cfg, state, [idx])
        V.expect_model(got, state)
        expect_close(got["logits"][0], V.oracle_forward(state, cfg, idx), "x = wte + wpe; per block x = x + "
                     "attn(ln_1 x), x = x + mlp(ln_2 x); heads split as [B, T, H, hd] then transposed, scores "
                     "scaled by 1/sqrt(hd), causal mask through the diagonal; ln_f; tied head", rtol=1e-4, atol=1e-4,
                     what=f"logits (n_layer={cfg['n_layer']}, n_head={cfg['n_head']}, n_embd={cfg['n_embd']})")


@check("no leakage: changing token t never changes the logits of positions < t, and always changes position t's",
       points=2)
def no_leakage(run):
    for s, cfg in enumerate(CONFIGS[:2]):
        state = V.random_state(cfg, seed=30 + s)
        base = ids(31 + s, 1, cfg["block_size"], cfg["vocab_size"])
        variants = []
        for t in range(cfg["block_size"]):
            changed = base.clone()
            changed[0, t] = (changed[0, t] + 1 + t % (cfg["vocab_size"] - 1)) % cfg["vocab_size"]   # a different token
            variants.append(changed)
        got = run(V.forward_each, cfg, state, [base] + variants)
        V.expect_model(got, state)
        ref = expect_tensor(got["logits"][0], "the logits are [B, T, V]", shape=(1, cfg["block_size"], cfg["vocab_size"]))
        for t, logits in enumerate(got["logits"][1:]):
            expect_close(logits[:, :t], ref[:, :t], "position t attends to positions <= t only: check the mask's "
                         "diagonal and every reshape between [B, T, E] and [B, H, T, hd]", rtol=0, atol=1e-6,
                         what=f"logits of positions 0..{t - 1} after changing token {t} (n_head={cfg['n_head']})")
            expect(bool((logits[:, t] - ref[:, t]).abs().max() > 1e-4), "each position sees its own token",
                   f"the logits of position {t} did not change when token {t} did")


@check("cached decoding, token by token and in chunks, equals one full pass of the same model", points=2)
def cache_consistent(run):
    cfg = CONFIGS[0]
    state = V.random_state(cfg, seed=40)
    idx = ids(41, 2, cfg["block_size"], cfg["vocab_size"])
    for sizes in ([1] * cfg["block_size"], [5, 1, 4, 2]):
        got = run(V.chunked, cfg, state, idx, sizes)
        V.expect_model(got, state)
        full = expect_tensor(got["full"], "the logits are [B, T, V]", shape=(2, cfg["block_size"], cfg["vocab_size"]))
        expect(bool((full[:, 1:] - full[:, :-1]).abs().max() > 1e-4), "the logits depend on the tokens",
               "every position has the same logits")
        expect_close(got["chunks"], full, "tokens given with a cache sit at positions T_past, T_past + 1, ... (their "
                     "position embeddings) and attend to every earlier position", rtol=1e-4, atol=1e-5,
                     what=f"logits decoded in chunks of {sizes} vs one full pass")


@check("lm_loss on known logits: each position's logits against the next token, averaged over B * (T - 1)")
def loss_random(run):
    g = torch.Generator().manual_seed(50)
    for B, T, V_ in [(2, 5, 7), (3, 2, 4), (1, 9, 11)]:
        logits = torch.randn(B, T, V_, generator=g) * 2
        idx = torch.randint(V_, (B, T), generator=g)
        got = run(V.loss_of, logits, idx)
        want = F.cross_entropy(logits[:, :-1].reshape(-1, V_), idx[:, 1:].reshape(-1))
        expect_close(got, want, "logits[:, :-1] are scored against idx[:, 1:]: position t predicts token t + 1",
                     what=f"lm_loss (B={B}, T={T}, V={V_})")


@check("training with lm_loss learns the text: next-token loss far below the unigram entropy", points=2)
def training_learns(run):
    chars = sorted(set(TEXT))
    data = torch.tensor([chars.index(c) for c in TEXT])
    cfg = dict(vocab_size=len(chars), block_size=16, n_layer=1, n_head=2, n_embd=24)
    starts = range(0, len(data) - 17, 23)
    eval_x = torch.stack([data[i:i + 16] for i in starts])
    eval_y = torch.stack([data[i + 1:i + 17] for i in starts])
    logits = run(trained, cfg, data, 100, 16, 60, eval_x)
    logits = expect_tensor(logits, "the model's logits on the evaluation windows", shape=(*eval_x.shape, len(chars)))
    loss = float(F.cross_entropy(logits.reshape(-1, len(chars)).double(), eval_y.reshape(-1)))
    counts = torch.bincount(data, minlength=len(chars)).double()
    unigram = float(-(counts / counts.sum() * (counts / counts.sum()).log()).sum())
    bound = 2.0
    expect(loss < bound, "a model trained on lm_loss learns to predict the NEXT character",
           f"next-token loss on the text after 100 steps: {loss:.3f}; it must be below {bound} (uniform guessing "
           f"{math.log(len(chars)):.2f}, unigram frequencies alone {unigram:.2f})")


@check("generate samples draw for draw like GPT-2 with temperature (the default 1.0, and 0.5)", points=2)
def sampling(run):
    cfg = CONFIGS[1]
    state = V.random_state(cfg, seed=70)
    prompt = ids(71, 2, 3, cfg["vocab_size"])
    for temperature, seed in ((None, 72), (0.5, 73)):
        got = run(sampled, cfg, state, prompt, 6, temperature, seed)
        V.expect_model(got, state)
        temperature = 1.0 if temperature is None else temperature         # the default
        g = torch.Generator().manual_seed(seed)
        want = prompt
        for _ in range(6):
            logits = V.oracle_forward(state, cfg, want)[:, -1]
            want = torch.cat([want, torch.multinomial(F.softmax(logits / temperature, -1), 1, generator=g)], 1)
        expect_equal(got["tokens"], want, "each step samples from softmax(last logits / temperature) with one "
                     "torch.multinomial(probs, 1, generator); the model must be right too",
                     what=f"generated ids (temperature {temperature}, generator seeded {seed})")
