"""Library twins of vision/ddim: the reference and the grader's oracles agree with diffusers'
``DDIMScheduler(clip_sample=False, set_alpha_to_one=True, steps_offset=0,
timestep_spacing="leading")`` -- ``set_timesteps`` (the leading timesteps) and ``step`` for
epsilon and v-prediction, eta = 0 and eta > 0 (the same noise from the same generator: diffusers
draws ``randn(shape, generator, dtype)`` only when eta > 0), and a whole sampling loop."""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

diffusers = pytest.importorskip("diffusers", reason="diffusers (the test extra) is not installed")

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "vision" / "ddim.py"), "_twin_ref_ddim")
GRADER = load_module(str(ROOT / "graders" / "vision" / "ddim.py"), "_twin_grader_ddim")
V = GRADER.V


def scheduler(T, n, prediction_type="epsilon", schedule="linear"):
    s = diffusers.DDIMScheduler(num_train_timesteps=T, beta_schedule=schedule, clip_sample=False,
                                set_alpha_to_one=True, steps_offset=0, timestep_spacing="leading",
                                prediction_type=prediction_type)
    s.set_timesteps(n)
    return s


@pytest.mark.parametrize("T,n", [(1000, 50), (1000, 3), (1000, 1000), (7, 7), (10, 1), (1000, 7)])
def test_timesteps_match_set_timesteps(T, n):
    assert torch.equal(REF.ddim_timesteps(T, n), scheduler(T, n).timesteps)


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("schedule", ["linear", "squaredcos_cap_v2"])
def test_step_matches_diffusers(prediction_type, eta, schedule):
    s = scheduler(1000, 20, prediction_type, schedule)
    abar = s.alphas_cumprod.double()
    k = 1000 // 20
    for i, t in enumerate(s.timesteps.tolist()[::6] + [0]):
        g = torch.Generator().manual_seed(i)
        x, out = torch.randn(2, 3, 4, generator=g), torch.randn(2, 3, 4, generator=g)
        want = s.step(out, t, x, eta=eta, generator=torch.Generator().manual_seed(100 + i))
        scale = 1 / float(abar[t]) ** 0.5
        tol = dict(rtol=1e-4, atol=2e-5 * scale)
        x_prev, x0 = REF.ddim_step(out, t, t - k, x, abar, eta, torch.Generator().manual_seed(100 + i), prediction_type)
        torch.testing.assert_close(x0, want.pred_original_sample, **tol)
        torch.testing.assert_close(x_prev, want.prev_sample, **tol)
        o_prev, o_x0, *_ = V.step_oracle(out, t, t - k, x, abar, eta, 100 + i, prediction_type)
        torch.testing.assert_close(o_prev.float(), want.prev_sample, **tol)
        torch.testing.assert_close(o_x0.float(), want.pred_original_sample, **tol)


@pytest.mark.parametrize("eta", [0.0, 0.7])
def test_sampling_loop_matches_diffusers(eta):
    n = 10
    s = scheduler(1000, n)
    abar = s.alphas_cumprod.double()
    x_T = torch.randn(2, 3, generator=torch.Generator().manual_seed(5))
    model = lambda x, t: 0.5 * torch.tanh(x) + t / 2000  # noqa: E731  (GRADER.ToyModel's formula)
    g = torch.Generator().manual_seed(9)
    x = x_T
    for t in s.timesteps.tolist():
        x = s.step(model(x, t), t, x, eta=eta, generator=g).prev_sample
    got = REF.ddim_sample(GRADER.ToyModel(), x_T, abar, n, eta, torch.Generator().manual_seed(9))
    torch.testing.assert_close(got, x, rtol=1e-4, atol=1e-4)
    oracle, _ = GRADER.sample_oracle(x_T, abar, n, eta, 9 if eta > 0 else None, "epsilon")
    torch.testing.assert_close(oracle.float(), x, rtol=1e-4, atol=1e-4)
