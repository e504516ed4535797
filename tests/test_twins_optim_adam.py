"""Library twins of optim/adam: the grader's oracle (``TorchAdam``, a thin wrapper over the
functional ``torch.optim._functional.adam`` that avoids importing torch._dynamo) equals the class
``torch.optim.Adam`` bit for bit, and the reference agrees with ``torch.optim.Adam`` over 50 steps
on every grader setting, in float64 and float32."""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "optim" / "adam.py"), "_twin_ref_adam")
GRADER = load_module(str(ROOT / "graders" / "optim" / "adam.py"), "_twin_grader_adam")
V = GRADER.V


def _states_equal(a, b, exact, tol=None):
    assert a.keys() == b.keys()
    for k in a:
        x, y = torch.as_tensor(a[k]).double(), torch.as_tensor(b[k]).double()
        if exact:
            assert torch.equal(x, y), k
        else:
            torch.testing.assert_close(x, y, **tol)


@pytest.mark.parametrize("kind", ["quadratic", "mlp"])
@pytest.mark.parametrize("hyper", GRADER.CONFIGS, ids=GRADER.show)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_oracle_and_reference_match_torch_optim_adam(kind, hyper, dtype):
    problem = V.make_problem(kind, 3, dtype=dtype)
    want, want_states = GRADER.torch_train(problem, hyper, 50, optimizer=torch.optim.Adam)
    oracle, oracle_states = GRADER.torch_train(problem, hyper, 50)
    for w, o in zip(want, oracle):
        assert torch.equal(w, o)
    for ws, os_ in zip(want_states, oracle_states):
        _states_equal(ws, os_, exact=True)
    ref, ref_states = GRADER.torch_train(problem, hyper, 50, optimizer=REF.Adam)
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ref, want, **tol)
    for ws, rs in zip(want_states, ref_states):
        _states_equal(ws, rs, exact=False, tol=tol)


def test_weight_decay_equals_l2_in_torch_too():
    problem = V.make_problem("mlp", 4)
    a, _ = GRADER.torch_train(problem, {"lr": 0.05, "weight_decay": 0.2}, 30, optimizer=torch.optim.Adam)
    b, _ = GRADER.torch_train({**problem, "l2": 0.2}, {"lr": 0.05}, 30, optimizer=torch.optim.Adam)
    torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("hyper", [{"lr": -0.1}, {"eps": -1e-8}, {"weight_decay": -0.1}, {"betas": (1.0, 0.999)},
                                   {"betas": (0.9, -0.1)}])
def test_torch_and_reference_reject_the_same_settings(hyper):
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError):
        torch.optim.Adam([p], **hyper)
    with pytest.raises(ValueError):
        REF.Adam([p], **hyper)
