"""Hidden graders of optim/sgd_momentum: 50-step trajectories against torch.optim.SGD on random
quadratic and MLP problems, the per-step state, the L2 equivalence of weight decay, the lr
convention, skipped parameters, argument validation, dtypes and huge gradients."""
import torch
from torch.optim._functional import sgd as torch_sgd

from mlkata.checks import check, expect, expect_close, probe, visible_module

V = visible_module("optim/sgd_momentum")


class TorchSGD:
    """torch.optim.SGD's own arithmetic: the functional ``torch.optim._functional.sgd`` that the class calls
    (single-tensor path, as on CPU), with the class's bookkeeping of the momentum buffers.
    Constructing ``torch.optim.SGD`` itself would import torch._dynamo (~2 s); the twin test
    tests/test_twins_optim_sgd_momentum.py pins that this wrapper equals the class bit for bit."""

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        self.params = list(params)
        self.hyper = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                          nesterov=nesterov, maximize=False)
        self.state = {p: {} for p in self.params}

    @torch.no_grad()
    def step(self):
        ps = [p for p in self.params if p.grad is not None]
        bufs = [self.state[p].get("momentum_buffer") for p in ps]
        torch_sgd(ps, [p.grad for p in ps], bufs, foreach=False, **self.hyper)
        if self.hyper["momentum"] != 0:
            for p, buf in zip(ps, bufs):
                self.state[p]["momentum_buffer"] = buf

    def zero_grad(self):
        for p in self.params:
            p.grad = None


def torch_train(problem: dict, hyper: dict, steps: int, optimizer=TorchSGD):
    """The learner's training loop (visible probe ``train``) with torch's SGD: the oracle."""
    params = [t.clone().requires_grad_(True) for t in problem["init"]]
    opt = optimizer(params, **hyper)
    for step in range(steps):
        opt.zero_grad()
        V.loss_of(problem, params, step).backward()
        opt.step()
    return [p.detach() for p in params], [dict(opt.state[p]) for p in params]


def torch_steps(param: torch.Tensor, grads: list, hyper: dict, optimizer=TorchSGD):
    """torch's SGD on one parameter fed the given gradients: params and buffers after each step."""
    p = param.clone().requires_grad_(True)
    opt = optimizer([p], **hyper)
    params, buffers = [], []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        params.append(p.detach().clone())
        buf = opt.state[p].get("momentum_buffer")
        buffers.append(None if buf is None else buf.clone())
    return params, buffers

CONFIGS = [
    {"lr": 0.05},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.03, "momentum": 0.9, "dampening": 0.3},
    {"lr": 0.04, "momentum": 0.8, "weight_decay": 0.05},
    {"lr": 0.02, "momentum": 0.9, "nesterov": True},
    {"lr": 0.03, "momentum": 0.7, "dampening": 0.1, "weight_decay": 0.02},
    {"lr": 0.02, "momentum": 0.95, "weight_decay": 0.1, "nesterov": True},
]


def show(hyper: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in hyper.items())


def _trajectory(run, kind, seeds, rule, configs):
    for i, hyper in enumerate(configs):
        problem = V.make_problem(kind, seeds[i % len(seeds)])
        want, _ = torch_train(problem, hyper, 50)
        got = run(V.train, problem, hyper, 50)
        expect_close(got["params"], want, rule, rtol=1e-7, atol=1e-9,
                     what=f"parameters after 50 steps ({kind}, {show(hyper)})")


@check("SGD trains an ill-conditioned quadratic exactly like torch.optim.SGD (50 steps, 7 settings)", points=2)
def trajectory_quadratic(run):
    _trajectory(run, "quadratic", [0, 1, 2], "match torch.optim.SGD step for step: weight decay, then the "
                "momentum buffer, then Nesterov, then p <- p - lr * d", CONFIGS)


@check("SGD trains a small MLP on changing minibatches exactly like torch.optim.SGD (50 steps)", points=2)
def trajectory_mlp(run):
    _trajectory(run, "mlp", [10, 11], "match torch.optim.SGD step for step on an MLP",
                [CONFIGS[i] for i in (1, 3, 5, 6)])


def random_grads(seed, n=6, shape=(3, 4), dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=g, dtype=dtype), [torch.randn(shape, generator=g, dtype=dtype) for _ in range(n)]


