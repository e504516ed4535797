"""Visible checks: distances of a 3-4-5 triangle, neighbours on a line (with a tie), a majority
vote, a tied vote, and a regression mean."""
import torch

from mlkata.checks import Fail, check, describe, expect_close, expect_equal, probe


@probe
def distances(sub, A, B):
    return {"out": sub.pairwise_distances(A, B), "A_after": A, "B_after": B}


@probe
def neighbours(sub, X_train, X_query, k):
    out = sub.kneighbors(X_train, X_query, k)
    if isinstance(out, (tuple, list)) and len(out) == 2:
        return {"dist": out[0], "idx": out[1]}
    return {"dist": out, "idx": None}


@probe
def predict(sub, X_train, y_train, X_query, k, task=None):
    """knn_predict(X_train, y_train, X_query, k, task); without ``task`` (its default) when None."""
    args = (X_train, y_train, X_query, k) if task is None else (X_train, y_train, X_query, k, task)
    out = sub.knn_predict(*args)
    return {"out": out, "X_train_after": X_train, "y_train_after": y_train, "X_query_after": X_query}


@probe
def raises(sub, name, *args):
    """The exception type ``sub.<name>(*args)`` raises, or None."""
    try:
        getattr(sub, name)(*args)
    except NotImplementedError:
        raise                                  # a stub is "not implemented yet", not a wrong exception
    except Exception as e:  # noqa: BLE001 - which exception is what we report
        return type(e).__name__
    return None


def indices(got, q, k, what, rule="kneighbors returns (distances (q, k), indices (q, k) int64)"):
    """Judge side: the ``(q, k)`` int64 indices of a kneighbors result."""
    idx = got["idx"]
    if not isinstance(idx, torch.Tensor) or tuple(idx.shape) != (q, k) or idx.dtype != torch.int64:
        raise Fail(rule, f"{what}: expected int64 indices of shape [{q}, {k}], your code returned {describe(idx)}")
    return idx


@check("pairwise_distances: all (A row, B row) Euclidean distances, shape (m, n)")
def triangle(run):
    A = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    B = torch.tensor([[3.0, 0.0], [0.0, 4.0], [0.0, 0.0]])
    expect_close(run(distances, A, B)["out"], torch.tensor([[3.0, 4.0, 0.0], [4.0, 3.0, 5.0]]),
                 "out[i, j] = ||A[i] - B[j]|| (the square root of the summed squared differences)",
                 what="pairwise_distances(A (2, 2), B (3, 2))")


LINE = torch.tensor([[0.0], [10.0], [2.0], [6.0], [4.0]])          # training points on a line


@check("kneighbors: the k nearest training points by increasing distance; equal distances by lower index")
def line_neighbours(run):
    got = run(neighbours, LINE, torch.tensor([[3.0], [8.0]]), 3)
    idx = indices(got, 2, 3, "kneighbors(points 0, 10, 2, 6, 4; queries 3 and 8; k=3)")
    expect_equal(idx, torch.tensor([[2, 4, 0], [1, 3, 4]]), "sort by increasing distance; the query 3 is at "
                 "distance 1 from both 2 (index 2) and 4 (index 4): the lower index comes first; the query 8 is "
                 "at distance 2 from both 10 (index 1) and 6 (index 3)", what="indices")
    expect_close(got["dist"], torch.tensor([[1.0, 1.0, 3.0], [2.0, 2.0, 4.0]]), "the distances, in increasing "
                 "order", what="distances")


@check("classification: the most frequent label among the k neighbours")
def majority(run):
    y = torch.tensor([0, 1, 0, 1, 1])
    got = run(predict, LINE, y, torch.tensor([[3.0], [7.0]]), 3)["out"]
    expect_equal(got, torch.tensor([0, 1]), "the query 3 has neighbours 2, 4, 0 (labels 0, 1, 0): label 0; the "
                 "query 7 has neighbours 6, 10, 4 (labels 1, 1, 1): label 1", what="knn_predict(k=3)")


@check("a vote tied between labels goes to the smallest label")
def tied_vote(run):
    y = torch.tensor([5, 2, 7, 9, 2])
    got = run(predict, LINE, y, torch.tensor([[1.5], [8.5]]), 2)["out"]   # labels 7 and 5; 2 and 9
    expect_equal(got, torch.tensor([5, 2]), "the neighbours of 1.5 are the points 2 (label 7, the nearer) and 0 "
                 "(label 5), one vote each: the tie goes to the smallest label, 5, not to the nearer neighbour "
                 "(and for 8.5: 10 (label 2) and 6 (label 9) give 2)", what="knn_predict(queries 1.5 and 8.5, k=2)")


@check("regression: the mean of the k neighbours' targets")
def regression_mean(run):
    y = torch.tensor([0.0, 100.0, 20.0, 60.0, 40.0])
    got = run(predict, LINE, y, torch.tensor([[3.0], [9.0]]), 2, "regression")["out"]
    expect_close(got, torch.tensor([30.0, 80.0]), "regression predicts the mean target of the k neighbours "
                 "(query 3: points 2 and 4; query 9: points 10 and 6)", what="knn_predict(k=2, regression)")
