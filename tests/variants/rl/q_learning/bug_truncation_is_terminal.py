# BUG: treats the max_steps cut-off as a terminal state (done=True on the last step), so it never bootstraps there.
import torch


def q_update(Q, s, a, r, s_next, done, alpha, gamma):
    target = r if done else r + gamma * Q[s_next].max().item()
    td = target - Q[s, a].item()
    Q[s, a] += alpha * td
    return td


def epsilon_greedy(q_values, epsilon, generator):
    n = q_values.shape[0]
    if torch.rand(1, generator=generator).item() < epsilon:
        return torch.randint(0, n, (1,), generator=generator).item()
    best = (q_values == q_values.max()).nonzero().flatten()
    return best[torch.randint(0, len(best), (1,), generator=generator)].item()


def train_q_learning(step, reset, n_states, n_actions, episodes, alpha=0.5, gamma=0.9, epsilon=0.1,
                     max_steps=100, generator=None):
    if generator is None:
        generator = torch.Generator().manual_seed(0)
    Q = torch.zeros(n_states, n_actions)
    for _ in range(episodes):
        s = reset()
        for t in range(max_steps):
            a = epsilon_greedy(Q[s], epsilon, generator)
            s_next, r, done = step(s, a)
            q_update(Q, s, a, r, s_next, done or t == max_steps - 1, alpha, gamma)
            s = s_next
            if done:
                break
    return Q
