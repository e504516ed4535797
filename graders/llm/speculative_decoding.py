"""Hidden graders of llm/speculative_decoding: the residual on random batches; accept/reject
against the oracle (transformers' _speculative_sampling batched, the same random draws in the
same order) on random shapes, and statistically -- every output token is distributed as the
target's, acceptance happens at rate sum min(p, q), the bonus token follows p[K], the replacement
follows the residual --; the decoding loop against the oracle loop (same draws), with the
number of target and draft calls."""
import torch

from mlkata.checks import check, expect_close, expect_equal, expect_rate, expect_tensor, probe, visible_module

V = visible_module("llm/speculative_decoding")


@probe
def accept_each(sub, cases):
    return [V.accept.fn(sub, *case) for case in cases]


def simplex(g, *shape, spread=1.5):
    return torch.softmax(torch.randn(*shape, generator=g) * spread, dim=-1)


def sample_rows(probs, g):
    """One token per row of probs [..., V]: [...]."""
    flat = probs.reshape(-1, probs.size(-1))
    return torch.multinomial(flat, 1, generator=g).reshape(probs.shape[:-1])


@check("residual_distribution agrees with norm(max(0, p - q)) on random batches; p == q rows give p")
def residual_random(run):
    g = torch.Generator().manual_seed(0)
    p, q = simplex(g, 3, 4, 7), simplex(g, 3, 4, 7)
    q[1, 2] = p[1, 2]                          # one row with no residual
    got = run("residual_distribution", p, q)
    expect_tensor(got, "the residual has the shape of p", shape=p.shape)
    expect_close(got, V.oracle_residual(p, q), "max(p - q, 0) divided by its row sum; a row with p == q returns p",
                 what="residual_distribution(p, q) [3, 4, 7]")


@check("speculative_accept agrees with the oracle draw for draw (B*K uniforms first, then one multinomial) on "
       "random shapes", points=2)
def accept_exact(run):
    cases = []
    for seed, (B, K, V_) in enumerate([(5, 3, 6), (1, 1, 2), (8, 4, 10), (3, 2, 3), (16, 5, 4)]):
        g = torch.Generator().manual_seed(100 + seed)
        q, p = simplex(g, B, K, V_, spread=1.0), simplex(g, B, K + 1, V_, spread=1.0)
        cases.append((sample_rows(q, g), q, p, 1000 + seed))
    gots = run(accept_each, cases)
    for (tokens, q, p, seed), got in zip(cases, gots):
        want_n, want_next = V.oracle_accept(tokens, q, p, torch.Generator().manual_seed(seed))
        label = f"B={tokens.size(0)}, K={tokens.size(1)}, V={q.size(-1)}, generator seeded {seed}"
        expect_equal(got["n"], want_n, "accept draft k while u[b, k] < p(x)/q(x) and all earlier ones were "
                     "accepted, with u = torch.rand(B, K, generator) drawn first", what=f"n_accepted ({label})")
        expect_equal(got["next"], want_next, "next token: ONE torch.multinomial(dist, 1, generator) over rows that "
                     "hold the residual at the first rejection, or p[K] after K accepts", what=f"next_token ({label})")


@check("statistics over 20000 rows: each output token follows the target, acceptance rate is sum min(p, q), "
       "bonus ~ p[K], replacement ~ residual", points=2)
