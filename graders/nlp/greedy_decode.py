"""Hidden graders of nlp/greedy_decode: agreement with a straightforward row-by-row loop on random
toy language models, the beam-search-of-one property, the calls made to step_fn, stopping,
padding, max_new_tokens at its edges, <eos> inside prompts, ties, banned (-inf) tokens and
untouched prompts.  tests/test_twins_nlp_greedy_decode.py shows the reference agrees with
transformers' ``generate(do_sample=False)`` on a tiny random GPT-2."""
import torch

from mlkata.checks import Fail, check, expect, visible_module

V = visible_module("nlp/greedy_decode")


# --------------------------------------------------------------------------------------------
# Oracles
# --------------------------------------------------------------------------------------------

def first_argmax(row) -> int:
    values = row.tolist()
    best = max(values)
    return values.index(best)                     # the smallest id among ties


def oracle(lm, prompts, max_new_tokens, eos_id, pad_id):
    """Each row decoded on its own, then padded to the longest: a LongTensor [n, L]."""
    rows = []
    for prompt in prompts.tolist():
        prefix, out = list(prompt), []
        while len(out) < max_new_tokens and (not out or out[-1] != eos_id):
            tok = first_argmax(lm.row(prefix))
            out.append(tok)
            prefix.append(tok)
        rows.append(out)
    L = max(len(r) for r in rows)
    return torch.tensor([r + [pad_id] * (L - len(r)) for r in rows], dtype=torch.long).reshape(len(rows), L)


def beam_of_one(lm, prompt, eos_id, max_len):
    """Beam search with beam_size 1 and no length penalty (alpha 0): keep the best-scoring
    extension (summed log-prob) of the single hypothesis at every step."""
    beam = [([], 0.0)]
    for _ in range(max_len):
        tokens, score = beam[0]
        if tokens and tokens[-1] == eos_id:
            break
        row = lm.row(list(prompt) + tokens).double().tolist()
        candidates = [(tokens + [v], score + lp) for v, lp in enumerate(row)]
        beam = sorted(candidates, key=lambda h: -h[1])[:1]    # stable: the smallest id wins a tie
    return beam[0][0]


def case(seed, n=None, t0=None, vocab=None, max_new=None, eos_bias=None, **lm_kw):
    """A random (lm, prompts, max_new_tokens, eos_id, pad_id)."""
    g = torch.Generator().manual_seed(seed)
    pick = lambda lo, hi: int(torch.randint(lo, hi + 1, (), generator=g))  # noqa: E731
    n, t0, vocab = n or pick(1, 6), t0 or pick(1, 5), vocab or pick(4, 12)
    max_new = pick(1, 12) if max_new is None else max_new
    eos_id, pad_id = pick(0, vocab - 1), pick(0, vocab - 1)
    eos_bias = float(torch.empty(()).uniform_(-1.0, 2.5, generator=g)) if eos_bias is None else eos_bias
    lm = V.ToyLM(vocab, 1000 + seed, eos_id=eos_id, eos_bias=eos_bias, **lm_kw)
    prompts = torch.randint(vocab, (n, t0), generator=g)
    return lm, prompts, max_new, eos_id, pad_id


def describe_case(lm, prompts, max_new, eos_id, pad_id):
    name = f"ToyLM(vocab={lm.vocab}, seed={lm.seed})" if hasattr(lm, "seed") else f"{type(lm).__name__}(vocab={lm.vocab})"
    return (f"{name}, prompts of shape {list(prompts.shape)}, "
            f"max_new_tokens={max_new}, eos_id={eos_id}, pad_id={pad_id}")


def diagnose(out, want, prompts, eos_id, pad_id) -> str:
    if out.dim() == 2 and out.size(1) == prompts.size(1) + want.size(1) and torch.equal(out[:, :prompts.size(1)], prompts):
        return "your rows start with the prompt: return only the generated tokens"
    if out.dim() == 2 and out.size(1) > want.size(1) and torch.equal(out[:, :want.size(1)], want):
        return (f"your rows are right but {out.size(1) - want.size(1)} columns too long: stop as soon as every row "
                f"has generated eos_id")
    if out.dim() == 2 and out.size(1) < want.size(1) and torch.equal(out, want[:, :out.size(1)]):
        return "your rows stop too early: go on until EVERY row has generated eos_id (or max_new_tokens)"
    return ""


