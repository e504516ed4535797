# CORRECT, written differently: the accept step walks each row in Python (the uniforms still drawn all at once, the next-token rows stacked for one multinomial), the residual uses relu and a masked division, and the loop keeps Python lists.
import torch


def residual_distribution(p, q):
    r = torch.relu(p - q)
    s = r.sum(-1, keepdim=True)
    return torch.where(s == 0, p, r / s.clamp_min(torch.finfo(p.dtype).tiny))


def speculative_accept(draft_tokens, q, p, generator):
    B, K = draft_tokens.shape
    u = torch.rand(B, K, generator=generator, dtype=p.dtype)
    counts, rows = [], []
    for b in range(B):
        n = 0
        while n < K:
            x = draft_tokens[b, n]
            if not bool(u[b, n] < p[b, n, x] / q[b, n, x]):
                break
            n += 1
        counts.append(n)
        rows.append(p[b, K] if n == K else residual_distribution(p[b, n], q[b, n]))
    nxt = torch.multinomial(torch.stack(rows), 1, generator=generator)[:, 0]
    return torch.tensor(counts, dtype=torch.long), nxt


def speculative_decode(target, draft, prompt, num_draft, max_new_tokens, generator):
    out = prompt.tolist()
    goal = len(out) + max_new_tokens
    calls = 0
    while len(out) < goal:
        proposal, qs = [], []
        for _ in range(num_draft):
            dist = draft(torch.tensor([out + proposal]))[0, -1]
            qs.append(dist)
            proposal.append(int(torch.multinomial(dist, 1, generator=generator)))
        ps = target(torch.tensor([out + proposal]))[0, len(out) - 1:]
        calls += 1
        n, nxt = speculative_accept(torch.tensor([proposal]), torch.stack(qs)[None], ps[None], generator)
        out += proposal[:int(n[0])] + [int(nxt[0])]
    return torch.tensor(out[:goal]), calls
