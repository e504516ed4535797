"""Hidden graders of optim/loss_scaling: scale trajectories, skipped steps and weights against
torch.amp.GradScaler("cpu") -- with injected infs/NaNs and with genuine float16 overflow -- and
against the grader's own state machine on random overflow patterns; NaN detection, the count
reset, unscale_ before step (gradient clipping), double unscale_, differentiability and dtype of
the scaled loss, state_dict."""
import math
import random

import torch

from mlkata.checks import check, expect, expect_close, probe, visible_module

V = visible_module("optim/loss_scaling")


def torch_loop(problem, kwargs, n_steps, inject=None, clip=None):
    """The same loop driven by torch.amp.GradScaler on CPU (it accepts any optimizer with
    param_groups and step())."""
    return V.run_loop(lambda: torch.amp.GradScaler("cpu", **kwargs), problem, n_steps, inject, clip)


def machine(overflows, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000):
    """The grader's own state machine: scale and good-step count after each update()."""
    scale, tracker, scales, trackers = init_scale, 0, [], []
    for overflow in overflows:
        if overflow:
            scale, tracker = scale * backoff_factor, 0
        else:
            tracker += 1
            if tracker == growth_interval:
                scale, tracker = scale * growth_factor, 0
        scales.append(scale)
        trackers.append(tracker)
    return scales, trackers


def show(kw):
    return ", ".join(f"{k}={v}" for k, v in kw.items()) or "defaults"


def _compare_logs(got, want, rule, label):
    def did(log, t):
        return {0: "skipped", 1: "stepped"}.get(log["stepped"][t], f"called optimizer.step() {log['stepped'][t]} times")

    n = len(want["scale"])
    for t in range(n):
        same = got["stepped"][t] == want["stepped"][t] and got["tracker"][t] == want["tracker"][t] and \
            math.isclose(got["scale"][t], want["scale"][t], rel_tol=1e-6)
        expect(same, rule, f"{label}: first difference at iteration {t}: torch.amp.GradScaler {did(want, t)}, "
               f"scale -> {want['scale'][t]:g}, _growth_tracker -> {want['tracker'][t]}; your scaler {did(got, t)}, "
               f"scale -> {got['scale'][t]:g}, _growth_tracker -> {got['tracker'][t]}\n"
               f"  GradScaler scales, iterations {max(0, t - 3)}..{t}: {[f'{x:g}' for x in want['scale'][max(0, t - 3):t + 1]]}\n"
               f"  your scales,       iterations {max(0, t - 3)}..{t}: {[f'{x:g}' for x in got['scale'][max(0, t - 3):t + 1]]}")
    expect_close(got["params"], want["params"], rule, rtol=1e-5, atol=1e-6, what=f"weights after {n} iterations ({label})")


INJECTED = [
    ({"init_scale": 1024.0, "growth_interval": 3}, {2: math.inf, 3: math.inf, 9: -math.inf, 17: math.nan}),
    ({"init_scale": 256.0, "growth_factor": 4.0, "backoff_factor": 0.25, "growth_interval": 2}, {0: math.nan, 5: math.inf, 6: math.nan, 7: math.inf}),
    ({"init_scale": 64.0, "growth_interval": 1}, {4: math.inf, 11: math.inf, 12: math.inf}),
    ({"init_scale": 2.0 ** 12, "growth_interval": 5, "backoff_factor": 0.125}, {5: math.inf, 11: math.nan, 22: math.inf}),
]


@check("matches torch.amp.GradScaler step for step with injected infs and NaNs (scale, skips, weights)", points=2)
def injected(run):
    problem = V.make_problem(0)
    for kwargs, inject in INJECTED:
        want = torch_loop(problem, kwargs, 30, inject)
        got = run(V.loop, problem, kwargs, 30, inject)
        _compare_logs(got, want, "an iteration with any inf/NaN gradient is skipped and multiplies the scale by "
                      "backoff_factor; growth_interval consecutive good ones multiply it by growth_factor",
                      f"{show(kwargs)}, infs/NaNs injected at iterations {sorted(inject)}")


@check("matches torch.amp.GradScaler when float16 gradients really overflow (init_scale 2**24)", points=2)
def natural_overflow(run):
    for seed, kwargs in ((1, {"init_scale": 2.0 ** 24, "growth_interval": 4}),
                         (2, {"init_scale": 2.0 ** 20, "growth_interval": 2, "growth_factor": 4.0})):
        problem = V.make_problem(seed, half=True)
        want = torch_loop(problem, kwargs, 25)
        got = run(V.loop, problem, kwargs, 25)
        _compare_logs(got, want, "back off until the scaled float16 gradients fit, grow again after "
                      "growth_interval good steps -- exactly as torch.amp.GradScaler", f"{show(kwargs)}, float16 forward")