def expect_decoded(got, want, rule, what, prompts, eos_id, pad_id):
    out = V.tokens(got, want.size(0), what)
    if out.shape == want.shape and torch.equal(out, want):
        return
    i = next((i for i in range(want.size(0)) if out.size(1) != want.size(1) or not torch.equal(out[i], want[i])), 0)
    note = diagnose(out, want, prompts, eos_id, pad_id)
    raise Fail(rule, f"{what}: expected shape {list(want.shape)}, your code returned {list(out.shape)}; row {i} "
                     f"(prompt {prompts[i].tolist()}):\n  expected {want[i].tolist()}\n  produced {out[i].tolist()}"
                     + (f"\n  ({note})" if note else ""))


def run_case(run, c, rule, record=False):
    lm, prompts, max_new, eos_id, pad_id = c
    want = oracle(lm, prompts, max_new, eos_id, pad_id)
    got = run(V.decode, lm, prompts, max_new, eos_id, pad_id, record=record)
    expect_decoded(got, want, rule, describe_case(*c), prompts, eos_id, pad_id)
    return got, want


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------

AGREE = ("each step appends the argmax of step_fn's log-probs to every unfinished row and pad_id to every "
         "finished one; a row finishes when it generates eos_id; stop when all have finished or after "
         "max_new_tokens steps")


@check("agrees with a row-by-row greedy loop on random toy language models (batches of 1 to 6 prompts)", points=2)
def agrees_random(run):
    for seed in range(12):
        run_case(run, case(seed), AGREE)


@check("every row equals beam search with beam_size 1 and alpha 0 (greedy is a beam of one)")
def beam_of_one_property(run):
    for seed in (20, 21, 22):
        lm, prompts, max_new, eos_id, pad_id = case(seed, n=4, max_new=10, eos_bias=1.0)
        got = V.tokens(run(V.decode, lm, prompts, max_new, eos_id, pad_id), 4, describe_case(lm, prompts, max_new,
                                                                                              eos_id, pad_id))
        for i, prompt in enumerate(prompts.tolist()):
            want = beam_of_one(lm, prompt, eos_id, max_new)
            row = got[i].tolist()[:len(want)]
            expect(row == want and all(t == pad_id for t in got[i].tolist()[len(want):]),
                   "greedy decoding keeps the single best extension each step, exactly what a beam of one finds",
                   f"{describe_case(lm, prompts, max_new, eos_id, pad_id)}, row {i}: beam search (beam 1) gives "
                   f"{want}, your row is {got[i].tolist()}")


@check("step_fn is called once per step on all n prefixes: prompt + generated tokens, pad_id after <eos>", points=2)
def step_fn_calls(run):
    rule = ("call step_fn once per step with a LongTensor [n, t0 + step] of every row's prefix (prompt, then the "
            "tokens generated so far, pad_id after a row's eos_id); make no call once every row has finished")
    for seed in (30, 31, 32):
        c = case(seed, n=5, max_new=12, eos_bias=1.5)
        lm, prompts, max_new, eos_id, pad_id = c
        got, want = run_case(run, c, AGREE, record=True)
        calls = got["calls"]
        what = describe_case(*c)
        expect(len(calls) == want.size(1), rule, f"{what}: {want.size(1)} steps need {want.size(1)} calls of step_fn, "
                                                 f"your code made {len(calls)}")
        full = torch.cat([prompts, want], dim=1)
        for s, call in enumerate(calls):
            expected = full[:, :prompts.size(1) + s]
            if not isinstance(call, torch.Tensor) or call.shape != expected.shape or not torch.equal(call, expected):
                shown = call.tolist() if isinstance(call, torch.Tensor) else call
                raise Fail(rule, f"{what}: call {s} should get prefixes {expected.tolist()}, step_fn was given {shown}")


@check("stops as soon as every row has finished: the result is as wide as the steps taken, not max_new_tokens")
def stops_when_all_finished(run):
    for seed in (40, 41):
        c = case(seed, n=4, max_new=60, eos_bias=3.0)
        got, want = run_case(run, c, "stop when every row has generated eos_id; the result has one column per step "
                             "taken (here far fewer than max_new_tokens)", record=True)
        assert want.size(1) < 20                                       # the case ends early
        expect(len(got["calls"]) == want.size(1), "make no call of step_fn once every row has finished",
               f"{describe_case(*c)}: every row has finished after {want.size(1)} steps, your code called step_fn "
               f"{len(got['calls'])} times")


