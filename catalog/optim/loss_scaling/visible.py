"""Visible checks: scale() multiplies the loss, unscale_() divides the gradients, an overflow skips
the step and backs off, growth_interval good steps grow the scale.  Also the toy problem, the
optimizer stand-in and the probes the hidden graders reuse."""
import torch

from mlkata.checks import check, expect, expect_close, probe


class PlainSGD:
    """The smallest optimizer ``DynamicLossScaler`` must drive: ``param_groups`` and ``step()``
    (plain SGD), plus ``zero_grad()``; it counts its steps."""

    def __init__(self, params, lr: float = 0.05):
        self.param_groups = [{"params": list(params), "lr": lr}]
        self.steps = 0

    def zero_grad(self):
        for p in self.param_groups[0]["params"]:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.steps += 1
        for p in self.param_groups[0]["params"]:
            if p.grad is not None:
                p.add_(p.grad, alpha=-self.param_groups[0]["lr"])


def make_problem(seed: int, half: bool = False) -> dict:
    """A small tanh MLP.  With ``half`` its first layer runs in float16 (float32 master weights),
    so large scales overflow the float16 gradients of the backward pass -- the situation loss
    scaling manages; otherwise everything is float32 and overflows are injected."""
    g = torch.Generator().manual_seed(seed)
    return {"X": torch.randn(16, 4, generator=g), "Y": torch.randn(16, 2, generator=g) * 3,
            "weights": [torch.randn(4, 8, generator=g) * 0.5, torch.randn(8, 2, generator=g) * 0.5],
            "frozen": torch.randn(3, generator=g), "lr": 0.05, "half": half}


def loss_of(problem: dict, params: list) -> torch.Tensor:
    x, w1 = problem["X"], params[0]
    if problem["half"]:      # the first layer in float16: its backward overflows at large scales
        z = (x.half() @ w1.half()).float()                          # (16, 8)
    else:
        z = x @ w1
    out = torch.tanh(z) @ params[1]                                 # (16, 2)
    return ((out - problem["Y"]) ** 2).mean()


def _backward(scaler, loss, params):
    scaler.scale(loss).backward()
    if any(p.grad is None for p in params):
        raise RuntimeError("scale(loss).backward() gave the parameters no gradient: the scaled loss must stay "
                           "in the autograd graph (return loss * scale)")


def run_loop(make_scaler, problem, n_steps, inject=None, clip=None):
    """The training loop every probe and oracle shares.  ``inject`` maps a step to a value
    (inf or nan) written into one scaled gradient after backward; with ``clip`` the loop calls
    ``unscale_`` itself and clamps the unscaled gradients into [-clip, clip] before ``step``."""
    params = [w.clone().requires_grad_(True) for w in problem["weights"]]
    frozen = problem["frozen"].clone().requires_grad_(True)         # never gets a gradient
    opt = PlainSGD(params + [frozen], problem["lr"])
    scaler = make_scaler()
    log = {"scale": [], "stepped": [], "returned": [], "tracker": [], "had_inf": []}
    for step in range(n_steps):
        opt.zero_grad()
        _backward(scaler, loss_of(problem, params), params)
        if inject and step in inject:
            params[step % 2].grad.view(-1)[step % 5] = inject[step]
        log["had_inf"].append(not all(bool(torch.isfinite(p.grad).all()) for p in params))
        if clip is not None:
            scaler.unscale_(opt)
            for p in params:
                p.grad.clamp_(-clip, clip)
        before = opt.steps
        log["returned"].append(scaler.step(opt))
        log["stepped"].append(opt.steps - before)
        scaler.update()
        log["scale"].append(scaler.get_scale())
        log["tracker"].append(scaler.state_dict()["_growth_tracker"])
    log["params"] = params + [frozen]
    return log


@probe
def loop(sub, problem, kwargs, n_steps, inject=None, clip=None):
    return run_loop(lambda: sub.DynamicLossScaler(**kwargs), problem, n_steps, inject, clip)


