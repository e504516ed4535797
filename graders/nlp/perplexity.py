"""Hidden graders of nlp/perplexity: sequence and corpus perplexity against an oracle built on
torch.nn.functional.cross_entropy in float64 (the shift and the attention-mask rule of
transformers' labels=-100 loss; tests/test_twins_nlp_perplexity.py checks it against
GPT2LMHeadModel(labels=...).loss) on random padded batches; the mask rule, token weighting,
empty sequences, huge logits, half precision, gradients; and the sliding-window evaluation
against the windows of Hugging Face's "Perplexity of fixed-length models" guide with exact
token counts, including which windows the model is called on."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, expect_tensor, probe, visible_module

V = visible_module("nlp/perplexity")
SEQ, CORPUS = "sequence_perplexities", "corpus_perplexity"


# --------------------------------------------------------------------------------------------
# The oracle
# --------------------------------------------------------------------------------------------

def oracle_nll(logits, ids, mask=None):
    """Per-target NLL (B, T-1) in float64 with labels = ids, -100 where attention_mask[:, 1:] == 0."""
    labels = ids[:, 1:].clone()
    if mask is not None:
        labels[mask[:, 1:] == 0] = -100
    B, T1 = labels.shape
    nll = F.cross_entropy(logits[:, :-1].double().reshape(B * T1, -1), labels.reshape(-1), ignore_index=-100,
                          reduction="none").reshape(B, T1)
    return nll, labels != -100


def out_dtype(logits):
    return torch.float64 if logits.dtype == torch.float64 else torch.float32


def oracle_seq(logits, ids, mask=None):
    nll, counted = oracle_nll(logits, ids, mask)
    return torch.exp(nll.sum(1) / counted.sum(1)).to(out_dtype(logits))


def oracle_corpus(logits, ids, mask=None):
    nll, counted = oracle_nll(logits, ids, mask)
    return torch.exp(nll.sum() / counted.sum()).to(out_dtype(logits))


def windows(N, max_length, stride):
    """(begin, end, first target) of each window of the guide's loop."""
    out, prev_end = [], 0
    for begin in range(0, N, stride):
        end = min(begin + max_length, N)
        out.append((begin, end, max(prev_end, begin + 1)))
        prev_end = end
        if end == N:
            break
    return out


def oracle_sliding(model, ids, max_length, stride):
    total, count = 0.0, 0
    for begin, end, first in windows(ids.numel(), max_length, stride):
        logits = model(ids[begin:end][None])[0].double()
        rows = torch.arange(first, end) - begin - 1
        total += F.cross_entropy(logits[rows], ids[first:end], reduction="sum").item() if end > first else 0.0
        count += end - first
    return math.exp(total / count)


def random_batch(seed, dtype=torch.float32, side="right", scale=2.0):
    g = torch.Generator().manual_seed(seed)
    B, T, Vv = int(torch.randint(1, 5, (1,), generator=g)), int(torch.randint(2, 13, (1,), generator=g)), \
        int(torch.randint(2, 21, (1,), generator=g))
    logits = (torch.randn(B, T, Vv, generator=g, dtype=torch.float64) * scale).to(dtype)
    ids = torch.randint(0, Vv, (B, T), generator=g)
    lengths = torch.randint(2, T + 1, (B,), generator=g)
    lengths[0] = T                                                 # one sequence fills the batch
    pos = torch.arange(T)[None]
    mask = pos < lengths[:, None] if side == "right" else pos >= T - lengths[:, None]
    return logits, ids, mask.long()


def out_of(got, shape, rule, what):
    out = got["out"]
    expect_tensor(out, rule + " (return a tensor)")
    if tuple(out.shape) != tuple(shape):
        raise Fail(rule, f"{what}: expected shape {list(shape)}, your code produced shape {list(out.shape)}")
    return out


def agree(run, fn, cases, rule, tol=None, label=""):
    got = run(V.ppl_many, fn, cases)
    for i, ((lg, ids, mask), r) in enumerate(zip(cases, got)):
        want = (oracle_seq if fn == SEQ else oracle_corpus)(lg, ids, mask)
        what = f"{fn}({label or 'case ' + str(i)}: B={lg.size(0)}, T={lg.size(1)}, V={lg.size(2)}, " \
               f"{str(lg.dtype).replace('torch.', '')}{', no mask' if mask is None else ''})"
        out = out_of(r, want.shape, rule, what)
        expect_close(out, want, rule, what=what, **(tol or ({"rtol": 1e-9, "atol": 1e-9} if lg.dtype == torch.float64
                                                            else {"rtol": 2e-5, "atol": 1e-5})))


