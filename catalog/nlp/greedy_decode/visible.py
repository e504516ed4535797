"""Visible checks: greedy decoding on language models small enough to follow by hand.

``step_fn`` is always one of the toy models below.  ``BigramLM`` looks only at the last token
of each prefix and reads its next-token probabilities from a table; ``ToyLM`` (used by the
hidden checks too) draws a random distribution for every whole prefix, from a seeded hash of it.
Token ids in the visible checks: 0 = <pad>, 1 = <eos>, 2 = "a", 3 = "b", 4 = "c".
"""
import math

import torch

from mlkata.checks import Fail, check, describe, probe

PAD, EOS, A, B, C = 0, 1, 2, 3, 4


def _check_prefixes(prefixes, vocab):
    if not isinstance(prefixes, torch.Tensor) or prefixes.dim() != 2 or prefixes.dtype != torch.long:
        got = (f"a tensor of shape {list(prefixes.shape)} and dtype {prefixes.dtype}"
               if isinstance(prefixes, torch.Tensor) else type(prefixes).__name__)
        raise ValueError(f"step_fn takes a LongTensor of prefixes of shape [n, t]; it was given {got}")
    bad = prefixes[(prefixes < 0) | (prefixes >= vocab)]
    if bad.numel():
        raise ValueError(f"step_fn was given token id {int(bad[0])}, outside the vocabulary 0..{vocab - 1}")


class BigramLM:
    """``step_fn`` whose next-token probabilities depend on the last token only:
    ``table[last]`` is a list of ``vocab`` probabilities (0 allowed: log-prob -inf)."""

    def __init__(self, table: dict):
        self.table = {int(k): [float(p) for p in v] for k, v in table.items()}
        self.vocab = len(next(iter(self.table.values())))

    def row(self, prefix) -> torch.Tensor:
        probs = self.table[int(prefix[-1])]
        return torch.tensor([math.log(p) if p > 0 else -math.inf for p in probs])

    def __call__(self, prefixes: torch.Tensor) -> torch.Tensor:
        _check_prefixes(prefixes, self.vocab)
        return torch.stack([self.row(p) for p in prefixes.tolist()])       # (n, vocab) float32


class ToyLM:
    """``step_fn`` of a random language model that reads the whole prefix: the next-token
    log-probs of a prefix are log_softmax(spread * randn(vocab) + bias), randn seeded by a hash
    of (seed, prefix).  ``bias`` adds ``eos_bias`` to ``eos_id``'s logit and ``-inf`` to the
    ``banned`` ids.  Each row is computed on its own, so batching never changes a value."""

    def __init__(self, vocab: int, seed: int, eos_id: int = EOS, eos_bias: float = 0.0, spread: float = 2.0,
                 banned=(), dtype=torch.float32):
        self.vocab, self.seed, self.spread, self.dtype = vocab, seed, spread, dtype
        self.bias = torch.zeros(vocab, dtype=torch.float64)
        self.bias[eos_id] += eos_bias
        for b in banned:
            self.bias[b] = -math.inf

    def row(self, prefix) -> torch.Tensor:
        h = self.seed + 1
        for tok in prefix:
            h = (h * 6364136223846793005 + int(tok) + 1442695040888963407) % (2**63 - 25)
        g = torch.Generator().manual_seed(h)
        logits = torch.randn(self.vocab, generator=g, dtype=torch.float64) * self.spread + self.bias
        return torch.log_softmax(logits, dim=0).to(self.dtype)                # (vocab,)

    def __call__(self, prefixes: torch.Tensor) -> torch.Tensor:
        _check_prefixes(prefixes, self.vocab)
        return torch.stack([self.row(p) for p in prefixes.tolist()])       # (n, vocab)


@probe
def decode(sub, lm, prompts, max_new_tokens, eos_id, pad_id, record=False):
    """Run the learner's greedy_decode with ``lm`` as step_fn; report the tokens, the prompts
    afterwards and, when ``record``, every prefix batch step_fn was given."""
    calls = []

    def step_fn(prefixes):
        if record:
            calls.append(prefixes.clone() if isinstance(prefixes, torch.Tensor) else type(prefixes).__name__)
        return lm(prefixes)

    out = sub.greedy_decode(step_fn, prompts, max_new_tokens, eos_id, pad_id)
    return {"out": out, "calls": calls, "prompts_after": prompts}


