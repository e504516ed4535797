"""Hidden graders of vision/ddpm: the linear and cosine schedules against their formulas (and,
in tests/test_twins_vision_ddpm.py, diffusers' DDPMScheduler), the cumulative product, the forward
process with per-sample timesteps, reverse steps at random t on both schedules (x0_hat, the std of
the added noise, x_prev) with the generator's draws, no draw at t = 0, recovering x0 from the true
noise, the simple training loss with its draw order and gradient, the global RNG untouched, and
untouched inputs."""
import torch

from mlkata.checks import check, expect, expect_close, expect_equal, probe, visible_module

V = visible_module("vision/ddpm")


class ToyEps:
    """A tiny noise predictor: ``tanh(w * x_t) + 0.01 * t`` (per sample); remembers the t it saw."""

    def __init__(self, w):
        self.w = w
        self.seen_t = []

    def __call__(self, x_t, t):
        self.seen_t.append(t.clone())
        return torch.tanh(self.w * x_t) + 0.01 * t.to(x_t.dtype).reshape(-1, *([1] * (x_t.dim() - 1)))


@probe
def loss_probe(sub, x0, abar, seed, w):
    """training_loss with a ToyEps(w) whose weight requires grad; the loss, d loss / d w, the t the
    model saw, and whether the global RNG was touched."""
    before = torch.get_rng_state()
    w = w.clone().requires_grad_(True)
    model = ToyEps(w)
    loss = sub.training_loss(model, x0, abar, torch.Generator().manual_seed(seed))
    untouched = torch.equal(before, torch.get_rng_state())
    grad = torch.autograd.grad(loss, w)[0] if isinstance(loss, torch.Tensor) and loss.requires_grad else None
    return {"loss": loss, "grad": grad, "seen_t": model.seen_t, "global_untouched": untouched}


@probe
def unknown_kind(sub):
    try:
        sub.beta_schedule(10, "quadratic")
    except ValueError:
        return "ValueError"
    return "nothing raised"


@probe
def global_rng_step(sub, eps_pred, t, x_t, betas, seed):
    before = torch.get_rng_state()
    sub.ddpm_step(eps_pred, t, x_t, betas, torch.Generator().manual_seed(seed))
    return torch.equal(before, torch.get_rng_state())


def loss_oracle(x0, abar, seed, w):
    """(loss, d loss / d w, t) of the simple loss with the contract's draws (t, then eps), float64 grad."""
    g = torch.Generator().manual_seed(seed)
    t = torch.randint(0, abar.shape[0], (x0.shape[0],), generator=g)
    eps = torch.randn(x0.shape, generator=g, dtype=x0.dtype)
    a = abar[t].to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))
    w = w.clone().requires_grad_(True)
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * eps
    pred = torch.tanh(w * x_t) + 0.01 * t.to(x0.dtype).reshape(-1, *([1] * (x0.dim() - 1)))
    loss = ((pred - eps) ** 2).mean()
    return loss.detach(), torch.autograd.grad(loss, w)[0], t


@check("linear and cosine schedules agree with their formulas (T = 1000, 50, 20, 1; custom beta range), float64",
       points=2)
def schedules(run):
    # the kind left to its default ("linear") once
    for T, kind, kwargs in ((1000, None, {}), (50, "linear", {"beta_start": 1e-3, "beta_end": 0.05}),
                            (1, "linear", {})):
        got = run(V.schedule, T, kind, **kwargs)
        want = V.linear_oracle(T, kwargs.get("beta_start", 1e-4), kwargs.get("beta_end", 0.02))
        expect_close(got["betas"], want, "linear: T values evenly spaced from beta_start to beta_end, both included "
                     "(T = 1 gives [beta_start]); float64; kind defaults to 'linear'", rtol=1e-9, atol=1e-15,
                     check_dtype=True, what=f"linear betas (T = {T}" + (", kind left to its default)" if kind is None
                                                                        else ")"))
    for T in (1000, 20):
        got = run(V.schedule, T, "cosine")
        expect_close(got["betas"], V.cosine_oracle(T), "cosine: beta_t = min(1 - f((t+1)/T) / f(t/T), 0.999), "
                     "f(s) = cos((s + 0.008) / 1.008 * pi / 2)^2; float64", rtol=1e-9, atol=1e-15, check_dtype=True,
                     what=f"cosine betas (T = {T})")
    expect_equal(run(unknown_kind), "ValueError", "beta_schedule raises ValueError for an unknown kind",
                 what="beta_schedule(10, 'quadratic')")


