"""Library twins of vision/ddpm: the reference and the grader's oracles agree with diffusers'
``DDPMScheduler(beta_schedule="linear" | "squaredcos_cap_v2", variance_type="fixed_small",
clip_sample=False)`` -- its ``betas`` and ``alphas_cumprod``, ``add_noise`` (the forward process)
and ``step`` (one reverse step, the same noise drawn from the same generator: diffusers draws
``randn(shape, generator, dtype)`` only for t > 0, as the contract does).

diffusers keeps its schedule in float32 and the contract in float64, so values agree to float32
precision; the reference is fed diffusers' own betas where the step is compared."""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

diffusers = pytest.importorskip("diffusers", reason="diffusers (the test extra) is not installed")

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "vision" / "ddpm.py"), "_twin_ref_ddpm")
GRADER = load_module(str(ROOT / "graders" / "vision" / "ddpm.py"), "_twin_grader_ddpm")
V = GRADER.V
KINDS = {"linear": "linear", "cosine": "squaredcos_cap_v2"}


def scheduler(T, kind):
    s = diffusers.DDPMScheduler(num_train_timesteps=T, beta_schedule=KINDS[kind], variance_type="fixed_small",
                                clip_sample=False)
    s.set_timesteps(T)                          # every step: the previous timestep of t is t - 1
    return s


@pytest.mark.parametrize("kind", ["linear", "cosine"])
@pytest.mark.parametrize("T", [1000, 64, 2])
def test_schedules_match_diffusers(kind, T):
    s = scheduler(T, kind)
    oracle = V.linear_oracle(T) if kind == "linear" else V.cosine_oracle(T)
    for betas in (REF.beta_schedule(T, kind), oracle):
        torch.testing.assert_close(betas.float(), s.betas, rtol=1e-5, atol=1e-8)
        torch.testing.assert_close(REF.alphas_cumprod(betas).float(), s.alphas_cumprod, rtol=1e-4, atol=1e-7)


def test_q_sample_matches_add_noise():
    s = scheduler(1000, "linear")
    g = torch.Generator().manual_seed(0)
    x0, noise = torch.randn(6, 3, 8, 8, generator=g), torch.randn(6, 3, 8, 8, generator=g)
    t = torch.tensor([0, 1, 250, 500, 998, 999])
    want = s.add_noise(x0, noise, t)
    torch.testing.assert_close(REF.q_sample(x0, t, noise, s.alphas_cumprod.double()), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", ["linear", "cosine"])
@pytest.mark.parametrize("t", [0, 1, 37, 500, 999])
def test_step_matches_diffusers(kind, t):
    s = scheduler(1000, kind)
    g = torch.Generator().manual_seed(t)
    x_t, eps = torch.randn(2, 3, 4, 4, generator=g), torch.randn(2, 3, 4, 4, generator=g)
    out = s.step(eps, t, x_t, generator=torch.Generator().manual_seed(7))
    betas = s.betas.double()
    x_prev, x0_hat = REF.ddpm_step(eps, t, x_t, betas, torch.Generator().manual_seed(7))
    scale = 1 / float(s.alphas_cumprod[t]) ** 0.5             # x0_hat amplifies float32 rounding by 1/sqrt(abar_t)
    tol = dict(rtol=1e-4, atol=1e-5 * scale)
    torch.testing.assert_close(x0_hat, out.pred_original_sample, **tol)
    torch.testing.assert_close(x_prev, out.prev_sample, **tol)
    want_prev, want_x0, *_ = V.step_oracle(eps, t, x_t, betas, 7)
    torch.testing.assert_close(want_prev.float(), out.prev_sample, **tol)
    torch.testing.assert_close(want_x0.float(), out.pred_original_sample, **tol)


def test_step_at_zero_draws_nothing_in_diffusers_either():
    s = scheduler(10, "linear")
    g = torch.Generator().manual_seed(3)
    s.step(torch.randn(2, 2), 0, torch.randn(2, 2), generator=g)
    assert torch.equal(g.get_state(), torch.Generator().manual_seed(3).get_state())
