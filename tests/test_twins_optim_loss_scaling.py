"""Library twins of optim/loss_scaling: the grader's own state machine agrees with
``torch.amp.GradScaler("cpu")`` on random overflow patterns, the reference agrees with GradScaler
on every grader scenario, and the scenarios test what they claim (the float16 runs really
overflow; the explicit-unscale run never does, so it isolates unscaling).

GradScaler keeps the scale in a float32 tensor and skips a growth that would overflow float32 (its
scale saturates at 2**127); the exercise's scale is a Python float.  The patterns here keep the scale
far below that ceiling, where the two cannot differ."""
import math
import random
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "optim" / "loss_scaling.py"), "_twin_ref_loss_scaling")
GRADER = load_module(str(ROOT / "graders" / "optim" / "loss_scaling.py"), "_twin_grader_loss_scaling")
V = GRADER.V

SETTINGS = [{"init_scale": 2.0 ** 10, "growth_interval": 2},
            {"init_scale": 100.0, "growth_factor": 3.0, "backoff_factor": 0.2, "growth_interval": 4},
            {"init_scale": 2.0 ** 16, "growth_interval": 1}, {}]


class _Opt:
    def __init__(self, p):
        self.param_groups = [{"params": [p]}]

    def step(self):
        pass


@pytest.mark.parametrize("kwargs", SETTINGS, ids=GRADER.show)
def test_grader_state_machine_matches_gradscaler(kwargs):
    rng = random.Random(3)
    pattern = [rng.random() < 0.3 for _ in range(150)]
    scaler = torch.amp.GradScaler("cpu", **kwargs)
    p = torch.zeros(1, requires_grad=True)
    scales, trackers = [], []
    for overflow in pattern:
        p.grad = None
        scaler.scale(p.sum()).backward()
        if overflow:
            p.grad[0] = math.inf
        scaler.step(_Opt(p))
        scaler.update()
        scales.append(scaler.get_scale())
        trackers.append(scaler.state_dict()["_growth_tracker"])
    want_scales, want_trackers = GRADER.machine(pattern, **kwargs)
    assert max(want_scales) < 2.0 ** 100            # far from GradScaler's float32 ceiling
    assert trackers == want_trackers
    assert scales == pytest.approx(want_scales, rel=1e-6)



@pytest.mark.parametrize("kwargs,inject", GRADER.INJECTED)
def test_reference_matches_gradscaler_with_injected_overflows(kwargs, inject):
    problem = V.make_problem(0)
    want = GRADER.torch_loop(problem, kwargs, 30, inject)
    got = V.run_loop(lambda: REF.DynamicLossScaler(**kwargs), problem, 30, inject)
    assert got["stepped"] == want["stepped"] and got["tracker"] == want["tracker"]
    assert got["scale"] == pytest.approx(want["scale"], rel=1e-6)
    torch.testing.assert_close(got["params"], want["params"])


@pytest.mark.parametrize("seed,kwargs,n", [(1, {"init_scale": 2.0 ** 24, "growth_interval": 4}, 25),
                                           (2, {"init_scale": 2.0 ** 20, "growth_interval": 2, "growth_factor": 4.0}, 25),
                                           (3, {"init_scale": 2.0 ** 20, "growth_interval": 2}, 16)])
def test_float16_scenarios_really_overflow_and_the_reference_follows(seed, kwargs, n):
    problem = V.make_problem(seed, half=True)
    want = GRADER.torch_loop(problem, kwargs, n)
    skipped = n - sum(want["stepped"])
    assert 3 <= skipped < n - 3, want["stepped"]            # genuine overflows, and genuine steps
    assert len(set(want["scale"])) >= 3                     # the scale both backs off and grows
    got = V.run_loop(lambda: REF.DynamicLossScaler(**kwargs), problem, n)
    assert got["stepped"] == want["stepped"]
    assert got["scale"] == pytest.approx(want["scale"], rel=1e-6)
    torch.testing.assert_close(got["params"], want["params"])


def test_explicit_unscale_scenario_never_overflows_and_clipping_bites():
    problem = V.make_problem(4)
    kwargs = {"init_scale": 256.0, "growth_interval": 1000}
    loose = GRADER.torch_loop(problem, kwargs, 15, None, 1e9)
    tight = GRADER.torch_loop(problem, kwargs, 15, None, 0.05)
    assert sum(loose["stepped"]) == sum(tight["stepped"]) == 15 and set(loose["scale"]) == {256.0}
    assert not torch.allclose(torch.cat([t.flatten() for t in loose["params"]]),
                              torch.cat([t.flatten() for t in tight["params"]]))