@check("max_new_tokens = 0 gives a LongTensor [n, 0] without calling step_fn; max_new_tokens = 1 one column")
def max_new_tokens_edges(run):
    lm, prompts, _, eos_id, pad_id = case(50, n=3, t0=2)
    got = run(V.decode, lm, prompts, 0, eos_id, pad_id, record=True)
    out = V.tokens(got, 3, "greedy_decode(..., max_new_tokens=0)")
    expect(out.shape == (3, 0), "with max_new_tokens = 0 nothing is generated: a LongTensor of shape [n, 0]",
           f"your result has shape {list(out.shape)}")
    expect(len(got["calls"]) == 0, "with max_new_tokens = 0 step_fn is never called",
           f"your code called it {len(got['calls'])} times")
    run_case(run, case(51, n=4, max_new=1), "max_new_tokens = 1: one step, one column")
    got, want = run_case(run, case(52, n=2, max_new=15, eos_bias=float("-inf")),
                         "when no row generates eos_id the loop runs exactly max_new_tokens steps")
    assert want.size(1) == 15


@check("eos_id inside a prompt does not finish the row: only a generated eos_id does")
def eos_in_prompt(run):
    lm, prompts, max_new, eos_id, pad_id = case(60, n=4, t0=4, max_new=8, eos_bias=0.5)
    prompts[:, 1] = eos_id
    prompts[0, -1] = eos_id                                            # even as the last prompt token
    run_case(run, (lm, prompts, max_new, eos_id, pad_id),
             "a row finishes when it GENERATES eos_id; eos_id tokens in the prompt do not count")


@check("finished rows are padded with pad_id -- whatever its value -- and the row stays finished")
def pad_id_values(run):
    for seed, pad_offset in ((70, 1), (71, 2), (72, 3)):
        lm, prompts, max_new, eos_id, _ = case(seed, n=5, vocab=8, max_new=12, eos_bias=1.0)
        pad_id = (eos_id + pad_offset) % 8
        run_case(run, (lm, prompts, max_new, eos_id, pad_id),
                 "after its eos_id a row holds pad_id (the argument, not 0) and never generates again -- a row is "
                 "finished once it has generated eos_id, not only while its last token is eos_id")


class TieLM:
    """``step_fn`` whose rows hold exact ties: log-probs of ``pattern[len(prefix) % len(pattern)]``."""

    def __init__(self, patterns):
        self.patterns = [torch.log(torch.tensor(p, dtype=torch.float32)) for p in patterns]
        self.vocab = len(patterns[0])

    def row(self, prefix):
        return self.patterns[(len(prefix) + int(prefix[0])) % len(self.patterns)]

    def __call__(self, prefixes):
        V._check_prefixes(prefixes, self.vocab)
        return torch.stack([self.row(p) for p in prefixes.tolist()])


@check("ties are broken towards the smallest token id (as torch.argmax does)")
def ties(run):
    lm = TieLM([[0.1, 0.3, 0.1, 0.3, 0.2], [0.2, 0.2, 0.1, 0.2, 0.3], [0.4, 0.0, 0.2, 0.4, 0.0]])
    prompts = torch.tensor([[2, 0], [3, 4], [4, 4]])
    run_case(run, (lm, prompts, 6, 4, 0), "when several tokens share the largest log-prob, take the smallest id "
             "(torch.argmax returns the first maximum)")


@check("float64 log-probs and banned tokens (-inf) work: -inf is never chosen, the result stays int64")
def float64_and_banned(run):
    for seed in (80, 81):
        lm, prompts, max_new, eos_id, pad_id = case(seed, n=4, vocab=9, max_new=10, eos_bias=0.8)
        banned = [v for v in range(9) if v not in (eos_id, pad_id)][:4]
        lm = V.ToyLM(9, lm.seed, eos_id=eos_id, eos_bias=0.8, banned=banned, dtype=torch.float64, spread=50.0)
        got, _ = run_case(run, (lm, prompts, max_new, eos_id, pad_id),
                          "float64 log-probs with -inf for banned tokens: pick the argmax, never a -inf token")
        out = got["out"]
        expect(not bool(torch.isin(out, torch.tensor(banned)).any()), "a token of log-prob -inf is never generated",
               f"banned {banned}, your tokens {out.tolist()}")


@check("the prompts tensor is left unchanged")
def prompts_unchanged(run):
    lm, prompts, max_new, eos_id, pad_id = case(90, n=3, t0=3, max_new=6)
    got = run(V.decode, lm, prompts, max_new, eos_id, pad_id)
    expect_decoded(got, oracle(lm, prompts, max_new, eos_id, pad_id), AGREE,
                   describe_case(lm, prompts, max_new, eos_id, pad_id), prompts, eos_id, pad_id)
    expect(torch.equal(got["prompts_after"], prompts), "greedy_decode must not modify prompts (build new tensors: "
           "torch.cat, or write into a clone)", f"prompts before {prompts.tolist()}, after "
                                                f"{got['prompts_after'].tolist()}")