@check("follows the scaling state machine over long random overflow patterns", points=2)
def state_machine(run):
    rng = random.Random(7)
    for kwargs in ({"init_scale": 2.0 ** 10, "growth_interval": 2},
                   {"init_scale": 100.0, "growth_factor": 3.0, "backoff_factor": 0.2, "growth_interval": 4},
                   {"init_scale": 2.0 ** 16, "growth_interval": 1}, {"init_scale": 8.0, "growth_interval": 7}):
        pattern = [rng.choice(["ok"] * 5 + ["inf", "nan", "-inf"]) for _ in range(60)]
        got = run(V.events, kwargs, pattern)
        scales, trackers = machine([e != "ok" for e in pattern], **kwargs)
        want_stepped = [int(e == "ok") for e in pattern]
        for t in range(len(pattern)):
            ok = got["stepped"][t] == want_stepped[t] and got["tracker"][t] == trackers[t] and \
                math.isclose(got["scale"][t], scales[t], rel_tol=1e-6)
            expect(ok, "overflow: skip, S *= backoff_factor, count = 0; good step: count += 1 and when it reaches "
                   "growth_interval, S *= growth_factor and count = 0",
                   f"({show(kwargs)}) iteration {t} ({pattern[t]}): expected "
                   f"{'a step' if want_stepped[t] else 'a skip'}, scale {scales[t]:g}, _growth_tracker {trackers[t]}; "
                   f"your scaler made {got['stepped'][t]} optimizer.step() call(s), scale {got['scale'][t]:g}, "
                   f"_growth_tracker {got['tracker'][t]}\n  pattern so far: {pattern[max(0, t - 6):t + 1]}")


@check("NaN counts as an overflow, not only inf")
def nan_is_overflow(run):
    got = run(V.events, {"init_scale": 32.0, "growth_interval": 10}, ["ok", "nan", "ok"])
    expect(got["stepped"] == [1, 0, 1], "a NaN gradient is an overflow too (test with torch.isfinite: 0 * inf in "
           "the backward gives NaN); the next finite iteration steps again",
           f"optimizer.step() calls per iteration for ok, nan, ok: {got['stepped']} (expected [1, 0, 1])")
    expect_close(got["scale"], [32.0, 16.0, 16.0], "a NaN gradient backs off the scale like an inf",
                 what="scale after each update()")


@check("an overflow restarts the count: growth needs growth_interval good steps in a row")
def count_restarts(run):
    pattern = ["ok"] * 3 + ["inf"] + ["ok"] * 3 + ["ok"]
    got = run(V.events, {"init_scale": 64.0, "growth_interval": 4}, pattern)
    expect_close(got["scale"], [64.0, 64.0, 64.0, 32.0, 32.0, 32.0, 32.0, 64.0], "after an overflow the count of "
                 "good steps restarts at 0, so the next growth needs growth_interval more good steps",
                 what="scale after each update() for ok, ok, ok, inf, ok, ok, ok, ok (growth_interval = 4)")


@check("a skipped step leaves the optimizer alone; step() returns whether it stepped")
def skip_semantics(run):
    problem = V.make_problem(3, half=True)
    got = run(V.loop, problem, {"init_scale": 2.0 ** 20, "growth_interval": 2}, 16, {13: math.nan})
    for t in range(16):
        expect(got["stepped"][t] == (0 if got["had_inf"][t] else 1), "call optimizer.step() exactly once when all "
               "gradients are finite, never when one is inf or NaN",
               f"iteration {t}: a gradient was {'non-' if got['had_inf'][t] else ''}finite, and optimizer.step() "
               f"was called {got['stepped'][t]} time(s)")
        expect(got["returned"][t] is bool(got["stepped"][t]), "step() returns True if it called optimizer.step(), "
               "False if it skipped", f"iteration {t}: step() returned {got['returned'][t]!r}")
    expect_close(got["params"][-1], problem["frozen"], "parameters without a gradient are left alone", rtol=0,
                 atol=0, what="the parameter that never gets a gradient")


