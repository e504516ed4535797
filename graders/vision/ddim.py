"""Hidden graders of vision/ddim: leading timesteps for several (T, n); deterministic steps
(eta = 0, nothing drawn) and stochastic ones (eta = 0.5, 1: the deterministic part and sigma
separately, then x_prev) on random data, float32 and float64; eta = 1 between consecutive
timesteps equals DDPM's posterior std; v-prediction; recovering x0 from the true noise in one
jump; the whole sampler against a float64 loop (the timesteps the model saw, the draws in order);
an unknown prediction type; the global RNG and the inputs untouched."""
import math

import torch

from mlkata.checks import check, expect, expect_close, expect_equal, probe, visible_module

V = visible_module("vision/ddim")


class ToyModel:
    """``model(x, t) = 0.5 * tanh(x) + t / 2000`` as a noise (or velocity) prediction; remembers each t."""

    def __init__(self):
        self.seen = []

    def __call__(self, x, t):
        self.seen.append(t)
        return 0.5 * torch.tanh(x) + t / 2000


@probe
def sample_probe(sub, x_T, abar, n, eta, seed, prediction_type):
    before = torch.get_rng_state()
    model = ToyModel()
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    x = sub.ddim_sample(model, x_T, abar, n, eta, g, prediction_type)
    return {"x": x, "seen": model.seen, "global_untouched": torch.equal(before, torch.get_rng_state()),
            "x_T_after": x_T}


@probe
def step_defaults(sub, model_output, t, prev_t, x_t, abar):
    """ddim_step with its defaults (eta = 0, no generator, epsilon prediction)."""
    return {"out": sub.ddim_step(model_output, t, prev_t, x_t, abar), "generator_state":
            torch.Generator().manual_seed(0).get_state(), "after": [model_output, x_t, abar]}


@probe
def sample_defaults(sub, x_T, abar, n):
    """ddim_sample with its defaults (eta = 0, no generator, epsilon prediction)."""
    model = ToyModel()
    return {"x": sub.ddim_sample(model, x_T, abar, n), "seen": model.seen}


@probe
def unknown_prediction(sub, x, abar):
    try:
        sub.ddim_step(x, 5, 3, x, abar, 0.0, None, "sample_velocity")
    except ValueError:
        return "ValueError"
    return "nothing raised"


def sample_oracle(x_T, abar, n, eta, seed, prediction_type):
    """The sampler in float64 with the contract's draws; (x, timesteps)."""
    T = abar.shape[0]
    k = T // n
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    x = x_T.double()
    ts = [k * i for i in range(n - 1, -1, -1)]
    for t in ts:
        out = 0.5 * torch.tanh(x) + t / 2000
        a_t = abar[t].double()
        a_prev = abar[t - k].double() if t - k >= 0 else torch.tensor(1.0, dtype=torch.float64)
        if prediction_type == "epsilon":
            eps, x0 = out, (x - (1 - a_t).sqrt() * out) / a_t.sqrt()
        else:
            eps, x0 = a_t.sqrt() * out + (1 - a_t).sqrt() * x, a_t.sqrt() * x - (1 - a_t).sqrt() * out
        sigma = eta * float(((1 - a_prev) / (1 - a_t) * (1 - a_t / a_prev)).sqrt())
        x = a_prev.sqrt() * x0 + (1 - a_prev - sigma ** 2).sqrt() * eps
        if eta > 0:
            x = x + sigma * torch.randn(x_T.shape, generator=g, dtype=x_T.dtype).double()
    return x, ts


def cosine_abar(T):
    """abar of the cosine schedule (Nichol & Dhariwal), float64."""
    f = [math.cos((i / T + 0.008) / 1.008 * math.pi / 2) ** 2 for i in range(T + 1)]
    betas = torch.tensor([min(1 - f[i + 1] / f[i], 0.999) for i in range(T)], dtype=torch.float64)
    return torch.cumprod(1 - betas, 0)


