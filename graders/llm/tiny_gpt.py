"""Hidden graders of llm/tiny_gpt, on behaviour: the tokenizer on random texts; the parameter
count (formula and built model); GPT-2's logits for given weights (several sizes); no leakage from
any later position to an earlier logit; cached decoding, token by token and in chunks, equal to
recomputing everything; the block size enforced; the batch sampler and the sampler draw for draw;
and a real training run on the shipped corpus whose held-out loss must fall well below what
unigram frequencies alone reach (tests/test_twins_llm_tiny_gpt.py compares with transformers'
GPT2LMHeadModel)."""
import math

import torch
import torch._dynamo  # noqa: F401 - imported here, before any sandboxed child: its first import asks the OS for the user name
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, expect_tensor, probe, visible_module

V = visible_module("llm/tiny_gpt")


@probe
def decode_steps(sub, cfg, state, idx, sizes):
    """Feed idx [B, T] through the learner's model in chunks of ``sizes`` along T, threading the
    cache; report each chunk's logits and the final cache's shapes and contents."""
    model, report = V.build(sub, cfg, state)
    if model is None:
        return report
    outs, cache, start = [], None, 0
    with torch.no_grad():
        for size in sizes:
            logits, cache = model(idx[:, start:start + size], cache)
            outs.append(logits)
            start += size
    report.update(outs=outs, cache=[list(layer) for layer in cache])
    return report


@probe
def overflow(sub, cfg, state, idx, split):
    """Whether the model raises ValueError for more than block_size positions (in one call, or
    after a cache holding ``split`` positions)."""
    model, report = V.build(sub, cfg, state)
    if model is None:
        return report
    out = []
    for first in ([idx] if split is None else [idx[:, :split]]):
        try:
            with torch.no_grad():
                _, cache = model(first)
                if split is not None:
                    model(idx[:, split:], cache)
            out.append(None)
        except NotImplementedError:
            raise
        except Exception as e:  # noqa: BLE001 - the check decides which exception is right
            out.append(type(e).__name__)
    report["raised"] = out[0]
    return report


@probe
def batches(sub, data, batch_size, block_size, seed, times):
    g = torch.Generator().manual_seed(seed)
    return [list(sub.get_batch(data, batch_size, block_size, g)) for _ in range(times)]


@probe
def sampled(sub, cfg, state, idx, max_new, temperature, seed):
    model, report = V.build(sub, cfg, state)
    if model is None:
        return report
    calls, forward = [], model.forward

    def counted(ids, cache=None):
        calls.append([int(ids.shape[1]), cache is not None])
        return forward(ids, cache)

    model.forward = counted                     # nn.Module.__call__ looks forward up on the instance
    options = {} if temperature is None else {"temperature": temperature}     # None: the default, 1.0
    report["tokens"] = sub.generate(model, idx, max_new, generator=torch.Generator().manual_seed(seed), **options)
    report["calls"] = calls
    return report


@probe
def trained(sub, data, vocab_size, sizes, steps, batch_size, lr, seed, eval_x):
    """Build the learner's model (its own initialisation, the default generator seeded), train it
    on the ids ``data``, and report the losses and the trained model's logits on ``eval_x``."""
    torch.default_generator.manual_seed(seed)
    model = sub.TinyGPT(sub.GPTConfig(vocab_size=vocab_size, **sizes))
    losses = sub.train(model, data, steps, batch_size, sizes["block_size"], lr, torch.Generator().manual_seed(seed))
    model.eval()
    with torch.no_grad():
        logits, _ = model(eval_x)
    return {"losses": losses, "logits": logits}


def oracle_batch(data, batch_size, block_size, g):
    ix = torch.randint(len(data) - block_size, (batch_size,), generator=g)
    return [torch.stack([data[i:i + block_size] for i in ix.tolist()]),
            torch.stack([data[i + 1:i + block_size + 1] for i in ix.tolist()])]


