"""Library twins of optim/sgd_momentum: the grader's oracle (``TorchSGD``, a thin wrapper over the
functional ``torch.optim._functional.sgd`` that avoids importing torch._dynamo) equals the class
``torch.optim.SGD`` bit for bit, and the reference agrees with ``torch.optim.SGD`` over 50 steps
on every grader setting -- so a torch upgrade that changes either is caught here."""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "optim" / "sgd_momentum.py"), "_twin_ref_sgd_momentum")
GRADER = load_module(str(ROOT / "graders" / "optim" / "sgd_momentum.py"), "_twin_grader_sgd_momentum")
V = GRADER.V


@pytest.mark.parametrize("kind", ["quadratic", "mlp"])
@pytest.mark.parametrize("hyper", GRADER.CONFIGS, ids=GRADER.show)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_oracle_and_reference_match_torch_optim_sgd(kind, hyper, dtype):
    problem = V.make_problem(kind, 3, dtype=dtype)
    want, want_states = GRADER.torch_train(problem, hyper, 50, optimizer=torch.optim.SGD)
    oracle, oracle_states = GRADER.torch_train(problem, hyper, 50)
    for w, o in zip(want, oracle):
        assert torch.equal(w, o)
    for ws, os_ in zip(want_states, oracle_states):
        assert ws.keys() == os_.keys()
        for k in ws:
            assert torch.equal(ws[k], os_[k])
    ref, ref_states = GRADER.torch_train(problem, hyper, 50, optimizer=REF.SGD)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ref, want, **tol)
    for ws, rs in zip(want_states, ref_states):
        assert ws.keys() == rs.keys()
        for k in ws:
            torch.testing.assert_close(rs[k], ws[k], **tol)


def test_weight_decay_equals_l2_in_torch_too():
    """The property the grader checks holds for torch.optim.SGD itself."""
    problem = V.make_problem("mlp", 4)
    hyper = {"lr": 0.05, "momentum": 0.9, "dampening": 0.2}
    a, _ = GRADER.torch_train(problem, {**hyper, "weight_decay": 0.2}, 30, optimizer=torch.optim.SGD)
    b, _ = GRADER.torch_train({**problem, "l2": 0.2}, hyper, 30, optimizer=torch.optim.SGD)
    torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("hyper", [{"lr": -0.1}, {"lr": 0.1, "momentum": -0.5}, {"lr": 0.1, "weight_decay": -1.0},
                                   {"lr": 0.1, "nesterov": True},
                                   {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}])
def test_torch_and_reference_reject_the_same_settings(hyper):
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError):
        torch.optim.SGD([p], **hyper)
    with pytest.raises(ValueError):
        REF.SGD([p], **hyper)


def test_lr_change_mid_training_matches_torch():
    p0 = torch.randn(4, dtype=torch.float64)
    grads = [torch.randn(4, dtype=torch.float64) for _ in range(4)]
    p = p0.clone().requires_grad_(True)
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    q, state = p0.clone(), {}
    for lr, g in zip([0.1, 0.1, 1.0, 0.01], grads):
        opt.param_groups[0]["lr"] = lr
        p.grad = g.clone()
        opt.step()
        REF.sgd_step(q, g, state, lr=lr, momentum=0.9)
    torch.testing.assert_close(q, p.detach(), rtol=1e-12, atol=1e-12)
