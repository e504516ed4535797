"""fairness/reweighing with scikit-learn: what the weights are for.

No library implements the contract itself here (AIF360's ``Reweighing`` is not installed and
works on two groups and two labels only), so the grader's oracle is a counting loop; this file
shows the weights do their job in a production learner.  A logistic regression (no penalty) on
the one-hot group alone can represent any per-group rate, so fitted with ``sample_weight`` it
predicts each group's WEIGHTED base rate: with the reweighing weights of the reference
(solutions/) and of the grader's oracle (graders/), every group gets the overall base rate
P(y) -- the model can no longer learn the group -> label dependence -- while without weights it
reproduces the groups' different base rates.  Multi-class labels go through the multinomial
model the same way.
"""
import pytest
import torch

linear_model = pytest.importorskip("sklearn.linear_model")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "fairness" / "reweighing.py"), "twins_fairness_reweighing_ref")
ORACLE = load_module(str(ROOT / "graders" / "fairness" / "reweighing.py"), "twins_fairness_reweighing_grader")


def fitted_rates(s, y, w):
    groups = torch.unique(s)
    X = (s[:, None] == groups[None, :]).double().numpy()            # one-hot group, nothing else
    model = linear_model.LogisticRegression(C=float("inf"), tol=1e-12, max_iter=10_000)
    model.fit(X, y.numpy(), sample_weight=None if w is None else w.numpy())
    return torch.from_numpy(model.predict_proba(torch.eye(len(groups), dtype=torch.float64).numpy()))


@pytest.mark.parametrize("seed", range(6))
def test_weighted_logistic_regression_predicts_one_base_rate_for_all_groups(seed):
    s, y = ORACLE.dataset(seed)
    want = ORACLE.oracle(s, y)
    ref = REF.reweighing_weights(s, y)
    torch.testing.assert_close(ref["weights"], want["weights"], rtol=1e-12, atol=1e-12)
    G = want["groups"].numel()
    for w in (ref["weights"], want["weights"]):
        torch.testing.assert_close(fitted_rates(s, y, w), want["marginal"].expand(G, -1), rtol=1e-5, atol=1e-5)
    unweighted = fitted_rates(s, y, None)
    torch.testing.assert_close(unweighted, want["rates"], rtol=1e-5, atol=1e-5)   # the groups' own base rates
    assert (unweighted - want["marginal"]).abs().max() > 0.05                    # which do differ