@probe
def events(sub, kwargs, pattern):
    """Drive one scaler through a pattern of iterations: "ok" (finite gradient), "inf" or "nan"
    (that value in the scaled gradient).  Report the scale, skip flag and good-step count after each."""
    p = torch.zeros(2, requires_grad=True)
    opt = PlainSGD([p, torch.zeros(1, requires_grad=True)], lr=1.0)
    scaler = sub.DynamicLossScaler(**kwargs)
    log = {"scale": [], "returned": [], "stepped": [], "tracker": []}
    for e in pattern:
        opt.zero_grad()
        _backward(scaler, p.sum(), [p])                                 # grad = scale
        if e != "ok":
            p.grad[1] = float(e)
        before = opt.steps
        log["returned"].append(scaler.step(opt))
        log["stepped"].append(opt.steps - before)
        scaler.update()
        log["scale"].append(scaler.get_scale())
        log["tracker"].append(scaler.state_dict()["_growth_tracker"])
    return log


@probe
def scale_and_unscale(sub, kwargs, loss, grads):
    scaler = sub.DynamicLossScaler(**kwargs)
    loss_in = loss.clone()
    scaled = scaler.scale(loss_in)
    params = [torch.zeros_like(g, requires_grad=True) for g in grads] + [torch.zeros(1, requires_grad=True)]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    before = [p.grad for p in params]
    scaler.unscale_(PlainSGD(params))
    return {"scaled": scaled, "loss_after": loss_in, "grads": [p.grad for p in params],
            "in_place": [p.grad is b for p, b in zip(params, before)]}


@check("scale(loss) multiplies the loss by the current scale (2**16 by default)")
def scales_loss(run):
    got = run(scale_and_unscale, {}, torch.tensor(3.0), [torch.ones(1)])
    expect_close(got["scaled"], 3.0 * 2 ** 16, "scale(loss) = loss * S with S = init_scale = 2**16 by default",
                 what="scale(tensor(3.))")
    expect_close(got["loss_after"], 3.0, "scale(loss) returns a new tensor and leaves the loss as it was",
                 what="the loss after scale()")


@check("unscale_ divides every gradient by the scale, in place")
def unscales_grads(run):
    got = run(scale_and_unscale, {"init_scale": 8.0}, torch.tensor(1.0), [torch.tensor([8.0, -16.0]),
                                                                         torch.tensor([[4.0]])])
    expect_close(got["grads"][:2], [torch.tensor([1.0, -2.0]), torch.tensor([[0.5]])],
                 "unscale_ divides each .grad by S (8 here)", what="gradients after unscale_")
    expect(got["grads"][2] is None, "parameters whose .grad is None are ignored",
           f"a parameter without a gradient now has .grad = {got['grads'][2]}")
    expect(all(got["in_place"][:2]), "unscale the existing .grad tensors in place",
           f"p.grad is still the same tensor object: {got['in_place'][:2]}")


@check("an inf gradient skips the step, multiplies the scale by backoff_factor and restarts the count")
def overflow_backs_off(run):
    got = run(events, {"init_scale": 16.0, "growth_interval": 3}, ["ok", "ok", "inf"])
    expect(got["stepped"] == [1, 1, 0], "call optimizer.step() only when every gradient is finite",
           f"optimizer.step() calls per iteration: {got['stepped']} (expected [1, 1, 0])")
    expect(got["returned"] == [True, True, False], "step() returns True when it stepped, False when it skipped",
           f"step() returned {got['returned']}")
    expect_close(got["scale"], [16.0, 16.0, 8.0], "after an overflow S <- S * backoff_factor (0.5)",
                 what="scale after each update()")
    expect(got["tracker"] == [1, 2, 0], "the count of consecutive good steps restarts at 0 after an overflow",
           f"state_dict()['_growth_tracker'] after each update(): {got['tracker']} (expected [1, 2, 0])")


@check("growth_interval consecutive good steps multiply the scale by growth_factor")
def grows(run):
    got = run(events, {"init_scale": 16.0, "growth_interval": 3}, ["ok"] * 4)
    expect_close(got["scale"], [16.0, 16.0, 32.0, 32.0], "after growth_interval good steps in a row, "
                 "S <- S * growth_factor (2.0)", what="scale after each update()")
    expect(got["tracker"] == [1, 2, 0, 1], "the count restarts at 0 when the scale grows",
           f"state_dict()['_growth_tracker'] after each update(): {got['tracker']} (expected [1, 2, 0, 1])")
