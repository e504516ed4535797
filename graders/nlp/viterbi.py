"""Hidden graders of nlp/viterbi: Viterbi paths and scores against brute-force enumeration on
random small HMMs and a float64 dynamic-programming oracle on long ones; the lower-index tie rule;
-inf starts, transitions and emissions; T = 1; 1,200 steps without underflow; the forward
log-likelihood and the posteriors against enumeration and a float64 forward-backward; untouched
inputs.  tests/test_twins_nlp_viterbi.py compares with hmmlearn's CategoricalHMM."""
import math

import torch

from mlkata.checks import check, expect, expect_close, expect_equal, visible_module

V = visible_module("nlp/viterbi")


def random_hmm(seed, S, T, zeros=0.0):
    """Random log-parameters; a share ``zeros`` of the transitions made impossible (rows keep one)."""
    g = torch.Generator().manual_seed(seed)
    start = torch.rand(S, generator=g, dtype=torch.float64) + 0.05
    trans = torch.rand(S, S, generator=g, dtype=torch.float64) + 0.05
    if zeros:
        cut = torch.rand(S, S, generator=g) < zeros
        cut[torch.arange(S), torch.arange(S)] = False
        trans[cut] = 0.0
    emit = torch.rand(T, S, generator=g, dtype=torch.float64) + 0.01
    norm = lambda p: (p / p.sum(-1, keepdim=True)).log()  # noqa: E731
    return norm(start), norm(trans), emit.log()


def forward_oracle(log_start, log_trans, log_emit):
    """(alpha, beta, log-likelihood) in float64 with an explicit max-shift."""
    T, S = log_emit.shape
    log_start, log_trans, log_emit = log_start.tolist(), log_trans.tolist(), log_emit.tolist()

    def lse(values):
        m = max(values)
        return m if m == -math.inf else m + math.log(sum(math.exp(v - m) for v in values))

    alpha = [[log_start[j] + log_emit[0][j] for j in range(S)]]
    for t in range(1, T):
        alpha.append([lse([alpha[-1][i] + log_trans[i][j] for i in range(S)]) + log_emit[t][j] for j in range(S)])
    beta = [[0.0] * S]
    for t in range(T - 2, -1, -1):
        beta.insert(0, [lse([log_trans[i][j] + log_emit[t + 1][j] + beta[0][j] for j in range(S)]) for i in range(S)])
    loglik = lse(alpha[-1])
    gamma = torch.tensor([[math.exp(a + b - loglik) for a, b in zip(ar, br)] for ar, br in zip(alpha, beta)],
                         dtype=torch.float64)
    return loglik, gamma


@check("viterbi on random small HMMs equals brute-force enumeration of every path", points=2)
def viterbi_brute_force(run):
    for i, (S, T) in enumerate(((2, 6), (3, 5), (4, 4), (3, 7))):
        hmm = random_hmm(i, S, T)
        path, score, _, _ = V.brute_force(*hmm)
        V.expect_decode(run(V.decode, *hmm), *hmm, path, score, f"S={S}, T={T}")


@check("viterbi on longer random HMMs (T = 60, 200) equals a float64 dynamic-programming oracle")
def viterbi_long(run):
    for i, (S, T, zeros) in enumerate(((5, 60, 0.0), (8, 200, 0.3))):
        hmm = random_hmm(10 + i, S, T, zeros)
        path, score = V.dp_oracle(*hmm)
        V.expect_decode(run(V.decode, *hmm), *hmm, path, score, f"S={S}, T={T}", near_ties_ok=True)


@check("ties go to the lower state index: two identical states, and a uniform HMM")
def ties(run):
    log_start = torch.tensor([0.5, 0.5], dtype=torch.float64).log()
    log_trans = torch.full((2, 2), 0.5, dtype=torch.float64).log()
    log_emit = torch.full((4, 2), 0.25, dtype=torch.float64).log()         # every path equally likely
    V.expect_decode(run(V.decode, log_start, log_trans, log_emit), log_start, log_trans, log_emit,
                    torch.zeros(4, dtype=torch.int64), 4 * math.log(0.5) + 4 * math.log(0.25), "uniform HMM")
    log_start, log_trans, log_emit = random_hmm(20, 2, 6)
    start, trans = log_start.exp(), log_trans.exp()              # state 2 becomes an exact copy of state 1:
    start = torch.cat([start, start[1:]])                        # the same start weight,
    trans = torch.cat([trans, trans[1:]], 0)                     # the same transitions out,
    trans = torch.cat([trans, trans[:, 1:]], 1)                  # the same transitions in,
    emit = torch.cat([log_emit, log_emit[:, 1:]], 1)             # the same emissions
    start, trans = (start / start.sum()).log(), (trans / trans.sum(1, keepdim=True)).log()
    path, score = V.dp_oracle(start, trans, emit)
    V.expect_decode(run(V.decode, start, trans, emit), start, trans, emit, path, score, "states 1 and 2 identical")


