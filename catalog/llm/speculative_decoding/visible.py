"""Visible checks: the residual distribution by hand; accept/reject when the draft equals the
target (everything accepted) and when it proposes a token the target forbids (always rejected);
the decoding loop calling the target once per round."""
import math

import torch

from mlkata.checks import check, expect, expect_close, expect_equal, probe


class PrefixLM:
    """A toy language model reading the whole prefix: the logits after ``tokens[:t+1]`` are
    ``spread * randn(V)`` seeded by a hash of (seed, prefix), plus ``noise * randn(V)`` seeded by
    (noise_seed, prefix).  A draft is the target's model plus noise: similar, not equal."""

    def __init__(self, vocab, seed, spread=1.5, noise_seed=None, noise=0.0, dtype=torch.float32):
        self.vocab, self.seed, self.spread = vocab, seed, spread
        self.noise_seed, self.noise, self.dtype = noise_seed, noise, dtype

    @staticmethod
    def _normal(seed, prefix, vocab):
        h = seed + 1
        for tok in prefix:
            h = (h * 6364136223846793005 + int(tok) + 1442695040888963407) % (2**63 - 25)
        return torch.randn(vocab, generator=torch.Generator().manual_seed(h), dtype=torch.float64)

    def row(self, prefix):
        logits = self.spread * self._normal(self.seed, prefix, self.vocab)
        if self.noise:
            logits = logits + self.noise * self._normal(self.noise_seed, prefix, self.vocab)
        return torch.softmax(logits, dim=0).to(self.dtype)

    def __call__(self, tokens):
        if not (isinstance(tokens, torch.Tensor) and tokens.dim() == 2 and tokens.size(0) == 1
                and tokens.dtype == torch.long):
            raise TypeError(f"a model takes token ids [1, T] (long), got {tokens!r:.80}")
        ids = tokens[0].tolist()
        return torch.stack([self.row(ids[:t + 1]) for t in range(len(ids))]).unsqueeze(0)   # (1, T, V)


class Counted:
    """Wraps a model and counts its calls."""

    def __init__(self, model):
        self.model, self.calls = model, 0

    def __call__(self, tokens):
        self.calls += 1
        return self.model(tokens)


@probe
def accept(sub, draft_tokens, q, p, seed):
    """speculative_accept with a generator seeded by ``seed``; ``q`` and ``p`` given for one row
    are repeated for every row of ``draft_tokens`` (a large batch without sending it)."""
    B = draft_tokens.size(0)
    q, p = (t.expand(B, -1, -1) if t.size(0) == 1 else t for t in (q, p))
    n, nxt = sub.speculative_accept(draft_tokens, q, p, torch.Generator().manual_seed(seed))
    return {"n": n, "next": nxt}


@probe
def decode(sub, target, draft, prompt, num_draft, max_new_tokens, seed):
    target, draft = Counted(target), Counted(draft)
    tokens, calls = sub.speculative_decode(target, draft, prompt, num_draft, max_new_tokens,
                                           torch.Generator().manual_seed(seed))
    return {"tokens": tokens, "reported_calls": calls, "target_calls": target.calls, "draft_calls": draft.calls}


def oracle_residual(p, q):
    excess = (p - q).clamp(min=0)
    total = excess.sum(-1, keepdim=True)
    return torch.where(total > 0, excess / torch.where(total > 0, total, 1), p)


def oracle_accept(draft_tokens, q, p, g):
    """transformers' _speculative_sampling, batched, with the documented order of draws from ``g``."""
    B, K = draft_tokens.shape
    u = torch.rand(B, K, generator=g, dtype=p.dtype)
    ratio = p[:, :K].gather(-1, draft_tokens[..., None])[..., 0] / q.gather(-1, draft_tokens[..., None])[..., 0]
    n = (u < ratio).long().cumprod(-1).sum(-1)
    rows, at = torch.arange(B), n.clamp(max=K - 1)
    dist = torch.where((n == K)[:, None], p[:, K], oracle_residual(p[rows, at], q[rows, at]))
    return n, torch.multinomial(dist, 1, generator=g)[:, 0]


