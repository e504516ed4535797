# CORRECT, written differently: plain Python floats and lists with math.fsum-free max-shift log-sum-exp,
# ties broken by an explicit (score, -index) key, posteriors from the forward and backward tables.
import math

import torch


def _lse(values):
    m = max(values)
    if m == -math.inf:
        return m
    return m + math.log(sum(math.exp(v - m) for v in values))


def _lists(log_start, log_trans, log_emit):
    return log_start.tolist(), log_trans.tolist(), log_emit.tolist()


def viterbi(log_start, log_trans, log_emit):
    start, trans, emit = _lists(log_start, log_trans, log_emit)
    S = len(start)
    delta = [start[j] + emit[0][j] for j in range(S)]
    pointers = []
    for row in emit[1:]:
        choices = [max(range(S), key=lambda i: (delta[i] + trans[i][j], -i)) for j in range(S)]
        delta = [delta[choices[j]] + trans[choices[j]][j] + row[j] for j in range(S)]
        pointers.append(choices)
    state = max(range(S), key=lambda j: (delta[j], -j))
    best = delta[state]
    path = [state]
    for choices in reversed(pointers):
        state = choices[state]
        path.append(state)
    return torch.tensor(path[::-1], dtype=torch.int64), best


def _alpha(start, trans, emit):
    S = len(start)
    alpha = [[start[j] + emit[0][j] for j in range(S)]]
    for row in emit[1:]:
        alpha.append([_lse([alpha[-1][i] + trans[i][j] for i in range(S)]) + row[j] for j in range(S)])
    return alpha


def forward_log_likelihood(log_start, log_trans, log_emit):
    return _lse(_alpha(*_lists(log_start, log_trans, log_emit))[-1])


def posteriors(log_start, log_trans, log_emit):
    start, trans, emit = _lists(log_start, log_trans, log_emit)
    S, T = len(start), len(emit)
    alpha = _alpha(start, trans, emit)
    beta = [[0.0] * S for _ in range(T)]
    for t in range(T - 2, -1, -1):
        beta[t] = [_lse([trans[i][j] + emit[t + 1][j] + beta[t + 1][j] for j in range(S)]) for i in range(S)]
    out = []
    for a, b in zip(alpha, beta):
        z = _lse([x + y for x, y in zip(a, b)])
        out.append([math.exp(x + y - z) for x, y in zip(a, b)])
    return torch.tensor(out, dtype=torch.float64)