# --------------------------------------------------------------------------------------------
# Per sequence and corpus
# --------------------------------------------------------------------------------------------

@check("sequence_perplexities agrees with exp(mean cross-entropy) per sequence on random padded batches", points=2)
def sequence_random(run):
    cases = [random_batch(s, dtype=torch.float64 if s % 3 == 0 else torch.float32, side="right") for s in range(8)]
    cases.append(random_batch(20)[:2] + (None,))
    agree(run, SEQ, cases, "each sequence's perplexity is exp(mean over its counted targets of "
          "-log softmax(logits[b, t - 1])[input_ids[b, t]]), the target at t counting when attention_mask[b, t] == 1")


@check("corpus_perplexity agrees with exp(total NLL / total counted targets) on random padded batches", points=2)
def corpus_random(run):
    cases = [random_batch(30 + s, dtype=torch.float64 if s % 3 == 0 else torch.float32, side="right") for s in range(8)]
    cases.append(random_batch(40)[:2] + (None,))
    agree(run, CORPUS, cases, "corpus perplexity = exp(sum of the NLL of every counted target in the batch / "
          "their number): every token weighs the same")


@check("the mask rule holds for left padding and any 0/1 pattern (int or bool): target t counts when mask[t] == 1")
def mask_rule(run):
    cases = [random_batch(50 + s, side="left") for s in range(3)]
    g = torch.Generator().manual_seed(55)
    lg, ids, _ = random_batch(56)
    holes = (torch.rand(ids.shape, generator=g) < 0.7)
    holes[:, :2] = True                                            # every sequence keeps a target
    cases += [(lg, ids, holes), (lg, ids, holes.long()), (lg, ids, torch.ones_like(ids))]
    agree(run, SEQ, cases, "a target at position t >= 1 counts exactly when attention_mask[b, t] == 1 (use "
          "attention_mask[:, 1:], aligned with the targets input_ids[:, 1:], not attention_mask[:, :-1])")


@check("a right-padded sequence has the perplexity of the same sequence without padding")
def padding_invariance(run):
    lg, ids, mask = random_batch(60)
    B, T, _ = lg.shape
    lengths = mask.sum(1).tolist()
    got = run(V.ppl_many, SEQ, [(lg, ids, mask)] + [(lg[b:b + 1, :n], ids[b:b + 1, :n], None) for b, n in enumerate(lengths)])
    batch = out_of(got[0], (B,), "sequence_perplexities returns one value per sequence", "padded batch")
    expect_close(batch, oracle_seq(lg, ids, mask), "perplexity = exp(mean NLL of the counted next-token targets)",
                 what="perplexities of the padded batch")
    for b, n in enumerate(lengths):
        alone = out_of(got[1 + b], (1,), "sequence_perplexities returns one value per sequence", f"sequence {b} alone")
        expect_close(batch[b], alone[0], "padding changes nothing: what a sequence scores is decided by its own "
                     "counted targets only", what=f"sequence {b} ({n} real tokens of {T}) in the batch vs. alone")


@check("a sequence with no counted target has perplexity NaN and adds nothing to the corpus")
def empty_sequences(run):
    lg, ids, mask = random_batch(70)
    lg, ids = torch.cat([lg, lg[:1]]), torch.cat([ids, ids[:1]])
    mask = torch.cat([mask, torch.zeros_like(mask[:1])])
    mask[-1, 0] = 1                                                # one real token: nothing to predict
    B = lg.size(0)
    seq = out_of(run(V.ppl, SEQ, lg, ids, mask), (B,), "sequence_perplexities returns one value per sequence",
                 "batch whose last sequence has one real token")
    expect(bool(torch.isnan(seq[-1])), "a sequence without any counted target has no mean NLL: its perplexity is "
           "NaN (0 / 0)", f"last sequence: expected nan, your code produced {seq[-1].item():.6g}")
    expect_close(seq[:-1], oracle_seq(lg, ids, mask)[:-1], "the other sequences are unaffected", what="sequences 0..B-2")
    corpus = run(V.ppl, CORPUS, lg, ids, mask)["out"]
    expect_close(corpus, oracle_corpus(lg, ids, mask), "the corpus perplexity counts only counted targets: a "
                 "sequence without any adds nothing (no NaN)", what="corpus_perplexity")