@check("alphas_cumprod: the cumulative product of 1 - beta, in betas' dtype, betas untouched")
def cumulative(run):
    for dtype in (torch.float64, torch.float32):
        betas = (torch.rand(30, generator=torch.Generator().manual_seed(1)) * 0.2).to(dtype)
        got = run(V.cumprod, betas)
        expect_close(got["abar"], torch.cumprod(1 - betas.double(), 0).to(dtype), "abar_t = prod_{s <= t} "
                     "(1 - beta_s), same dtype as betas", rtol=1e-5 if dtype == torch.float32 else 1e-12,
                     check_dtype=True, what=f"alphas_cumprod ({dtype})")
        expect_equal(got["betas_after"], betas, "alphas_cumprod does not modify betas", what="betas after the call")


@check("q_sample on random image and vector batches, per-sample t (0 and T - 1 included), float32 and float64",
       points=2)
def noising_random(run):
    abar = torch.cumprod(1 - V.linear_oracle(1000), 0)
    for i, (shape, dtype) in enumerate((((6, 3, 4, 4), torch.float32), ((5, 7), torch.float64), ((3,), torch.float32))):
        g = torch.Generator().manual_seed(10 + i)
        x0 = torch.randn(shape, generator=g, dtype=dtype)
        noise = torch.randn(shape, generator=g, dtype=dtype)
        t = torch.randint(0, 1000, (shape[0],), generator=g)
        t[0], t[-1] = 0, 999
        got = run(V.noising, x0, t, noise, abar)
        a = abar[t].reshape(-1, *([1] * (len(shape) - 1)))
        want = (a.sqrt() * x0.double() + (1 - a).sqrt() * noise.double()).to(dtype)
        expect_close(got["x_t"], want, "x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise with each sample's own t, "
                     "broadcast over the other dims, in x0's dtype", rtol=1e-5, atol=1e-6, check_dtype=True,
                     what=f"x_t (shape {list(shape)}, {dtype})")
        for name, before, after in zip(("x0", "t", "noise", "abar"), (x0, t, noise, abar), got["after"]):
            expect_equal(after, before, "q_sample does not modify its inputs", what=f"{name} after the call")


@check("ddpm_step at random t on the linear (T = 1000) and cosine (T = 50) schedules: x0_hat, the noise's std, "
       "x_prev", points=2)
def steps_random(run):
    for i, (kind, T, t) in enumerate((("linear", 1000, 999), ("linear", 1000, 500), ("linear", 1000, 1),
                                      ("cosine", 50, 49), ("cosine", 50, 17))):
        betas = V.linear_oracle(T) if kind == "linear" else V.cosine_oracle(T)
        g = torch.Generator().manual_seed(20 + i)
        x_t, eps = torch.randn(3, 2, 4, 4, generator=g), torch.randn(3, 2, 4, 4, generator=g)
        V.expect_step(run(V.step, eps, t, x_t, betas, 100 + i), eps, t, x_t, betas, 100 + i, f"{kind} T={T}, t={t}",
                      rtol=1e-4, atol=1e-4)