def oracle_generate(state, cfg, idx, max_new, temperature, seed):
    g = torch.Generator().manual_seed(seed)
    out = idx
    for _ in range(max_new):
        logits = V.oracle_forward(state, cfg, out)[:, -1]
        out = torch.cat([out, torch.multinomial(F.softmax(logits / temperature, -1), 1, generator=g)], 1)
    return out


def ids(seed, B, T, vocab):
    return torch.randint(vocab, (B, T), generator=torch.Generator().manual_seed(seed))


CONFIGS = [V.config_dict(13, 12, 2, 2, 8), V.config_dict(7, 10, 1, 1, 4), V.config_dict(20, 9, 3, 4, 16)]


@check("CharTokenizer on random texts: sorted ids, round trips, KeyError for an unknown character")
def tokenizer_random(run):
    g = torch.Generator().manual_seed(0)
    alphabet = "abcdefgh \n.,!?XYZé"
    text = "".join(alphabet[int(i)] for i in torch.randint(len(alphabet), (200,), generator=g))
    samples = [text[i:i + 15] for i in (0, 40, 123)] + [""]
    got = run(V.tokenize, text, samples)
    chars = sorted(set(text))
    expect_equal(got["vocab_size"], len(chars), "vocab_size = the number of distinct characters", what="vocab_size")
    want = [torch.tensor([chars.index(c) for c in s], dtype=torch.long) for s in samples]
    for s, e, w in zip(samples, got["encoded"], want):
        expect_tensor(e, "encode returns a 1-D long tensor", shape=w.shape, dtype=torch.long)
        expect_equal(e, w, "character c has id sorted(set(text)).index(c)", what=f"encode({s!r})")
    expect_equal(got["decoded"], samples, "decode(encode(s)) == s", what="decode of each encoding")
    expect_equal(got["decoded_list"], samples, "decode accepts a list of ints as well", what="decode(list)")
    err = run(unknown_char, text)
    expect_equal(err, "KeyError", "a character outside the vocabulary raises KeyError",
                 what="what encode('~') raised")


@probe
def unknown_char(sub, text):
    try:
        sub.CharTokenizer(text).encode("~")
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - the check decides which exception is right
        return type(e).__name__
    return None


@probe
def count_both(sub, cfg):
    """count_parameters(config) and the number of distinct parameters of TinyGPT(config)."""
    config = sub.GPTConfig(**cfg)
    model = sub.TinyGPT(config)
    return {"formula": sub.count_parameters(config), "model": sum(p.numel() for p in model.parameters())}


@check("count_parameters: the formula for several sizes, equal to the built model's distinct parameters")
def parameter_count(run):
    for cfg in CONFIGS + [V.config_dict(65, 256, 6, 6, 384)]:
        V_, T, L, E = cfg["vocab_size"], cfg["block_size"], cfg["n_layer"], cfg["n_embd"]
        want = V_ * E + T * E + L * (12 * E * E + 13 * E) + 2 * E
        got = run(count_both, cfg) if E < 100 else {"formula": run(V.counted, cfg), "model": want}
        label = f"V={V_}, block_size={T}, n_layer={L}, n_embd={E}"
        expect_equal(got["formula"], want, "V*E + T*E + L*(12 E^2 + 13 E) + 2E: embeddings, per layer two LayerNorms, "
                     "c_attn, c_proj, c_fc, mlp c_proj with biases, the final LayerNorm, the tied head once",
                     what=f"count_parameters ({label})")
        expect_equal(got["model"], want, "the model has exactly the parameters the formula counts (tied head)",
                     what=f"parameters of TinyGPT ({label})")


@check("logits equal GPT-2's computation with the same weights, for several sizes", points=2)
def logits_random(run):
    for s, cfg in enumerate(CONFIGS):
        state = V.random_state(cfg, seed=10 + s)
        idx = ids(20 + s, 3, cfg["block_size"], cfg["vocab_size"])
        got = run(V.logits_of, cfg, state, [idx, idx[:1, :3]])
        V.expect_model(got, state, f"n_layer={cfg['n_layer']}, n_embd={cfg['n_embd']}: ")
        for x, logits in zip((idx, idx[:1, :3]), got["logits"]):
            V.expect_logits(logits, V.oracle_forward(state, cfg, x), "pre-LayerNorm blocks: x += c_proj(attn(ln_1 x)); "
                            "x += c_proj(gelu(c_fc(ln_2 x))); then ln_f and the tied head",
                            what=f"logits for ids {list(x.shape)} (n_layer={cfg['n_layer']}, n_head={cfg['n_head']})")