@check("sgd_step: parameter and state['momentum_buffer'] match torch after every step", points=2)
def step_by_step(run):
    for i, hyper in enumerate(CONFIGS):
        p0, grads = random_grads(20 + i)
        want_p, want_b = torch_steps(p0, grads, hyper)
        got = run(V.steps, p0, grads, hyper)
        for t in range(len(grads)):
            if want_b[t] is None:
                expect(got["keys"][t] == [], "with momentum == 0 the state dict is left empty",
                       f"({show(hyper)}) state after step {t + 1} has keys {got['keys'][t]}")
            else:
                expect_close(got["buffers"][t], want_b[t],
                             "state['momentum_buffer'] = copy of g on step 1, then momentum * b + (1 - dampening) * g "
                             "(g including weight decay)", rtol=1e-10, atol=1e-12,
                             what=f"momentum buffer after step {t + 1} ({show(hyper)})")
            expect_close(got["params"][t], want_p[t], "match torch.optim.SGD after every step", rtol=1e-10,
                         atol=1e-12, what=f"parameter after step {t + 1} ({show(hyper)})")


@check("the gradient passed in is neither modified nor kept: zeroing it in place does not touch the buffer", points=2)
def grad_untouched(run):
    for hyper in ({"lr": 0.1, "momentum": 0.9}, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1},
                  {"lr": 0.1, "momentum": 0.9, "nesterov": True}):
        p0, grads = random_grads(30, n=4)
        got = run(V.steps, p0, grads, hyper)
        expect_close(got["params"], torch_steps(p0, grads, hyper)[0], "match torch.optim.SGD after every step",
                     rtol=1e-12, atol=1e-12, what=f"the parameter after each step ({show(hyper)})")
        expect_close(got["grads_after"], grads, "do not modify the gradient you are given (compute g + wd * p "
                     "out of place, and clone g into the buffer)", rtol=0, atol=0,
                     what=f"the gradients after the steps ({show(hyper)})")
        shared = run(V.steps, p0, grads, hyper, shared_grad=True)
        expect_close(shared["params"], got["params"], "keep a copy of the gradient in the buffer, not the gradient "
                     "tensor itself: the caller may reuse it (zero it in place) before the next step",
                     rtol=1e-12, atol=1e-12, what=f"parameters when the same gradient tensor is refilled for "
                     f"every step, expected those of fresh gradient tensors ({show(hyper)})")


@check("weight decay is L2: weight_decay=λ on L gives the same trajectory as λ/2·||p||² added to L")
def decay_equals_l2(run):
    lam = 0.2
    for kind, seed in (("quadratic", 40), ("mlp", 41)):
        problem = V.make_problem(kind, seed)
        hyper = {"lr": 0.05, "momentum": 0.9, "dampening": 0.2}
        got = run(V.train, problem, {**hyper, "weight_decay": lam}, 30)
        want, _ = torch_train({**problem, "l2": lam}, hyper, 30)     # no weight decay, L2 in the loss
        expect_close(got["params"], want, "SGD's weight decay adds weight_decay * p to the gradient -- exactly "
                     "the gradient of λ/2·||p||² -- so it goes through the momentum buffer like the rest of g",
                     rtol=1e-7, atol=1e-9, what=f"parameters after 30 steps with weight_decay={lam} ({kind}), "
                     f"expected those of training with λ/2·||p||² in the loss")


