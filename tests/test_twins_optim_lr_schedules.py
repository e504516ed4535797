"""Library twins of optim/lr_schedules: the reference and the grader's own formulas agree with
Hugging Face transformers' schedules -- the lr-lambda values of ``get_cosine_schedule_with_warmup``,
``get_cosine_with_min_lr_schedule_with_warmup(min_lr_rate=...)`` and
``get_linear_schedule_with_warmup`` (transformers/optimization.py), read through the LambdaLR they
return -- at every step up to total_steps.  Past total_steps the linear schedules still agree (both
hold 0); the cosine ones differ on purpose: transformers keeps following the cosine (the rate climbs
back up), the exercise holds min_lr_ratio.  A test pins that difference."""
import math
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

transformers = pytest.importorskip("transformers")
from transformers import (get_cosine_schedule_with_warmup, get_cosine_with_min_lr_schedule_with_warmup,  # noqa: E402
                          get_linear_schedule_with_warmup)

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "optim" / "lr_schedules.py"), "_twin_ref_lr_schedules")
GRADER = load_module(str(ROOT / "graders" / "optim" / "lr_schedules.py"), "_twin_grader_lr_schedules")

SETTINGS = [(0, 50), (7, 40), (100, 1000), (1, 2), (0, 1), (10, 10), (3, 4), (25, 300)]


def hf_multipliers(make, steps, **kwargs):
    """The multipliers a transformers scheduler applies, read from its LambdaLR."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = make(opt, **kwargs)
    return [lam(s) for s in steps for lam in sched.lr_lambdas]


@pytest.mark.parametrize("warmup,total", SETTINGS)
@pytest.mark.parametrize("num_cycles", [0.5, 1.0, 0.25, 1.5])
def test_cosine_matches_transformers(warmup, total, num_cycles):
    steps = list(range(total + 1))
    want = hf_multipliers(get_cosine_schedule_with_warmup, steps, num_warmup_steps=warmup,
                          num_training_steps=total, num_cycles=num_cycles)
    ref = [REF.cosine_with_warmup(s, warmup_steps=warmup, total_steps=total, num_cycles=num_cycles) for s in steps]
    ora = [GRADER.want_cosine(s, warmup, total, num_cycles) for s in steps]
    assert ref == pytest.approx(want, abs=1e-12)
    assert ora == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("warmup,total", SETTINGS)
@pytest.mark.parametrize("ratio", [0.0, 0.1, 0.5, 1.0])
def test_cosine_min_lr_matches_transformers(warmup, total, ratio):
    steps = list(range(total + 1))
    want = hf_multipliers(get_cosine_with_min_lr_schedule_with_warmup, steps, num_warmup_steps=warmup,
                          num_training_steps=total, min_lr_rate=ratio)
    ref = [REF.cosine_with_warmup(s, warmup_steps=warmup, total_steps=total, min_lr_ratio=ratio) for s in steps]
    ora = [GRADER.want_cosine(s, warmup, total, 0.5, ratio) for s in steps]
    assert ref == pytest.approx(want, abs=1e-12)
    assert ora == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("warmup,total", SETTINGS)
def test_linear_matches_transformers_everywhere(warmup, total):
    steps = list(range(3 * total + 5))          # far past total_steps too
    want = hf_multipliers(get_linear_schedule_with_warmup, steps, num_warmup_steps=warmup, num_training_steps=total)
    ref = [REF.linear_with_warmup(s, warmup_steps=warmup, total_steps=total) for s in steps]
    ora = [GRADER.want_linear(s, warmup, total) for s in steps]
    assert ref == pytest.approx(want, abs=1e-12)
    assert ora == pytest.approx(want, abs=1e-12)


def test_past_total_cosine_holds_where_transformers_climbs_back():
    total, warmup = 100, 10
    hf = hf_multipliers(get_cosine_with_min_lr_schedule_with_warmup, [100, 150, 190], num_warmup_steps=warmup,
                        num_training_steps=total, min_lr_rate=0.1)
    assert hf[0] == pytest.approx(0.1) and hf[1] > 0.5 and hf[2] == pytest.approx(1.0)
    ours = [REF.cosine_with_warmup(s, warmup_steps=warmup, total_steps=total, min_lr_ratio=0.1) for s in (100, 150, 190)]
    assert ours == pytest.approx([0.1, 0.1, 0.1], abs=1e-12)
    assert [GRADER.want_cosine(s, warmup, total, 0.5, 0.1) for s in (100, 150, 190)] == pytest.approx(ours, abs=1e-12)


def test_lambdalr_drives_an_optimizer_with_the_reference():
    """The multipliers plug into torch's LambdaLR: lr at step k is peak * f(k)."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=3e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: REF.cosine_with_warmup(s, warmup_steps=5, total_steps=20, min_lr_ratio=0.1))
    lrs = []
    for _ in range(25):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == 0.0 and lrs[5] == pytest.approx(3e-4) and lrs[20] == pytest.approx(3e-5)
    assert lrs[24] == pytest.approx(3e-5)
    assert math.isclose(lrs[12], 3e-4 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 7 / 15))))
