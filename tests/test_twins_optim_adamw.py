"""Library twins of optim/adamw: the grader's oracle (``TorchAdamW``, the functional
``torch.optim._functional.adam`` with ``decoupled_weight_decay=True``, which avoids importing
torch._dynamo) equals the class ``torch.optim.AdamW`` bit for bit; the reference agrees with
``torch.optim.AdamW`` over 50 steps on every grader setting; and the property the grader checks
(invariance to the loss scale) holds for torch's AdamW and fails for torch's Adam with L2."""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "optim" / "adamw.py"), "_twin_ref_adamw")
GRADER = load_module(str(ROOT / "graders" / "optim" / "adamw.py"), "_twin_grader_adamw")
V = GRADER.V


def _flat(ts):
    return torch.cat([t.flatten() for t in ts])


@pytest.mark.parametrize("kind", ["quadratic", "mlp"])
@pytest.mark.parametrize("hyper", GRADER.CONFIGS, ids=GRADER.show)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_oracle_and_reference_match_torch_optim_adamw(kind, hyper, dtype):
    problem = V.make_problem(kind, 3, dtype=dtype)
    want, want_states = GRADER.torch_train(problem, hyper, 50, optimizer=torch.optim.AdamW)
    oracle, oracle_states = GRADER.torch_train(problem, hyper, 50)
    assert torch.equal(_flat(want), _flat(oracle))
    for ws, os_ in zip(want_states, oracle_states):
        assert ws.keys() == os_.keys()
        for k in ws:
            assert torch.equal(ws[k], os_[k])
    ref, ref_states = GRADER.torch_train(problem, hyper, 50, optimizer=REF.AdamW)
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == torch.float64 else dict(rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ref, want, **tol)
    for ws, rs in zip(want_states, ref_states):
        assert ws.keys() == rs.keys()
        for k in ws:
            torch.testing.assert_close(torch.as_tensor(rs[k]).double(), ws[k].double(), **tol)


def test_defaults_match_torch():
    p = torch.zeros(1, requires_grad=True)
    d = torch.optim.AdamW([p]).defaults
    assert (d["lr"], d["betas"], d["eps"], d["weight_decay"], d["amsgrad"]) == (1e-3, (0.9, 0.999), 1e-8, 1e-2, False)
    assert REF.AdamW([p]).hyper == {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2,
                                    "amsgrad": False}


def test_loss_scale_invariance_separates_adamw_from_adam_l2():
    """The grader's property check: AdamW on c * L (eps * c) equals AdamW on L; Adam + L2 does not."""
    problem = V.make_problem("mlp", 40)
    hyper = {"lr": 0.05, "weight_decay": 0.2, "eps": 1e-6}
    scaled = ({**problem, "loss_scale": 1000.0}, {**hyper, "eps": 1e-3})
    for opt in (torch.optim.AdamW, REF.AdamW):
        a, _ = GRADER.torch_train(problem, hyper, 30, optimizer=opt)
        b, _ = GRADER.torch_train(*scaled, 30, optimizer=opt)
        torch.testing.assert_close(_flat(b), _flat(a), rtol=1e-6, atol=1e-9)
    a, _ = GRADER.torch_train(problem, hyper, 30, optimizer=torch.optim.Adam)
    b, _ = GRADER.torch_train(*scaled, 30, optimizer=torch.optim.Adam)
    assert not torch.allclose(_flat(a), _flat(b), rtol=1e-3)
    adamw, _ = GRADER.torch_train(problem, hyper, 30, optimizer=torch.optim.AdamW)
    assert not torch.allclose(_flat(a), _flat(adamw), rtol=1e-3)     # AdamW differs from Adam + L2