@check("huge logits and near-certain predictions give finite, accurate values")
def stability(run):
    g = torch.Generator().manual_seed(80)
    lg = torch.randn(2, 6, 9, generator=g) + 1e4                   # exp(logits) overflows float32 and float64
    ids = torch.randint(0, 9, (2, 6), generator=g)
    lg[0, 0, ids[0, 1]] = lg[0, 0].max() - 120.0                   # a target of probability e^-120: 0 in float32
    lg[1, 2, (ids[1, 3] + 1) % 9] = -1e4
    sure = torch.full((2, 6, 9), -50.0)
    sure.scatter_(-1, torch.cat([ids[:, 1:], ids[:, :1]], 1)[..., None], 50.0)   # right about every next token
    got = run(V.ppl_many, SEQ, [(lg, ids, None), (sure, ids, None)])
    stable = ("use a stable log-softmax (torch.log_softmax, or subtract the row maximum before exp): exp(1e4) "
              "overflows, and log(softmax(x)) is log(0) = -inf once a probability underflows")
    out = out_of(got[0], (2,), "sequence_perplexities returns one value per sequence", "logits around 1e4")
    expect(bool(torch.isfinite(out).all()), stable, f"logits around 1e4: your code produced {out.tolist()}")
    # float32 holds 1e4 to ~1e-3, so a float32 log-softmax is that accurate: compare at that level
    expect_close(out, oracle_seq(lg, ids), stable, rtol=3e-3, what="sequence_perplexities(logits around 1e4)")
    out = out_of(got[1], (2,), "sequence_perplexities returns one value per sequence", "near-certain predictions")
    expect_close(out, torch.ones(2), "a model that is certain and right has perplexity 1",
                 what="sequence_perplexities(near-certain correct predictions)")


@check("float16 and bfloat16 logits are upcast: a float32 result as accurate as float32 math")
def half_precision(run):
    g = torch.Generator().manual_seed(85)
    ids = torch.randint(0, 9, (1, 6), generator=g)
    for dtype in (torch.bfloat16, torch.float16):
        lgh = (torch.randn(1, 6, 9, generator=g) * 3).to(dtype)
        out = run(V.ppl, CORPUS, lgh, ids)["out"]
        expect_tensor(out, "corpus_perplexity returns a tensor")
        expect(out.dtype == torch.float32, "float16 / bfloat16 logits are upcast to float32 (the result is float32)",
               f"{dtype} logits: your code returned dtype {out.dtype}")
        expect_close(out, oracle_corpus(lgh, ids), f"upcast {dtype} logits to float32 before the log-softmax: in "
                     "half precision it loses about 3 significant digits", rtol=1e-5,
                     what=f"corpus_perplexity({dtype} logits)")


@check("the inputs are left unchanged, and float64 logits give a float64 result")
def no_mutation_dtype(run):
    lg, ids, mask = random_batch(90, dtype=torch.float64)
    for fn in (SEQ, CORPUS):
        got = run(V.ppl, fn, lg.clone(), ids.clone(), mask.clone())
        for name, before, after in zip(("logits", "input_ids", "attention_mask"), (lg, ids, mask), got["inputs_after"]):
            expect(isinstance(after, torch.Tensor) and torch.equal(after, before), f"{fn} must not modify {name}",
                   f"{name} changed during the call")
        out = got["out"]
        expect_tensor(out, f"{fn} returns a tensor")
        want = (oracle_seq if fn == SEQ else oracle_corpus)(lg, ids, mask)
        expect_close(out, want, "perplexity = exp(mean NLL of the counted next-token targets)", rtol=1e-10,
                     atol=1e-12, what=f"{fn} in float64")
        expect(out.dtype == torch.float64, "float64 logits give a float64 result (do not downcast)",
               f"{fn}: your code returned dtype {out.dtype}")