@check("lr multiplies the whole buffer: changing lr between steps rescales the accumulated velocity")
def lr_convention(run):
    p0, grads = random_grads(50, n=4)
    for hyper in ({"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}):
        lrs = [0.1, 0.1, 1.0, 0.01]
        p = p0.clone().requires_grad_(True)
        opt = TorchSGD([p], lr=0.1, **hyper)
        for lr, gr in zip(lrs, grads):
            opt.hyper["lr"] = lr
            p.grad = gr.clone()
            opt.step()
        got = run(steps_with_lrs, p0, grads, lrs, hyper)
        expect_close(got, p.detach(), "the buffer accumulates gradients and p <- p - lr * buffer uses the current "
                     "lr (PyTorch's convention; do not fold lr into the buffer)", rtol=1e-10, atol=1e-12,
                     what=f"parameter after 4 steps with lr = {lrs} ({show(hyper)})")


@probe
def steps_with_lrs(sub, param, grads, lrs, hyper):
    p, state = param.clone(), {}
    for lr, g in zip(lrs, grads):
        sub.sgd_step(p, g, state, lr=lr, **hyper)
    return p


@check("parameters without a gradient are skipped: no decay, no momentum, state untouched")
def skips_none_grads(run):
    problem = V.make_problem("quadratic", 60)
    hyper = {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}
    want, want_states = torch_train(problem, hyper, 5)
    got = run(V.train, problem, hyper, 5, report_state=True)
    expect_close(got["params"][-2], problem["init"][-2], "a parameter whose .grad is None is not updated "
                 "(not even by weight decay)", rtol=0, atol=0, what="the parameter the loss never uses")
    expect(got["states"][-2] == {}, "a parameter that never had a gradient has an empty state",
           f"its state has keys {sorted(map(str, got['states'][-2]))}")
    expect_close(got["params"][-1], want[-1], "a step without a gradient neither moves the parameter nor "
                 "decays its momentum buffer", rtol=1e-10, atol=1e-12,
                 what="the parameter used on even steps only, after 5 steps")
    for i in range(len(want)):
        if "momentum_buffer" in want_states[i]:
            expect_close(got["states"][i].get("momentum_buffer"), want_states[i]["momentum_buffer"],
                         "opt.state[p]['momentum_buffer'] holds the buffer of parameter p", rtol=1e-10, atol=1e-12,
                         what=f"opt.state[params[{i}]]['momentum_buffer'] after 5 steps")


@probe
def construct(sub, hyper):
    try:
        sub.SGD([torch.zeros(2, requires_grad=True)], **hyper)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - the check reports which exception
        return type(e).__name__
    return None


@probe
def zero_grad(sub):
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.ones(2)
    opt = sub.SGD([p], lr=0.1)
    opt.zero_grad()
    return p.grad


@check("SGD rejects invalid settings with ValueError, and zero_grad sets .grad to None")
def validation(run):
    bad = [{"lr": -0.1}, {"lr": 0.1, "momentum": -0.5}, {"lr": 0.1, "weight_decay": -1.0},
           {"lr": 0.1, "nesterov": True}, {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}]
    for hyper in bad:
        got = run(construct, hyper)
        expect(got == "ValueError", "raise ValueError for a negative lr/momentum/weight_decay, and for Nesterov "
               "without momentum or with dampening (as torch.optim.SGD)",
               f"SGD(params, {show(hyper)}) " + ("did not raise" if got is None else f"raised {got}"))
    for hyper in ({"lr": 0.0}, {"lr": 0.1, "momentum": 0.9, "nesterov": True}, {"lr": 0.1, "dampening": 0.5}):
        got = run(construct, hyper)
        expect(got is None, "valid settings must be accepted", f"SGD(params, {show(hyper)}) raised {got}")
    got = run(zero_grad)
    expect(got is None, "zero_grad sets every .grad to None", f"after zero_grad, .grad is {got}")


@check("works in float32 and on 0-dim parameters; the buffer keeps the parameter's dtype")
def dtypes(run):
    hyper = {"lr": 0.01, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}
    for shape, dtype in (((7,), torch.float32), ((), torch.float64), ((2, 3, 4), torch.float32)):
        p0, grads = random_grads(70, n=5, shape=shape, dtype=dtype)
        want_p, want_b = torch_steps(p0, grads, hyper)
        got = run(V.steps, p0, grads, hyper)
        expect_close(got["params"][-1], want_p[-1], "match torch.optim.SGD in every dtype and shape", check_dtype=True,
                     what=f"parameter after 5 steps ({dtype}, shape {list(shape)})")
        expect_close(got["buffers"][-1], want_b[-1], "the momentum buffer is shaped and typed like the parameter",
                     check_dtype=True, what=f"momentum buffer ({dtype}, shape {list(shape)})")


@check("stays finite and exact with huge gradients (1e30) and momentum 0.99")
def huge(run):
    hyper = {"lr": 1e-3, "momentum": 0.99, "weight_decay": 1e-4}
    p0, grads = random_grads(80, n=10, shape=(5,), dtype=torch.float32)
    grads = [g * 1e30 for g in grads]
    want_p, _ = torch_steps(p0, grads, hyper)
    got = run(V.steps, p0, grads, hyper)
    expect(all(bool(torch.isfinite(t).all()) for t in got["params"]), "huge but finite gradients give finite "
           "parameters", f"the parameters became {got['params'][-1]}")
    expect_close(got["params"][-1], want_p[-1], "match torch.optim.SGD with huge gradients", rtol=1e-4,
                 what="parameter after 10 steps")


@check("params may be a generator, as model.parameters() is: read once, every parameter trained")
def generator_params(run):
    hyper = {"lr": 0.05, "momentum": 0.9}
    problem = V.make_problem("mlp", 12)
    want, _ = torch_train(problem, hyper, 20)
    got = run(V.train, problem, hyper, 20, from_generator=True)
    expect_close(got["params"], want, "read params once into a list: a generator (model.parameters()) is empty "
                 "the second time it is iterated", rtol=1e-7, atol=1e-9,
                 what=f"parameters after 20 steps, params given as a generator ({show(hyper)})")