@check("unscale_ before step (to clip gradients) is not undone or repeated by step", points=2)
def explicit_unscale(run):
    problem = V.make_problem(4)
    kwargs = {"init_scale": 256.0, "growth_interval": 1000}         # no overflow, no growth: only unscaling
    for clip in (1e9, 0.05):
        want = torch_loop(problem, kwargs, 15, None, clip)
        got = run(V.loop, problem, kwargs, 15, None, clip)
        expect_close(got["params"], want["params"], "when unscale_ was already called this iteration, step() must "
                     "not divide the gradients by the scale again; it applies the (clipped) unscaled gradients",
                     rtol=1e-5, atol=1e-6, what=f"weights after 15 iterations of unscale_, clamp to ±{clip:g}, step")
    problem = V.make_problem(5, half=True)
    kwargs = {"init_scale": 2.0 ** 20, "growth_interval": 3}
    want = torch_loop(problem, kwargs, 15, {6: math.inf}, 0.5)
    got = run(V.loop, problem, kwargs, 15, {6: math.inf}, 0.5)
    _compare_logs(got, want, "with an explicit unscale_ before step, overflows are still detected and skipped, "
                  "and the scale follows the same state machine", f"{show(kwargs)}, unscale_ then clamp to ±0.5")


@probe
def unscale_twice(sub):
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.ones(2)
    opt = V.PlainSGD([p])
    scaler = sub.DynamicLossScaler(init_scale=4.0)
    scaler.unscale_(opt)
    try:
        scaler.unscale_(opt)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - the check reports which exception
        return {"raised": type(e).__name__, "grad": p.grad}
    return {"raised": None, "grad": p.grad}


@check("calling unscale_ twice in one iteration raises RuntimeError")
def double_unscale_raises(run):
    got = run(unscale_twice)
    expect(got["raised"] == "RuntimeError", "a second unscale_ before update() raises RuntimeError (it would "
           "divide the gradients twice)", f"the second unscale_ " +
           ("returned normally" if got["raised"] is None else f"raised {got['raised']}") +
           f"; the gradient is now {got['grad'].tolist()} (after one unscale_ by 4: [0.25, 0.25])")


@probe
def scaled_backward(sub, init_scale):
    w = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
    loss = (w.half() * torch.tensor([3.0, 1.0, -1.0]).half()).sum()        # a float16 loss
    scaler = sub.DynamicLossScaler(init_scale=init_scale)
    scaled = scaler.scale(loss)
    scaled.backward()
    return {"dtype": str(scaled.dtype), "requires_grad": scaled.requires_grad, "grad": w.grad}


@check("the scaled loss keeps the loss's dtype and backpropagates gradients multiplied by the scale")
def scaled_loss_backprop(run):
    got = run(scaled_backward, 1024.0)
    expect(got["dtype"] == "torch.float16", "scale(loss) keeps the loss's dtype (float16 here)",
           f"scale(loss) has dtype {got['dtype']}")
    expect_close(got["grad"], torch.tensor([3.0, 1.0, -1.0]) * 1024, "scale(loss) stays in the autograd graph: "
                 "backward through it gives the gradients times S", what="w.grad after scale(loss).backward()")


@probe
def state_after(sub, kwargs, pattern):
    """The scaler's state_dict() after a pattern of iterations (as in the ``events`` probe)."""
    p = torch.zeros(1, requires_grad=True)
    opt = V.PlainSGD([p])
    scaler = sub.DynamicLossScaler(**kwargs)
    for e in pattern:
        opt.zero_grad()
        V._backward(scaler, p.sum(), [p])
        if e != "ok":
            p.grad[0] = float(e)
        scaler.step(opt)
        scaler.update()
    return scaler.state_dict()


@check("state_dict has GradScaler's keys and values (defaults: 2**16, 2.0, 0.5, 2000)")
def state_dict(run):
    for kwargs, pattern in (({}, ["ok"] * 3), ({"init_scale": 3.0, "growth_factor": 1.5, "backoff_factor": 0.3,
                                                "growth_interval": 7}, ["ok", "inf", "ok", "ok"])):
        want = dict(torch.amp.GradScaler("cpu", **kwargs).state_dict())      # the settings and their defaults
        scales, trackers = machine([e != "ok" for e in pattern], want["scale"], want["growth_factor"],
                                   want["backoff_factor"], want["growth_interval"])
        want.update(scale=scales[-1], _growth_tracker=trackers[-1])
        got = run(state_after, kwargs, pattern)
        expect(isinstance(got, dict) and set(got) == set(want), "state_dict() returns the keys of "
               "torch.amp.GradScaler.state_dict()", f"expected keys {sorted(want)}, your state_dict has "
               f"{sorted(got) if isinstance(got, dict) else got!r}")
        expect_close(got, want, "state_dict() reports the current scale, the settings (defaults init_scale=2**16, "
                     "growth_factor=2.0, backoff_factor=0.5, growth_interval=2000) and the good-step count",
                     what=f"state_dict() after {pattern} ({show(kwargs)})")