@check("ddim_timesteps: leading spacing for (T, n) = (1000, 50), (1000, 3), (1000, 1000), (7, 7), (10, 1)")
def leading(run):
    for T, n in ((1000, 50), (1000, 3), (1000, 1000), (7, 7), (10, 1)):
        k = T // n
        want = torch.tensor([k * i for i in range(n - 1, -1, -1)], dtype=torch.int64)
        got = run(V.timesteps, T, n)
        expect_equal(got, want, "leading spacing: k = T // n, timesteps (n-1)k, ..., k, 0 (int64, decreasing)",
                     what=f"ddim_timesteps({T}, {n})")
        expect(getattr(got, "dtype", None) == torch.int64, "the timesteps are int64", f"your dtype: {got.dtype}")


@check("deterministic steps (eta = 0) on random data, float32 and float64, nothing drawn", points=2)
def deterministic_random(run):
    abar = V.abar_linear(1000)
    for i, (t, prev, dtype) in enumerate(((999, 979, torch.float32), (500, 0, torch.float64), (37, -1, torch.float32),
                                          (980, 480, torch.float64))):
        g = torch.Generator().manual_seed(10 + i)
        x, eps = torch.randn(2, 3, 4, generator=g, dtype=dtype), torch.randn(2, 3, 4, generator=g, dtype=dtype)
        tol = 1e-10 if dtype == torch.float64 else 1e-4
        V.expect_step(run(V.step, eps, t, prev, x, abar, 0.0, 20 + i), eps, t, prev, x, abar, 0.0, 20 + i,
                      f"t={t} -> {prev}, eta=0, {dtype}", rtol=tol, atol=tol)


@check("the defaults are the deterministic epsilon sampler: ddim_step and ddim_sample without eta, generator or "
       "prediction_type")
def defaults(run):
    abar = V.abar_linear(1000)
    g = torch.Generator().manual_seed(25)
    x, eps = torch.randn(2, 5, generator=g, dtype=torch.float64), torch.randn(2, 5, generator=g, dtype=torch.float64)
    V.expect_step(run(step_defaults, eps, 700, 350, x, abar), eps, 700, 350, x, abar, 0.0, 0, "defaults, t=700 -> 350",
                  rtol=1e-10, atol=1e-10)
    x_T = torch.randn(2, 3, generator=torch.Generator().manual_seed(26), dtype=torch.float64)
    got = run(sample_defaults, x_T, abar, 8)
    want, ts = sample_oracle(x_T, abar, 8, 0.0, None, "epsilon")
    expect_equal(got["seen"], ts, "ddim_sample visits the leading timesteps in decreasing order", what="timesteps")
    expect_close(got["x"], want, "with the defaults (eta = 0, epsilon prediction) sampling is deterministic",
                 rtol=1e-9, atol=1e-10, what="final x (defaults, n=8)")


@check("stochastic steps (eta = 0.5 and 1) on random data: the deterministic part, sigma and x_prev", points=2)
def stochastic_random(run):
    abar = cosine_abar(100)
    for i, (t, prev, eta) in enumerate(((99, 89, 0.5), (50, 40, 1.0), (9, -1, 1.0), (70, 0, 0.3))):
        g = torch.Generator().manual_seed(30 + i)
        x, eps = torch.randn(3, 5, generator=g), torch.randn(3, 5, generator=g)
        V.expect_step(run(V.step, eps, t, prev, x, abar, eta, 40 + i), eps, t, prev, x, abar, eta, 40 + i,
                      f"t={t} -> {prev}, eta={eta}", rtol=1e-4, atol=1e-4)


@check("eta = 1 between consecutive timesteps adds DDPM's posterior std sqrt(beta tilde)")
def eta_one_is_ddpm(run):
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    abar = torch.cumprod(1 - betas, 0)
    t = 400
    beta_tilde = float((1 - abar[t - 1]) / (1 - abar[t]) * betas[t])
    g = torch.Generator().manual_seed(50)
    x, eps = torch.randn(4, 4, generator=g, dtype=torch.float64), torch.randn(4, 4, generator=g, dtype=torch.float64)
    got = run(V.step, eps, t, t - 1, x, abar, 1.0, 51)
    x_prev, _ = V.pair(got, x, "eta=1, t=400 -> 399")
    _, _, det, sigma, z = V.step_oracle(eps, t, t - 1, x, abar, 1.0, 51)
    expect_close(sigma, math.sqrt(beta_tilde), "oracle sanity", rtol=1e-9)
    expect_close(x_prev, det + math.sqrt(beta_tilde) * z, "with eta = 1 and prev_t = t - 1, sigma^2 = (1 - abar_{t-1}) "
                 "/ (1 - abar_t) * beta_t: DDPM's posterior variance", rtol=1e-9, atol=1e-10, what="x_prev")


