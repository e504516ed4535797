"""Visible checks: the leading timesteps for T = 10, n = 5; a deterministic step (eta = 0); the
last step to t' = -1; a step with eta = 1; and a v-prediction step."""

import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_equal, expect_tensor, probe


@probe
def timesteps(sub, T, n):
    return sub.ddim_timesteps(T, n)


@probe
def step(sub, model_output, t, prev_t, x_t, abar, eta, seed, prediction_type="epsilon"):
    """One ddim_step with a fresh generator seeded ``seed``; the generator's state afterwards."""
    g = torch.Generator().manual_seed(seed)
    out = sub.ddim_step(model_output, t, prev_t, x_t, abar, eta, g, prediction_type)
    return {"out": out, "generator_state": g.get_state(), "after": [model_output, x_t, abar]}


def step_oracle(model_output, t, prev_t, x_t, abar, eta, seed, prediction_type="epsilon"):
    """(x_prev, x0_hat, deterministic part, sigma, z) in float64."""
    abar = abar.double()
    a_t = abar[t]
    a_prev = abar[prev_t] if prev_t >= 0 else torch.tensor(1.0, dtype=torch.float64)
    x, out = x_t.double(), model_output.double()
    if prediction_type == "epsilon":
        eps, x0 = out, (x - (1 - a_t).sqrt() * out) / a_t.sqrt()
    else:
        eps, x0 = a_t.sqrt() * out + (1 - a_t).sqrt() * x, a_t.sqrt() * x - (1 - a_t).sqrt() * out
    var = (1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)
    sigma = float(eta * var.sqrt())
    det = a_prev.sqrt() * x0 + (1 - a_prev - sigma ** 2).sqrt() * eps
    if eta == 0:
        return det, x0, det, 0.0, None
    z = torch.randn(x_t.shape, generator=torch.Generator().manual_seed(seed), dtype=x_t.dtype).double()
    return det + sigma * z, x0, det, sigma, z


def pair(got, x_t, what):
    out = got["out"]
    rule = "ddim_step returns (x_prev, x0_hat), both shaped like x_t and in its dtype"
    if not isinstance(out, (list, tuple)) or len(out) != 2:
        raise Fail(rule, f"{what}: expected a pair of tensors, your code returned {describe(out)}")
    for name, v in zip(("x_prev", "x0_hat"), out):
        expect_tensor(v, rule + f" ({name})", shape=x_t.shape, dtype=x_t.dtype)
    return out


X0_RULE = {"epsilon": "epsilon: x0_hat = (x_t - sqrt(1 - abar_t) * eps_hat) / sqrt(abar_t)",
           "v_prediction": "v_prediction: x0_hat = sqrt(abar_t) * x_t - sqrt(1 - abar_t) * v"}


def expect_step(got, model_output, t, prev_t, x_t, abar, eta, seed, what, prediction_type="epsilon",
                rtol=1e-5, atol=1e-5):
    """Judge side: x0_hat; for eta > 0 the deterministic part and sigma; then x_prev; and for eta = 0
    that nothing was drawn."""
    x_prev, x0_hat = pair(got, x_t, what)
    want_prev, want_x0, det, sigma, z = step_oracle(model_output, t, prev_t, x_t, abar, eta, seed, prediction_type)
    expect_close(x0_hat, want_x0, X0_RULE[prediction_type], rtol=rtol, atol=atol, what=f"x0_hat ({what})")
    direction = ("x_prev = sqrt(abar_prev) * x0_hat + sqrt(1 - abar_prev - sigma^2) * eps_hat (+ sigma * z), "
                 "abar_prev = 1 when prev_t = -1"
                 + ("; v_prediction: eps_hat = sqrt(abar_t) * v + sqrt(1 - abar_t) * x_t"
                    if prediction_type == "v_prediction" else ""))
    if z is not None:
        diff = x_prev.double() - det
        ratio = float((diff * z).sum() / (z * z).sum())
        rest = float((diff - ratio * z).abs().max())
        expect(rest <= 1e-3 * (1 + float(det.abs().max())), direction,
               f"{what}: apart from the noise, your x_prev differs from the deterministic part by up to {rest:.6g}")
        expect(abs(ratio - sigma) <= 1e-3 * sigma + 1e-6,
               "sigma = eta * sqrt((1 - abar_prev) / (1 - abar_t)) * sqrt(1 - abar_t / abar_prev), times z = "
               "torch.randn(x_t.shape, generator=generator, dtype=x_t.dtype) drawn once",
               f"{what}: the noise you added is {ratio:.6g} * z, expected {sigma:.6g} * z")
    expect_close(x_prev, want_prev, direction, rtol=rtol, atol=atol, what=f"x_prev ({what})")
    if z is None:
        expect(torch.equal(got["generator_state"], torch.Generator().manual_seed(seed).get_state()),
               "with eta = 0 the step is deterministic: draw nothing from the generator",
               f"{what}: the generator's state changed")


def abar_linear(T):
    return torch.cumprod(1 - torch.linspace(1e-4, 0.02, T, dtype=torch.float64), 0)


@check("ddim_timesteps(10, 5) = [8, 6, 4, 2, 0] (int64)")
def leading_small(run):
    got = run(timesteps, 10, 5)
    expect_tensor(got, "ddim_timesteps returns an int64 tensor of n timesteps", shape=(5,), dtype=torch.int64)
    expect_equal(got, torch.tensor([8, 6, 4, 2, 0]), "leading spacing: (n-1)k, ..., k, 0 with k = T // n",
                 what="timesteps")


@check("a deterministic step (eta = 0) from t = 600 to t' = 400")
def deterministic(run):
    abar = abar_linear(1000)
    g = torch.Generator().manual_seed(0)
    x, eps = torch.randn(2, 4, generator=g), torch.randn(2, 4, generator=g)
    expect_step(run(step, eps, 600, 400, x, abar, 0.0, 1), eps, 600, 400, x, abar, 0.0, 1, "t=600 -> 400, eta=0")


@check("the last step to t' = -1 uses abar_{-1} = 1: x_prev = x0_hat")
def last_step(run):
    abar = abar_linear(1000)
    g = torch.Generator().manual_seed(2)
    x, eps = torch.randn(3, generator=g), torch.randn(3, generator=g)
    got = run(step, eps, 20, -1, x, abar, 0.0, 3)
    expect_step(got, eps, 20, -1, x, abar, 0.0, 3, "t=20 -> -1, eta=0")


@check("eta = 1 from t = 500 to t' = 300 adds sigma times the generator's noise")
def stochastic(run):
    abar = abar_linear(1000)
    g = torch.Generator().manual_seed(4)
    x, eps = torch.randn(2, 3, generator=g), torch.randn(2, 3, generator=g)
    expect_step(run(step, eps, 500, 300, x, abar, 1.0, 5), eps, 500, 300, x, abar, 1.0, 5, "t=500 -> 300, eta=1")


@check("v-prediction: x0_hat and eps_hat from the velocity")
def v_prediction(run):
    abar = abar_linear(1000)
    g = torch.Generator().manual_seed(6)
    x, v = torch.randn(2, 3, generator=g), torch.randn(2, 3, generator=g)
    expect_step(run(step, v, 700, 650, x, abar, 0.0, 7, "v_prediction"), v, 700, 650, x, abar, 0.0, 7,
                "t=700 -> 650, v_prediction", prediction_type="v_prediction")