def accept_statistics(run):
    p = torch.tensor([[0.4, 0.3, 0.2, 0.1], [0.25, 0.25, 0.25, 0.25], [0.2, 0.2, 0.3, 0.3]], dtype=torch.float64)
    q = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.4, 0.1, 0.4, 0.1]], dtype=torch.float64)
    B = 20_000
    g = torch.Generator().manual_seed(7)
    tokens = sample_rows(q.expand(B, 2, 4), g)                                 # drafts drawn from q
    [got] = run(accept_each, [(tokens, q[None], p[None], 8)])
    n, nxt = got["n"], got["next"]
    expect_tensor(n, "n_accepted is [B]", shape=(B,))
    expect_tensor(nxt, "next_token is [B]", shape=(B,))
    first = torch.where(n >= 1, tokens[:, 0], nxt)
    expect_rate(int((n >= 1).sum()), B, float(torch.minimum(p[0], q[0]).sum()),
                "a draft token x is accepted with probability min(1, p(x)/q(x)), so the first is accepted at rate "
                "sum_x min(p(x), q(x)) = 0.6", what="rate of accepting the first draft token")
    for v in range(4):
        expect_rate(int((first == v).sum()), B, float(p[0, v]), "the first new token (accepted draft or "
                    "replacement) is distributed exactly as the target's p_1: that is the point of the rule",
                    what=f"rate of first new token = {v} (p_1 = {p[0].tolist()})")
    kept = n >= 1
    second = torch.where(n >= 2, tokens[:, 1], nxt)[kept]
    for v in range(4):
        expect_rate(int((second == v).sum()), int(kept.sum()), float(p[1, v]), "after an accepted first token the "
                    "second new token follows p_2", what=f"rate of second new token = {v} (p_2 = {p[1].tolist()})")
    all_in = n == 2
    for v in range(4):
        expect_rate(int((nxt[all_in] == v).sum()), int(all_in.sum()), float(p[2, v]), "after K accepts the bonus "
                    "token comes from p[K], the target's distribution after the last draft",
                    what=f"rate of bonus token = {v} (p_3 = {p[2].tolist()})")
    residual = V.oracle_residual(p[0], q[0])
    none_in = n == 0
    for v in range(4):
        expect_rate(int((nxt[none_in] == v).sum()), int(none_in.sum()), float(residual[v]), "after a rejection at "
                    "position n the replacement comes from norm(max(0, p_n - q_n)), not from p_n",
                    what=f"rate of replacement = {v} after rejecting the first draft (residual {residual.tolist()})")


def decode_case(run, V_, K, max_new, prompt, seed, noise=1.0, same=False):
    target = V.PrefixLM(V_, seed=seed)
    draft = target if same else V.PrefixLM(V_, seed=seed, noise_seed=seed + 1, noise=noise)
    got = run(V.decode, target, draft, prompt, K, max_new, seed)
    want, calls = V.oracle_decode(target, draft, prompt, K, max_new, seed)
    label = f"V={V_}, K={K}, max_new_tokens={max_new}, prompt {prompt.tolist()}, generator seeded {seed}"
    expect_equal(got["tokens"], want, "each round: K draft calls and draws, one target call on the sequence plus "
                 "the drafts (its last K + 1 rows), accept; then append the accepted drafts and the next token; stop "
                 "at max_new_tokens", what=f"tokens ({label})")
    expect_equal([got["target_calls"], got["reported_calls"]], [calls, calls], "one target call per round, and "
                 "the count returned is the number of calls made", what=f"[target calls made, reported] ({label})")
    expect_equal(got["draft_calls"], K * calls, "K draft calls per round, one per drafted token",
                 what=f"draft calls ({label})")


@check("speculative_decode agrees with the oracle loop draw for draw (several K, lengths, prompts)", points=2)
def decode_exact(run):
    for seed, (V_, K, max_new, prompt) in enumerate([(6, 3, 10, [1]), (4, 1, 7, [0, 2, 3]), (8, 4, 13, [5, 5]),
                                                      (5, 2, 1, [4])], start=20):
        decode_case(run, V_, K, max_new, torch.tensor(prompt), seed)


@check("speculative_decode with a poor draft (many rejections) and with draft = target (no rejection)")
def decode_extremes(run):
    decode_case(run, 6, 3, 9, torch.tensor([2, 1]), 30, noise=4.0)
    decode_case(run, 6, 2, 8, torch.tensor([3]), 31, same=True)