def tokens(got, n, what, rule="greedy_decode returns a LongTensor [n, L] of the generated tokens"):
    """Judge side: ``got["out"]`` as a 2-D int64 tensor with n rows."""
    out = got["out"]
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or out.size(0) != n or out.dtype != torch.long:
        raise Fail(rule, f"{what}: expected a LongTensor of shape [{n}, L], your code returned {describe(out)}")
    return out


def expect_tokens(got, want, rule, what):
    """Exact equality of the generated tokens, shown row by row."""
    want = torch.as_tensor(want, dtype=torch.long).reshape(len(want), -1)
    out = tokens(got, want.size(0), what)
    if out.shape != want.shape or not torch.equal(out, want):
        rows = [i for i in range(want.size(0)) if i >= out.size(0) or out[i].tolist() != want[i].tolist()]
        i = rows[0] if rows else 0
        raise Fail(rule, f"{what}: expected shape {list(want.shape)}, your code returned {list(out.shape)}; "
                         f"row {i}:\n  expected {want[i].tolist()}\n  produced {out[i].tolist()}")


# After "a": "b" (0.6); after "b": "c" (0.5); after "c": <eos> (0.7); <eos> and <pad> lead anywhere.
CHAIN = BigramLM({PAD: [0.2, 0.2, 0.2, 0.2, 0.2], EOS: [0.2, 0.2, 0.2, 0.2, 0.2],
                  A: [0.0, 0.1, 0.1, 0.6, 0.2], B: [0.0, 0.2, 0.2, 0.1, 0.5], C: [0.0, 0.7, 0.1, 0.1, 0.1]})


@check("takes the most likely token at every step and stops after generating <eos> (kept in the output)")
def follows_the_argmax(run):
    got = run(decode, CHAIN, torch.tensor([[C, A]]), 10, EOS, PAD)
    expect_tokens(got, [[B, C, EOS]], "append argmax of step_fn's log-probs each step; stop once <eos> is "
                  "generated and return only the generated tokens, <eos> included", "greedy_decode(prompt [c, a])")


@check("a batch decodes together: a sequence that has finished is padded with pad_id while the others go on")
def pads_finished_rows(run):
    prompts = torch.tensor([[A, A], [B, C], [C, B]])
    got = run(decode, CHAIN, prompts, 10, EOS, PAD)
    want = [[B, C, EOS], [EOS, PAD, PAD], [C, EOS, PAD]]
    expect_tokens(got, want, "each row stops at its own <eos>; later positions hold pad_id; the result is as long "
                  "as the longest row", "greedy_decode(prompts [[a, a], [b, c], [c, b]])")


@check("without <eos>, exactly max_new_tokens tokens are generated")
def stops_at_max_new_tokens(run):
    loop = BigramLM({PAD: [0.0, 0.1, 0.3, 0.3, 0.3], EOS: [0.0, 0.1, 0.3, 0.3, 0.3],
                     A: [0.0, 0.1, 0.1, 0.7, 0.1], B: [0.0, 0.1, 0.7, 0.1, 0.1], C: [0.0, 0.1, 0.1, 0.1, 0.7]})
    got = run(decode, loop, torch.tensor([[A], [C]]), 4, EOS, PAD)
    expect_tokens(got, [[B, A, B, A], [C, C, C, C]], "stop after max_new_tokens steps even if no row has "
                  "generated <eos>", "greedy_decode(prompts [[a], [c]], max_new_tokens=4)")


@check("step_fn gets the whole batch each step: prompt + tokens so far, finished rows continued with pad_id")
def step_fn_sees_prefixes(run):
    prompts = torch.tensor([[A, A], [B, C]])
    got = run(decode, CHAIN, prompts, 10, EOS, PAD, record=True)
    want = [prompts, torch.tensor([[A, A, B], [B, C, EOS]]), torch.tensor([[A, A, B, C], [B, C, EOS, PAD]])]
    rule = ("call step_fn once per step with a LongTensor [n, t] of all n prefixes (prompt followed by the "
            "generated tokens, pad_id after a row's <eos>); stop calling once every row has finished")
    calls = got["calls"]
    if len(calls) != len(want):
        raise Fail(rule, f"step_fn was called {len(calls)} times, expected {len(want)} (3 steps, the last one "
                         "generating row 0's <eos>)")
    for k, (c, w) in enumerate(zip(calls, want)):
        if not isinstance(c, torch.Tensor) or c.shape != w.shape or not torch.equal(c, w):
            raise Fail(rule, f"call {k}: expected prefixes {w.tolist()}, step_fn was given "
                             f"{c.tolist() if isinstance(c, torch.Tensor) else c}")