@check("at t = 0 nothing is drawn from the generator and x_prev equals x0_hat")
def no_draw_at_zero(run):
    betas = V.linear_oracle(1000)
    g = torch.Generator().manual_seed(30)
    x_t, eps = torch.randn(2, 5, generator=g, dtype=torch.float64), torch.randn(2, 5, generator=g, dtype=torch.float64)
    got = run(V.step, eps, 0, x_t, betas, 31)
    V.expect_step(got, eps, 0, x_t, betas, 31, "t = 0", rtol=1e-10, atol=1e-12)
    expect(torch.equal(got["generator_state"], torch.Generator().manual_seed(31).get_state()),
           "at t = 0 the step adds no noise and draws nothing from the generator", "the generator's state changed")


@check("given the true noise, the step's x0_hat recovers x0 exactly (any t)")
def recovers_x0(run):
    betas = V.cosine_oracle(100)
    abar = torch.cumprod(1 - betas, 0)
    g = torch.Generator().manual_seed(40)
    x0 = torch.randn(2, 6, generator=g, dtype=torch.float64)
    eps = torch.randn(2, 6, generator=g, dtype=torch.float64)
    for t in (3, 60):
        x_t = abar[t].sqrt() * x0 + (1 - abar[t]).sqrt() * eps
        x_prev, x0_hat = V.pair(run(V.step, eps, t, x_t, betas, 41), x_t, f"t = {t}")
        expect_close(x0_hat, x0, "x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t) inverts the forward process",
                     rtol=1e-9, atol=1e-9, what=f"x0_hat from the true noise (t = {t})")


@check("training_loss: t drawn first, then eps, both from the generator; the loss and its gradient", points=2)
def simple_loss(run):
    abar = torch.cumprod(1 - V.linear_oracle(200), 0)
    for i, (shape, dtype) in enumerate((((8, 2, 3), torch.float32), ((5, 4), torch.float64))):
        x0 = torch.randn(shape, generator=torch.Generator().manual_seed(50 + i), dtype=dtype)
        w = torch.tensor(0.7, dtype=dtype)
        got = run(loss_probe, x0, abar, 60 + i, w)
        want_loss, want_grad, want_t = loss_oracle(x0, abar, 60 + i, w)
        seen = got["seen_t"]
        expect(isinstance(seen, list) and len(seen) == 1, "training_loss calls eps_model exactly once",
               f"eps_model was called {len(seen) if isinstance(seen, list) else seen} times")
        expect_equal(seen[0], want_t, "t = torch.randint(0, T, (B,), generator=generator) is the FIRST draw",
                     what="timesteps passed to eps_model")
        expect_close(got["loss"], want_loss, "loss = mean((eps_model(x_t, t) - eps)^2), eps = torch.randn(x0.shape, "
                     "generator=generator, dtype=x0.dtype) drawn after t", rtol=1e-5, atol=1e-7,
                     what=f"loss (x0 {list(shape)}, {dtype})")
        expect(got["grad"] is not None, "the loss is differentiable through eps_model's output (no detach, no .item())",
               "the returned loss does not require grad")
        expect_close(got["grad"], want_grad, "the loss's gradient flows through eps_model", rtol=1e-4, atol=1e-6,
                     what="d loss / d model weight")
        expect(got["global_untouched"], "draw only from the generator, never from torch's global RNG",
               "torch's global RNG state changed during training_loss")


@check("ddpm_step draws only from the generator (the global RNG is untouched); no input is modified")
def generator_and_inputs(run):
    betas = V.linear_oracle(100)
    g = torch.Generator().manual_seed(70)
    x_t, eps = torch.randn(2, 3, generator=g), torch.randn(2, 3, generator=g)
    expect(run(global_rng_step, eps, 50, x_t, betas, 71), "draw z from the generator you are given "
           "(torch.randn(..., generator=generator)), never from the global RNG", "torch's global RNG state changed")
    got = run(V.step, eps, 50, x_t, betas, 71)
    V.expect_step(got, eps, 50, x_t, betas, 71, "t = 50")
    for name, before, after in zip(("eps_pred", "x_t", "betas"), (eps, x_t, betas), got["after"]):
        expect_equal(after, before, "ddpm_step does not modify its inputs", what=f"{name} after the call")
