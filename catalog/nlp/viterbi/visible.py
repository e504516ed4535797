"""Visible checks: the textbook weather HMM (Rainy / Sunny, observations walk, shop, clean) --
its Viterbi path, likelihood and posteriors -- and a path through an impossible transition."""
import itertools
import math

import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, expect_tensor, probe


@probe
def decode(sub, log_start, log_trans, log_emit):
    return {"out": sub.viterbi(log_start, log_trans, log_emit), "after": [log_start, log_trans, log_emit]}


def path_score(path, log_start, log_trans, log_emit):
    """log p(path, o) from nested lists (tensor indexing is ~50x slower here)."""
    s = log_start[path[0]] + log_emit[0][path[0]]
    for t in range(1, len(path)):
        s += log_trans[path[t - 1]][path[t]] + log_emit[t][path[t]]
    return s


def brute_force(log_start, log_trans, log_emit):
    """(best path with ties to the lexicographically smallest, its score, log-likelihood, posteriors), by enumeration."""
    T, S = log_emit.shape
    log_start, log_trans, log_emit = log_start.tolist(), log_trans.tolist(), log_emit.tolist()
    best, best_score, scores = None, -math.inf, {}
    for path in itertools.product(range(S), repeat=T):
        s = path_score(path, log_start, log_trans, log_emit)
        scores[path] = s
        if s > best_score:
            best, best_score = path, s
    finite = [s for s in scores.values() if s > -math.inf]
    m = max(finite)
    loglik = m + math.log(sum(math.exp(s - m) for s in finite))
    gamma = torch.zeros(T, S, dtype=torch.float64)
    for path, s in scores.items():
        if s > -math.inf:
            for t, j in enumerate(path):
                gamma[t, j] += math.exp(s - loglik)
    return torch.tensor(best), best_score, loglik, gamma


def dp_oracle(log_start, log_trans, log_emit):
    """(path, score) by a float64 Viterbi with explicit lowest-index ties (for sequences too long to enumerate)."""
    T, S = log_emit.shape
    log_start, log_trans, log_emit = log_start.tolist(), log_trans.tolist(), log_emit.tolist()
    delta = [log_start[j] + log_emit[0][j] for j in range(S)]
    back = []
    for t in range(1, T):
        row, new = [], []
        for j in range(S):
            cand = [delta[i] + log_trans[i][j] for i in range(S)]
            i_best = max(range(S), key=lambda i: (cand[i], -i))
            row.append(i_best)
            new.append(cand[i_best] + log_emit[t][j])
        back.append(row)
        delta = new
    last = max(range(S), key=lambda j: (delta[j], -j))
    path = [last]
    for row in reversed(back):
        path.append(row[path[-1]])
    return torch.tensor(path[::-1]), delta[last]


def expect_decode(got, log_start, log_trans, log_emit, want_path, want_score, what, near_ties_ok=False):
    """Judge side: the log-probability, then the path.  With ``near_ties_ok`` (long random sequences) a
    different path is accepted when it scores the same up to float rounding: two paths with the same
    factors in another order tie, and summation order decides which one rounds higher."""
    out = got["out"]
    rule = "viterbi returns (path, log_prob): an int64 (T,) tensor and a float"
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Fail(rule, f"{what}: your code returned {describe(out)}")
    path, score = out
    expect_tensor(path, rule, shape=(log_emit.shape[0],), dtype=torch.int64)
    expect_close(score, want_score, "log_prob = log p(best path, o): start + every transition + every emission of "
                 "the most probable path", rtol=1e-9, atol=1e-9, what=f"log_prob ({what})")
    if near_ties_ok and not torch.equal(path, want_path) and bool(((path >= 0) & (path < log_emit.shape[1])).all()):
        mine = path_score(path.tolist(), log_start.tolist(), log_trans.tolist(), log_emit.tolist())
        if abs(mine - want_score) <= 1e-10 * abs(want_score):
            return
    expect_equal(path, want_path, "the path maximises log p(path, o); ties go to the lower state index (the last "
                 "state and every back-pointer)", what=f"path ({what})")


# the weather HMM: states Rainy (0), Sunny (1); observations walk (0), shop (1), clean (2)
START = torch.tensor([0.6, 0.4], dtype=torch.float64).log()
TRANS = torch.tensor([[0.7, 0.3], [0.4, 0.6]], dtype=torch.float64).log()
EMIT = torch.tensor([[0.1, 0.4, 0.5], [0.6, 0.3, 0.1]], dtype=torch.float64).log()
OBS = [0, 1, 2]
LOG_EMIT = EMIT[:, OBS].T.contiguous()                      # (T, S)


@check("viterbi on the weather HMM (walk, shop, clean): Sunny, Rainy, Rainy")
def weather_viterbi(run):
    path, score, _, _ = brute_force(START, TRANS, LOG_EMIT)
    expect_decode(run(decode, START, TRANS, LOG_EMIT), START, TRANS, LOG_EMIT, path, score, "weather HMM")


@check("forward_log_likelihood on the weather HMM: the log of the sum over all 8 paths")
def weather_forward(run):
    _, _, loglik, _ = brute_force(START, TRANS, LOG_EMIT)
    expect_close(run("forward_log_likelihood", START, TRANS, LOG_EMIT), loglik, "log p(o) = logsumexp over the last "
                 "alpha; alpha[t, j] = logsumexp_i(alpha[t-1, i] + log_trans[i, j]) + log_emit[t, j]", rtol=1e-9,
                 what="log-likelihood")


@check("posteriors on the weather HMM: p(state at t | all observations), rows summing to 1")
def weather_posteriors(run):
    _, _, _, gamma = brute_force(START, TRANS, LOG_EMIT)
    expect_close(run("posteriors", START, TRANS, LOG_EMIT), gamma, "gamma[t, j] = exp(alpha[t, j] + beta[t, j] - "
                 "log p(o))", rtol=1e-7, atol=1e-10, what="posteriors")


@check("an impossible transition (-inf) is never taken and produces no nan")
def impossible_transition(run):
    trans = TRANS.clone()
    trans[1, 0] = -math.inf                                # Sunny never turns Rainy
    path, score, _, _ = brute_force(START, trans, LOG_EMIT)
    expect_decode(run(decode, START, trans, LOG_EMIT), START, trans, LOG_EMIT, path, score, "Sunny -> Rainy forbidden")
