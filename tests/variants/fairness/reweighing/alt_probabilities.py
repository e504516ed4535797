# CORRECT, written differently: Python dictionaries of probabilities P(g), P(y), P(g, y) -- the
# formula exactly as Kamiran & Calders write it -- and a one-hot matrix product for the rates.
import torch


def reweighing_weights(sensitive, labels):
    s, y = sensitive.tolist(), labels.tolist()
    n = len(s)
    groups, classes = sorted(set(s)), sorted(set(y))
    p_g = {g: s.count(g) / n for g in groups}
    p_y = {c: y.count(c) / n for c in classes}
    p_gy = {}
    for pair in zip(s, y):
        p_gy[pair] = p_gy.get(pair, 0.0) + 1 / n
    W = {(g, c): p_g[g] * p_y[c] / p_gy[g, c] if (g, c) in p_gy else 0.0 for g in groups for c in classes}
    return {"groups": torch.tensor(groups, dtype=sensitive.dtype),
            "classes": torch.tensor(classes, dtype=labels.dtype),
            "table": torch.tensor([[W[g, c] for c in classes] for g in groups], dtype=torch.float64),
            "weights": torch.tensor([W[pair] for pair in zip(s, y)], dtype=torch.float64)}


def weighted_label_rates(sensitive, labels, weights):
    groups, classes = torch.unique(sensitive), torch.unique(labels)
    A = (sensitive[:, None] == groups[None, :]).double()          # (n, G)
    B = (labels[:, None] == classes[None, :]).double()            # (n, C)
    mass = (A * weights.double()[:, None]).T @ B                  # (G, C)
    return {"groups": groups, "classes": classes, "rates": mass / mass.sum(1, keepdim=True)}