def oracle_decode(target, draft, prompt, K, max_new, seed):
    g = torch.Generator().manual_seed(seed)
    seq, calls = prompt.clone(), 0
    while seq.numel() < prompt.numel() + max_new:
        drafted, qs = seq, []
        for _ in range(K):
            q_i = draft(drafted[None])[0, -1]
            qs.append(q_i)
            drafted = torch.cat([drafted, torch.multinomial(q_i, 1, generator=g)])
        p = target(drafted[None])[0, -(K + 1):]
        calls += 1
        x = drafted[seq.numel():]
        n, nxt = oracle_accept(x[None], torch.stack(qs)[None], p[None], g)
        seq = torch.cat([seq, x[:int(n)], nxt])
    return seq[:prompt.numel() + max_new], calls


@check("residual_distribution by hand: norm(max(0, p - q)); p == q gives p")
def residual_by_hand(run):
    p = torch.tensor([[0.5, 0.3, 0.2], [0.25, 0.25, 0.5]])
    q = torch.tensor([[0.2, 0.6, 0.2], [0.25, 0.25, 0.5]])
    got = run("residual_distribution", p, q)
    expect_close(got, torch.tensor([[1.0, 0.0, 0.0], [0.25, 0.25, 0.5]]),
                 "p - q = [0.3, -0.3, 0]: only token 0 has mass the draft under-supplied, so the residual is "
                 "[1, 0, 0]; a row with p == q has no residual and returns p", what="residual_distribution(p, q)")


@check("a draft equal to the target: every draft token is accepted and the next token is drawn from p[K]")
def accept_all_when_equal(run):
    p = torch.tensor([[0.1, 0.6, 0.3], [0.5, 0.25, 0.25], [0.2, 0.2, 0.6]]).expand(4, 3, 3)
    draft_tokens = torch.tensor([[1, 0], [2, 2], [0, 1], [1, 1]])
    got = run(accept, draft_tokens, p[:, :2], p, 11)
    expect_equal(got["n"].tolist() if isinstance(got["n"], torch.Tensor) else got["n"], [2, 2, 2, 2],
                 "p(x) / q(x) = 1 and u < 1 always: all K tokens are accepted", what="n_accepted")
    _, want_next = oracle_accept(draft_tokens, p[:, :2], p, torch.Generator().manual_seed(11))
    expect_equal(got["next"], want_next, "after K accepts, draw the bonus token with ONE torch.multinomial on the "
                 "[B, V] matrix of p[:, K], after the B*K uniforms", what="next_token (generator seeded 11)")


@check("a draft token the target gives probability 0 is never accepted; the replacement is never that token")
def reject_impossible(run):
    p = torch.tensor([[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])[None].expand(200, 2, 3)
    q = torch.tensor([[0.9, 0.05, 0.05]])[None].expand(200, 1, 3)
    got = run(accept, torch.zeros(200, 1, dtype=torch.long), q, p, 3)
    n, nxt = got["n"], got["next"]
    expect(isinstance(n, torch.Tensor) and bool((n == 0).all()), "accept when u < p(x)/q(x): p(x) = 0 rejects "
           "always", f"n_accepted was nonzero in {int((n != 0).sum()) if isinstance(n, torch.Tensor) else '?'} of 200 rows")
    expect(isinstance(nxt, torch.Tensor) and bool((nxt != 0).all()), "the replacement comes from "
           "norm(max(0, p - q)) = [0, 0.5, 0.5], which never gives token 0",
           f"next_token was 0 in {int((nxt == 0).sum()) if isinstance(nxt, torch.Tensor) else '?'} of 200 rows")
    _, want_next = oracle_accept(torch.zeros(200, 1, dtype=torch.long), q, p, torch.Generator().manual_seed(3))
    expect_equal(nxt, want_next, "draw the 200 uniforms first, then ONE torch.multinomial over the rows' residuals",
                 what="next_token (generator seeded 3)")


@check("speculative_decode with draft = target: K + 1 tokens per round, one target call per round")
def decode_equal_models(run):
    lm = PrefixLM(5, seed=1)
    prompt = torch.tensor([0, 3])
    got = run(decode, lm, lm, prompt, 3, 9, 5)
    want, calls = oracle_decode(lm, lm, prompt, 3, 9, 5)
    expect_equal(got["target_calls"], calls, "the target is called once per round on the sequence plus the K "
                 "drafts; with draft = target every round yields K + 1 = 4 tokens, so 9 tokens take 3 rounds",
                 what="target calls")
    expect_equal(got["tokens"], want, "each round: K draft calls and multinomial draws, one target call, accept "
                 "(its uniforms, then its one multinomial); cut the surplus after max_new_tokens",
                 what="tokens (generator seeded 5)")