@check("v-prediction steps on random data (eta = 0 and eta = 1)", points=2)
def v_random(run):
    abar = V.abar_linear(1000)
    for i, (t, prev, eta) in enumerate(((900, 800, 0.0), (300, 280, 1.0), (15, -1, 0.0))):
        g = torch.Generator().manual_seed(60 + i)
        x, v = torch.randn(2, 6, generator=g, dtype=torch.float64), torch.randn(2, 6, generator=g, dtype=torch.float64)
        V.expect_step(run(V.step, v, t, prev, x, abar, eta, 70 + i, "v_prediction"), v, t, prev, x, abar, eta, 70 + i,
                      f"t={t} -> {prev}, eta={eta}, v_prediction", prediction_type="v_prediction", rtol=1e-9,
                      atol=1e-10)
    expect_equal(run(unknown_prediction, torch.zeros(2), abar), "ValueError",
                 "ddim_step raises ValueError for an unknown prediction_type", what="prediction_type='sample_velocity'")


@check("with the true noise, one eta = 0 jump from any t to t' = -1 returns x0 exactly")
def recovers_x0(run):
    abar = V.abar_linear(1000)
    g = torch.Generator().manual_seed(80)
    x0, eps = torch.randn(2, 5, generator=g, dtype=torch.float64), torch.randn(2, 5, generator=g, dtype=torch.float64)
    for t in (999, 250):
        x_t = abar[t].sqrt() * x0 + (1 - abar[t]).sqrt() * eps
        x_prev, _ = V.pair(run(V.step, eps, t, -1, x_t, abar, 0.0, 0), x_t, f"t={t} -> -1")
        expect_close(x_prev, x0, "DDIM with eta = 0 and the true noise inverts the forward process: the last step "
                     "(abar_prev = 1) returns x0_hat = x0", rtol=1e-8, atol=1e-9, what=f"x_prev (t={t} -> -1)")


@check("ddim_sample: the model sees the leading timesteps in order; the final x matches a float64 loop "
       "(eta = 0 and eta = 0.5, epsilon and v)", points=2)
def sampler(run):
    abar = V.abar_linear(1000)
    for i, (n, eta, pred) in enumerate(((10, 0.0, "epsilon"), (7, 0.5, "epsilon"), (4, 1.0, "v_prediction"))):
        x_T = torch.randn(2, 3, generator=torch.Generator().manual_seed(90 + i))
        seed = 95 + i if eta > 0 else None
        got = run(sample_probe, x_T, abar, n, eta, seed, pred)
        want, ts = sample_oracle(x_T, abar, n, eta, seed, pred)
        expect_equal(got["seen"], ts, "ddim_sample calls the model once per leading timestep, in decreasing order, "
                     "with t as a Python int", what=f"timesteps the model saw (n={n})")
        expect_close(got["x"], want.float(), "ddim_sample chains ddim_step over the timesteps, each jumping to "
                     "t - T // n (the last to -1), the noise drawn from the generator in step order", rtol=1e-4,
                     atol=1e-4, what=f"final x (n={n}, eta={eta}, {pred})")
        expect(got["global_untouched"], "draw only from the generator you are given",
               "torch's global RNG state changed during ddim_sample")
        expect_equal(got["x_T_after"], x_T, "ddim_sample does not modify x_T", what="x_T after sampling")


@check("ddim_step modifies none of its inputs")
def inputs_untouched(run):
    abar = V.abar_linear(100)
    g = torch.Generator().manual_seed(99)
    x, eps = torch.randn(2, 3, generator=g), torch.randn(2, 3, generator=g)
    got = run(V.step, eps, 60, 30, x, abar, 1.0, 5)
    V.expect_step(got, eps, 60, 30, x, abar, 1.0, 5, "t=60 -> 30, eta=1", rtol=1e-4, atol=1e-4)
    for name, before, after in zip(("model_output", "x_t", "abar"), (eps, x, abar), got["after"]):
        expect_equal(after, before, "ddim_step does not modify its inputs", what=f"{name} after the call")