@check("-inf start, transition and emission entries: no nan, impossible paths never chosen; T = 1")
def impossible(run):
    log_start, log_trans, log_emit = random_hmm(30, 3, 5, zeros=0.4)
    log_start[0] = -math.inf
    log_emit[2, 1] = -math.inf
    path, score, loglik, gamma = V.brute_force(log_start, log_trans, log_emit)
    V.expect_decode(run(V.decode, log_start, log_trans, log_emit), log_start, log_trans, log_emit, path, score,
                    "-inf entries")
    got = run("posteriors", log_start, log_trans, log_emit)
    expect(isinstance(got, torch.Tensor) and not bool(got.isnan().any()), "posteriors of impossible states are 0, "
           "never nan (normalise in log space)", f"your posteriors: {got}")
    expect_close(got, gamma, "gamma[t, j] = p(s_t = j | o)", rtol=1e-7, atol=1e-10, what="posteriors with -inf")
    one = random_hmm(31, 4, 1)
    path, score, _, _ = V.brute_force(*one)
    V.expect_decode(run(V.decode, *one), *one, path, score, "T = 1")


@check("1,200 steps (log p(o) far below -745, where exp underflows): the path, likelihood and posteriors")
def long_sequence(run):
    hmm = random_hmm(40, 3, 1200)
    path, score = V.dp_oracle(*hmm)
    got = run(V.decode, *hmm)
    V.expect_decode(got, *hmm, path, score, "T = 1200", near_ties_ok=True)
    loglik, gamma = forward_oracle(*hmm)
    expect_close(run("forward_log_likelihood", *hmm), loglik, "log p(o) stays finite for long sequences: "
                 "logsumexp, never a product of probabilities", rtol=1e-9, what="log-likelihood (T = 1200)")
    expect_close(run("posteriors", *hmm), gamma, "posteriors of a long sequence: alpha + beta is around log p(o) = "
                 f"{loglik:.0f}, so normalise in log space (exp first underflows to 0 / 0)", rtol=1e-6, atol=1e-9,
                 what="posteriors (T = 1200)")


@check("forward_log_likelihood on random HMMs equals the log of the sum over every path", points=2)
def forward_random(run):
    for i, (S, T, zeros) in enumerate(((2, 6, 0.0), (3, 5, 0.3), (4, 4, 0.0))):
        hmm = random_hmm(50 + i, S, T, zeros)
        _, _, loglik, _ = V.brute_force(*hmm)
        expect_close(run("forward_log_likelihood", *hmm), loglik, "log p(o) = logsumexp over paths of log p(path, o)",
                     rtol=1e-9, atol=1e-12, what=f"log-likelihood (S={S}, T={T})")


@check("posteriors on random HMMs equal enumeration (short) and forward-backward (T = 100)", points=2)
def posteriors_random(run):
    for i, (S, T) in enumerate(((3, 5), (2, 7))):
        hmm = random_hmm(60 + i, S, T)
        _, _, _, gamma = V.brute_force(*hmm)
        expect_close(run("posteriors", *hmm), gamma, "gamma[t, j] = exp(alpha[t, j] + beta[t, j] - log p(o))",
                     rtol=1e-7, atol=1e-10, what=f"posteriors (S={S}, T={T})")
    hmm = random_hmm(62, 5, 100, zeros=0.2)
    _, gamma = forward_oracle(*hmm)
    got = run("posteriors", *hmm)
    expect_close(got, gamma, "gamma from the forward and backward passes", rtol=1e-6, atol=1e-9,
                 what="posteriors (S=5, T=100)")


@check("viterbi modifies none of its inputs")
def inputs_untouched(run):
    hmm = random_hmm(70, 3, 6)
    got = run(V.decode, *hmm)
    path, score, _, _ = V.brute_force(*hmm)
    V.expect_decode(got, *hmm, path, score, "S=3, T=6")
    for name, before, after in zip(("log_start", "log_trans", "log_emit"), hmm, got["after"]):
        expect_equal(after, before, "viterbi does not modify its inputs", what=f"{name} after the call")
