"""Library twins of optim/grad_accumulation: with real ``torch.optim`` optimizers (SGD with momentum,
AdamW) and ``torch.nn`` losses, the reference's accumulated training equals full-batch training,
and the grader's oracle (``full_batch_train`` with its small counting SGD) equals the same loop
driven by ``torch.optim.SGD(momentum=0.9)``."""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "optim" / "grad_accumulation.py"), "_twin_ref_grad_accumulation")
V = load_module(str(ROOT / "catalog" / "optim" / "grad_accumulation" / "visible.py"), "_twin_vis_grad_accumulation")

CASES = [("regression", [3] * 8, 4), ("regression", [1, 7, 2, 6, 5, 3, 8], 3), ("tokens", [6, 20, 3, 11, 9, 16], 2),
         ("tokens", [5, 1, 9, 4, 12], 5)]


def full_batch(problem, k, make_opt):
    model = V.build_model(problem["weights"])
    opt = make_opt(model.parameters())
    loss_fn, _ = V.LOSSES[problem["kind"]]
    b = problem["batches"]
    for s in range(0, len(b), k):
        x = torch.cat([p[0] for p in b[s:s + k]])
        y = torch.cat([p[1] for p in b[s:s + k]])
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return [p.detach() for p in model.parameters()]


OPTIMIZERS = {"sgd_momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
              "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1)}


@pytest.mark.parametrize("kind,sizes,k", CASES)
@pytest.mark.parametrize("opt_name", list(OPTIMIZERS))
def test_reference_with_torch_optim_equals_full_batch(kind, sizes, k, opt_name):
    problem = V.make_problem(kind, 5, sizes)
    model = V.build_model(problem["weights"])
    opt = OPTIMIZERS[opt_name](model.parameters())
    loss_fn, count_fn = V.LOSSES[kind]
    REF.train_with_accumulation(model, loss_fn, opt, problem["batches"], k, count_fn=count_fn)
    want = full_batch(problem, k, OPTIMIZERS[opt_name])
    torch.testing.assert_close([p.detach() for p in model.parameters()], want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind,sizes,k", CASES)
def test_oracle_optimizer_is_torch_sgd_with_momentum(kind, sizes, k):
    problem = V.make_problem(kind, 6, sizes)
    ours, _ = V.full_batch_train(problem, k)
    torch_sgd = full_batch(problem, k, lambda ps: torch.optim.SGD(ps, lr=problem["lr"], momentum=0.9))
    torch.testing.assert_close(ours, torch_sgd, rtol=1e-12, atol=1e-14)


def test_unscaled_one_over_k_is_wrong_for_token_counts():
    """The bug the exercise is about: averaging per-micro-batch token means with 1/k differs."""
    problem = V.make_problem("tokens", 7, [6, 20, 3, 11, 9, 16])
    model = V.build_model(problem["weights"])
    opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    REF.train_with_accumulation(model, V.token_loss, opt, problem["batches"], 3)   # counts rows, not tokens
    want = full_batch(problem, 3, lambda ps: torch.optim.SGD(ps, lr=0.2, momentum=0.9))
    assert not torch.allclose(torch.cat([p.detach().flatten() for p in model.parameters()]),
                              torch.cat([w.flatten() for w in want]), rtol=1e-6)
