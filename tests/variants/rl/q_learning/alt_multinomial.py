# CORRECT, written differently: plain-float update; epsilon-greedy as one torch.multinomial draw from the exact action probabilities; while loops.
import torch


def q_update(Q, s, a, r, s_next, done, alpha, gamma):
    row = Q[s_next].tolist()
    td = float(r) + (0.0 if done else gamma * max(row)) - float(Q[s, a])
    Q[s, a] = float(Q[s, a]) + alpha * td
    return td


def epsilon_greedy(q_values, epsilon, generator):
    A = q_values.numel()
    greedy = (q_values == q_values.max()).double()
    probs = epsilon / A + (1.0 - epsilon) * greedy / greedy.sum()      # P(a), sums to 1
    return int(torch.multinomial(probs, 1, generator=generator))


def train_q_learning(step, reset, n_states, n_actions, episodes, alpha=0.5, gamma=0.9, epsilon=0.1,
                     max_steps=100, generator=None):
    g = generator if generator is not None else torch.Generator().manual_seed(0)
    Q = torch.zeros((n_states, n_actions), dtype=torch.float64)
    episode = 0
    while episode < episodes:
        s, t, done = reset(), 0, False
        while not done and t < max_steps:
            a = epsilon_greedy(Q[s], epsilon, g)
            s2, r, done = step(s, a)
            q_update(Q, s, a, r, s2, done, alpha, gamma)
            s, t = s2, t + 1
        episode += 1
    return Q