@probe
def corpus_grad(sub, logits, ids, mask):
    x = logits.clone().requires_grad_(True)
    out = sub.corpus_perplexity(x, ids, attention_mask=mask)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        return {"grad": None}
    out.backward()
    return {"grad": x.grad}


@check("corpus_perplexity is differentiable: its gradient matches the oracle's (float64)")
def gradient(run):
    lg, ids, mask = random_batch(100, dtype=torch.float64, scale=1.0)
    got = run(corpus_grad, lg, ids, mask)
    expect(got["grad"] is not None, "keep the perplexity a differentiable function of the logits (no .item(), no "
           "torch.no_grad, no numpy)", "the result does not require grad for logits that do")
    x = lg.clone().requires_grad_(True)
    oracle_corpus(x, ids, mask).backward()
    expect_close(got["grad"], x.grad, "d PPL / d logits = PPL * d mean NLL / d logits; padding gets zero gradient",
                 rtol=1e-7, atol=1e-10, what="gradient of corpus_perplexity")


# --------------------------------------------------------------------------------------------
# Sliding window
# --------------------------------------------------------------------------------------------

def sliding_case(run, N, max_length, stride, seed, rule, vocab=7):
    lm = V.ToyCausalLM(vocab=vocab, max_length=max_length, seed=seed)
    ids = torch.randint(0, vocab, (N,), generator=torch.Generator().manual_seed(1000 + seed))
    got = run(V.sliding, lm, ids, max_length, stride)
    what = f"sliding_window_perplexity(N={N}, max_length={max_length}, stride={stride})"
    V.expect_windows(got, ids, [(b, e) for b, e, _ in windows(N, max_length, stride)],
                     "windows begin at 0, stride, 2 * stride, ... and end at min(begin + max_length, N); the "
                     "loop stops after the first window that reaches N", what)
    value = V.number(got["ppl"], "sliding_window_perplexity returns a float", what)
    expect_close(value, oracle_sliding(lm, ids, max_length, stride), rule, rtol=2e-5, what=what)


SLIDE_RULE = ("in the window [b, e), score positions max(previous e, b + 1) .. e - 1 with the window's logits at "
              "t - b - 1, each token once; PPL = exp(total NLL / exact number of scored tokens)")


@check("sliding_window_perplexity agrees with the guide's windows and exact token counts (random streams)", points=2)
def sliding_random(run):
    g = torch.Generator().manual_seed(110)
    for seed in range(8):
        N = int(torch.randint(2, 60, (1,), generator=g))
        L = int(torch.randint(2, 17, (1,), generator=g))
        s = int(torch.randint(1, L, (1,), generator=g)) if L > 1 else 1
        sliding_case(run, N, L, s, seed, SLIDE_RULE)


@check("overlapping windows score each token once, with every window's count exact (not labels - 1)")
def sliding_overlap(run):
    for N, L, s, seed in ((30, 8, 4, 1), (25, 6, 5, 2), (12, 5, 1, 3)):
        sliding_case(run, N, L, s, seed, "when windows overlap, a window's targets are only the tokens after the "
                     "previous window's end -- all of them are scored (count end - previous end, not one less) and "
                     "none twice")


@check("stride == max_length gives disjoint chunks whose first tokens are not scored")
def sliding_disjoint(run):
    for N, L, seed in ((24, 6, 4), (25, 6, 5), (13, 4, 6)):
        sliding_case(run, N, L, L, seed, "with stride == max_length the windows do not overlap; a window's first "
                     "token has no context inside the window and is not scored (only the text's token 0 ... and each "
                     "chunk's first token go unscored)")


@check("short texts: one window when the text fits, and length-2 texts")
def sliding_short(run):
    for N, L, s, seed, rule in (
            (2, 2, 1, 7, "a 2-token text is one window with one scored token"),
            (2, 8, 3, 8, "a 2-token text is one window with one scored token"),
            (9, 9, 4, 9, "a text exactly max_length long is one window, every token after the first scored"),
            (10, 16, 16, 10, "a text shorter than max_length is one window, every token after the first scored"),
            (5, 4, 3, 11, "the last window may overlap the previous one almost entirely: [3:5] scores only token 4 "
                          "-- exactly 1 token, counted as 1")):
        sliding_case(run, N, L, s, seed, rule)