@check("no leakage: changing the token at any position t leaves the logits of positions < t unchanged", points=2)
def no_leakage(run):
    cfg = CONFIGS[0]
    state = V.random_state(cfg, seed=30)
    base = ids(31, 1, cfg["block_size"], cfg["vocab_size"])
    variants = []
    for t in range(cfg["block_size"]):
        changed = base.clone()
        changed[0, t] = (changed[0, t] + 1 + t) % cfg["vocab_size"]
        variants.append(changed)
    got = run(V.logits_of, cfg, state, [base] + variants)
    V.expect_model(got, state)
    V.expect_logits(got["logits"][0], V.oracle_forward(state, cfg, base), "the model's logits", what="logits")
    for t, logits in enumerate(got["logits"][1:]):
        expect_close(logits[:, :t], got["logits"][0][:, :t], "position t attends to positions <= t only, in every "
                     "layer (and nothing else mixes positions)", rtol=0, atol=1e-6,
                     what=f"logits of positions 0..{t - 1} after changing token {t}")
        V.expect_logits(logits, V.oracle_forward(state, cfg, variants[t]), "the changed sequence's logits",
                        what=f"logits after changing token {t}")


@check("cached decoding (token by token, and in chunks) equals recomputing the whole sequence", points=2)
def cached_decoding(run):
    cfg = CONFIGS[0]
    state = V.random_state(cfg, seed=40)
    idx = ids(41, 2, cfg["block_size"], cfg["vocab_size"])
    want = V.oracle_forward(state, cfg, idx)
    E, H = cfg["n_embd"], cfg["n_head"]
    for sizes in ([1] * cfg["block_size"], [5, 1, 3, 3]):
        got = run(decode_steps, cfg, state, idx, sizes)
        V.expect_model(got, state)
        start = 0
        for i, (size, logits) in enumerate(zip(sizes, got["outs"])):
            V.expect_logits(logits, want[:, start:start + size], "the tokens of a call sit at positions T_past .. "
                            "T_past + T - 1 (position embeddings offset by the cache's length) and attend to every "
                            "cached position and the new ones up to themselves", what=f"logits of call {i} "
                            f"(chunk sizes {sizes})")
            start += size
        shapes = [[tuple(t.shape) for t in layer] for layer in got["cache"]]
        expect_equal(shapes, [[(2, H, cfg["block_size"], E // H)] * 2] * cfg["n_layer"], "the cache holds one (k, v) "
                     "per layer, each [B, n_head, T_past + T, hd]", what=f"cache shapes after all calls ({sizes})")


@check("more than block_size positions raise ValueError, in one call or through the cache")
def block_size_enforced(run):
    cfg = CONFIGS[1]
    state = V.random_state(cfg, seed=50)
    idx = ids(51, 1, cfg["block_size"] + 1, cfg["vocab_size"])
    for split in (None, 4):
        got = run(overflow, cfg, state, idx, split)
        V.expect_model(got, state)
        expect_equal(got["raised"], "ValueError", "there are block_size position embeddings: T_past + T > block_size "
                     "raises ValueError (not an IndexError from the embedding)",
                     what=f"what {cfg['block_size'] + 1} positions raised ({'one call' if split is None else 'after a cache'})")
    fits = ids(52, 1, cfg["block_size"], cfg["vocab_size"])
    got = run(V.logits_of, cfg, state, [fits])
    V.expect_logits(got["logits"][0], V.oracle_forward(state, cfg, fits), "exactly block_size positions are allowed",
                    what="logits of a full block")


@check("get_batch draws its windows like the oracle (one torch.randint per batch)")
def batch_sampler(run):
    data = torch.arange(100) % 17
    got = run(batches, data, 4, 6, 60, 3)
    g = torch.Generator().manual_seed(60)
    want = [oracle_batch(data, 4, 6, g) for _ in range(3)]
    expect_close(got, want, "ix = torch.randint(len(data) - block_size, (B,), generator); x = data[i:i+T], "
                 "y = data[i+1:i+T+1]", rtol=0, atol=0, what="three (x, y) batches")


@check("generate samples draw for draw like the oracle (prompt kept; default temperature 1, and 0.5)", points=2)
def sampling(run):
    cfg = CONFIGS[2]
    state = V.random_state(cfg, seed=70)
    prompt = ids(71, 2, 3, cfg["vocab_size"])
    max_new = cfg["block_size"] - 4                       # one position to spare
    for temperature, seed in ((None, 72), (0.5, 73)):
        got = run(sampled, cfg, state, prompt, max_new, temperature, seed)
        V.expect_model(got, state)
        temperature = 1.0 if temperature is None else temperature         # the default
        want = oracle_generate(state, cfg, prompt, max_new, temperature, seed)
        expect_equal(got["tokens"], want, "after the prompt, each step: last position's logits / temperature, "
                     "softmax, one torch.multinomial(probs, 1, generator) for all rows; the new token goes back in",
                     what=f"generated ids (temperature {temperature}, generator seeded {seed})")
        calls = got["calls"]
        expect(calls[:1] == [[3, False]] and all(c == [1, True] for c in calls[1:]) and
               len(calls) in (max_new, max_new + 1),
               "the prompt goes through the model once; after that each call gets ONLY the newest token and the "
               "cache (that is what the cache is for)",
               f"the model was called with (number of tokens, cache given) = {calls[:6]}{' ...' if len(calls) > 6 else ''} "
               f"({len(calls)} calls for {max_new} new tokens)")


@check("training on the corpus for 120 steps (GPT-2 init) brings the loss far below the unigram entropy", points=2)
def training_learns(run):
    chars = sorted(set(V.CORPUS))
    data = torch.tensor([chars.index(c) for c in V.CORPUS])
    sizes = dict(block_size=16, n_layer=1, n_head=2, n_embd=24)
    eval_x = torch.stack([data[i:i + 16] for i in range(0, len(data) - 17, 37)])
    eval_y = torch.stack([data[i + 1:i + 17] for i in range(0, len(data) - 17, 37)])
    got = run(trained, data, len(chars), sizes, 120, 16, 1e-2, 80, eval_x)
    losses = got["losses"]
    expect(isinstance(losses, (list, tuple)) and len(losses) == 120 and
           all(isinstance(l, float) and math.isfinite(l) for l in losses),
           "train returns the 120 losses as finite floats", f"it returned {str(losses)[:120]}")
    expect(abs(losses[0] - math.log(len(chars))) < 0.25, "GPT-2's initialisation (weights ~ N(0, 0.02^2), biases "
           "0) makes the untrained model nearly uniform: the first loss is close to ln V",
           f"the first training loss was {losses[0]:.3f}; ln V = {math.log(len(chars)):.3f} (allowed: within 0.25)")
    logits = expect_tensor(got["logits"], "the trained model's logits on the evaluation windows",
                           shape=(*eval_x.shape, len(chars)))
    loss = float(F.cross_entropy(logits.reshape(-1, len(chars)).double(), eval_y.reshape(-1)))
    counts = torch.bincount(data, minlength=len(chars)).double()
    unigram = float(-(counts / counts.sum() * (counts / counts.sum()).log()).sum())
    bound = 2.2
    expect(loss < bound, "each step: a random batch, cross-entropy of the logits against the next tokens, "
           "zero_grad, backward, AdamW step -- a working model and loop learns which characters follow which",
           f"loss on evaluation windows of the corpus after training {loss:.3f}; it must be below {bound} (uniform guessing: "
           f"{math.log(len(chars)):.2f}, unigram frequencies alone: {unigram:.2f}, a bigram table: about 1.6)")
