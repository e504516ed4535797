# CORRECT, written differently: the split search tries every distinct midpoint with boolean masks
# and direct SSE sums (no prefix sums), the tree is grown breadth-first with an explicit queue of
# (node dict, rows, depth), and prediction routes all rows through the tree at once by index.
import torch


def _sse(r):
    return ((r - r.mean()) ** 2).sum() if r.numel() else r.new_zeros(())


def best_split(X, r):
    best = None
    for d in range(X.shape[1]):
        values = torch.unique(X[:, d])
        for a, b in zip(values[:-1].tolist(), values[1:].tolist()):
            t = (a + b) / 2
            left = X[:, d] <= t
            gain = float(_sse(r) - _sse(r[left]) - _sse(r[~left]))
            if best is None or gain > best[2] * (1 + 1e-9) + 1e-12:
                best = (d, t, gain)
    return best


def fit_tree(X, r, max_depth):
    root = {}
    queue = [(root, torch.arange(X.shape[0]), max_depth)]
    while queue:
        node, rows, depth = queue.pop(0)
        rr = r[rows]
        split = None if depth == 0 or rr.max() == rr.min() else best_split(X[rows], rr)
        if split is None:
            node["value"] = float(rr.mean())
            continue
        d, t, _ = split
        left = X[rows, d] <= t
        node.update(feature=d, threshold=t, left={}, right={})
        queue.append((node["left"], rows[left], depth - 1))
        queue.append((node["right"], rows[~left], depth - 1))
    return root


def predict_tree(tree, X):
    out = torch.zeros(X.shape[0], dtype=X.dtype)
    stack = [(tree, torch.arange(X.shape[0]))]
    while stack:
        node, rows = stack.pop()
        if "value" in node:
            out[rows] = node["value"]
            continue
        left = X[rows, node["feature"]] <= node["threshold"]
        stack += [(node["left"], rows[left]), (node["right"], rows[~left])]
    return out


def fit_gradient_boosting(X, y, n_estimators, learning_rate, max_depth):
    model = {"init": y.mean().item(), "learning_rate": learning_rate, "trees": []}
    pred = torch.full_like(y, model["init"])
    for _ in range(n_estimators):
        model["trees"].append(fit_tree(X, y - pred, max_depth))
        pred += learning_rate * predict_tree(model["trees"][-1], X)
    return model


def predict_gradient_boosting(model, X):
    total = sum((predict_tree(t, X) for t in model["trees"]), torch.zeros(X.shape[0], dtype=X.dtype))
    return model["init"] + model["learning_rate"] * total
