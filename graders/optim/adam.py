"""Hidden graders of optim/adam: 50-step trajectories against torch.optim.Adam on random quadratic
and MLP problems, the state after every step, AMSGrad's running maximum, per-parameter step
counts, L2 weight decay, validation, dtypes and extreme gradient scales."""
import torch
from torch.optim._functional import adam as torch_adam

from mlkata.checks import check, expect, expect_close, probe, visible_module

V = visible_module("optim/adam")


class TorchAdam:
    """torch.optim.Adam's own arithmetic: the functional ``torch.optim._functional.adam`` that the class
    calls (single-tensor path, as on CPU), with the class's state bookkeeping (``step`` is a float32
    0-dim tensor there).  Constructing ``torch.optim.Adam`` itself would import torch._dynamo
    (~2 s); tests/test_twins_optim_adam.py pins that this wrapper equals the class bit for bit."""

    decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        self.params = list(params)
        self.hyper = dict(lr=lr, beta1=betas[0], beta2=betas[1], eps=eps, weight_decay=weight_decay,
                          amsgrad=amsgrad, maximize=False)
        self.state = {p: {} for p in self.params}

    @torch.no_grad()
    def step(self):
        ps = [p for p in self.params if p.grad is not None]
        for p in ps:
            s = self.state[p]
            if not s:
                s["step"] = torch.tensor(0.0)
                s["exp_avg"] = torch.zeros_like(p)
                s["exp_avg_sq"] = torch.zeros_like(p)
                if self.hyper["amsgrad"]:
                    s["max_exp_avg_sq"] = torch.zeros_like(p)
        st = [self.state[p] for p in ps]
        torch_adam(ps, [p.grad for p in ps], [s["exp_avg"] for s in st], [s["exp_avg_sq"] for s in st],
                              [s["max_exp_avg_sq"] for s in st] if self.hyper["amsgrad"] else [],
                              [s["step"] for s in st], foreach=False, capturable=False, differentiable=False,
                              fused=None, has_complex=False, decoupled_weight_decay=self.decoupled, **self.hyper)

    def zero_grad(self):
        for p in self.params:
            p.grad = None


def torch_train(problem: dict, hyper: dict, steps: int, optimizer=TorchAdam):
    """The learner's training loop (visible probe ``train``) with torch's Adam: the oracle."""
    params = [t.clone().requires_grad_(True) for t in problem["init"]]
    opt = optimizer(params, **hyper)
    for step in range(steps):
        opt.zero_grad()
        V.loss_of(problem, params, step).backward()
        opt.step()
    return [p.detach() for p in params], [dict(opt.state[p]) for p in params]


def torch_steps(param: torch.Tensor, grads: list, hyper: dict, optimizer=TorchAdam):
    """torch's Adam on one parameter fed the given gradients: params and states after each step."""
    p = param.clone().requires_grad_(True)
    opt = optimizer([p], **hyper)
    params, states = [], []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        params.append(p.detach().clone())
        states.append({k: v.clone() for k, v in opt.state[p].items()})
    return params, states

CONFIGS = [
    {"lr": 0.05},
    {"lr": 0.05, "betas": (0.8, 0.99)},
    {"lr": 0.03, "weight_decay": 0.05},
    {"lr": 0.05, "amsgrad": True},
    {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-3, "weight_decay": 0.01, "amsgrad": True},
    {"lr": 0.1, "betas": (0.0, 0.999)},
]


def show(hyper: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in hyper.items()) or "defaults"


def _trajectory(run, kind, seeds, rule, configs):
    for i, hyper in enumerate(configs):
        problem = V.make_problem(kind, seeds[i % len(seeds)])
        want, _ = torch_train(problem, hyper, 50)
        got = run(V.train, problem, hyper, 50)
        expect_close(got["params"], want, rule, rtol=1e-7, atol=1e-9,
                     what=f"parameters after 50 steps ({kind}, {show(hyper)})")


@check("Adam trains an ill-conditioned quadratic exactly like torch.optim.Adam (50 steps, 6 settings)", points=2)
def trajectory_quadratic(run):
    _trajectory(run, "quadratic", [0, 1, 2], "match torch.optim.Adam step for step: moments, bias correction, "
                "p <- p - lr * m_hat / (sqrt(v_hat) + eps)", CONFIGS)


@check("Adam trains a small MLP on changing minibatches exactly like torch.optim.Adam (50 steps)", points=2)
def trajectory_mlp(run):
    _trajectory(run, "mlp", [10, 11], "match torch.optim.Adam step for step on an MLP",
                [CONFIGS[i] for i in (0, 2, 4)])


def random_grads(seed, n=6, shape=(3, 4), dtype=torch.float64, decay=1.0):
    """Gradients whose scale shrinks by ``decay`` per step (so AMSGrad's maximum matters)."""
    g = torch.Generator().manual_seed(seed)
    p0 = torch.randn(shape, generator=g, dtype=dtype)
    return p0, [torch.randn(shape, generator=g, dtype=dtype) * decay ** i for i in range(n)]


def _compare_states(got, want_p, want_s, hyper, rule_p, tol=(1e-9, 1e-12)):
    rtol, atol = tol
    names = {"exp_avg": "m <- beta1 * m + (1 - beta1) * g (g including weight decay)",
             "exp_avg_sq": "v <- beta2 * v + (1 - beta2) * g * g",
             "max_exp_avg_sq": "amsgrad: max_exp_avg_sq <- max(max_exp_avg_sq, v), of the v before bias correction"}
    for t in range(len(want_p)):
        state = got["states"][t]
        expect_close(state.get("step"), float(want_s[t]["step"]), "state['step'] = the number of steps taken",
                     what=f"state['step'] after step {t + 1}")
        for key, rule in names.items():
            if key in want_s[t]:
                expect(key in state, f"the state holds '{key}'", f"after step {t + 1} ({show(hyper)}) the state has "
                       f"keys {sorted(state)}")
                expect_close(state[key], want_s[t][key], rule, rtol=rtol, atol=atol,
                             what=f"state['{key}'] after step {t + 1} ({show(hyper)})")
        expect_close(got["params"][t], want_p[t], rule_p, rtol=rtol, atol=atol,
                     what=f"parameter after step {t + 1} ({show(hyper)})")


@check("adam_step: parameter, step, exp_avg, exp_avg_sq (and max_exp_avg_sq) match torch after every step", points=2)
def step_by_step(run):
    for i, hyper in enumerate(CONFIGS):
        p0, grads = random_grads(20 + i, decay=0.5)
        want_p, want_s = torch_steps(p0, grads, hyper)
        got = run(V.steps, p0, grads, hyper)
        _compare_states(got, want_p, want_s, hyper, "match torch.optim.Adam after every step")


@check("AMSGrad keeps the running maximum of the uncorrected v and bias-corrects that maximum", points=2)
def amsgrad(run):
    # one huge gradient, then small ones: the maximum stays at the first v while v itself decays
    for hyper in ({"lr": 0.1, "amsgrad": True}, {"lr": 0.1, "betas": (0.9, 0.9), "amsgrad": True}):
        p0 = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
        grads = [torch.tensor([10.0, -10.0, 1.0], dtype=torch.float64)] + \
                [torch.tensor([0.1, 0.1, -0.5], dtype=torch.float64)] * 5
        want_p, want_s = torch_steps(p0, grads, hyper)
        got = run(V.steps, p0, grads, hyper)
        _compare_states(got, want_p, want_s, hyper, "amsgrad: p <- p - lr * m_hat / (sqrt(v_max / (1 - beta2 ** t)) "
                        "+ eps), where v_max is the running maximum of the uncorrected v")


@check("each parameter counts its own steps: one without a gradient is skipped and its step does not advance")
def per_parameter_steps(run):
    problem = V.make_problem("quadratic", 60)
    hyper = {"lr": 0.05, "weight_decay": 0.1}
    want, want_states = torch_train(problem, hyper, 5)
    got = run(V.train, problem, hyper, 5, report_state=True)
    expect_close(got["params"][-2], problem["init"][-2], "a parameter whose .grad is None is not updated "
                 "(not even by weight decay)", rtol=0, atol=0, what="the parameter the loss never uses")
    expect(got["states"][-2] == {}, "a parameter that never had a gradient has an empty state",
           f"its state has keys {sorted(got['states'][-2])}")
    expect_close(got["states"][-1].get("step"), 3, "state['step'] counts the steps of this parameter only "
                 "(it had a gradient on steps 0, 2 and 4)", what="state['step'] of the parameter used on even steps")
    expect_close(got["states"][0].get("step"), 5, "state['step'] counts the steps of this parameter: one per "
                 "optimizer step, not one per parameter updated", what="state['step'] of params[0] after 5 steps")
    expect_close(got["params"], want, "bias correction uses the parameter's own step count", rtol=1e-9, atol=1e-12,
                 what="parameters after 5 steps")


@check("the gradient passed in is not modified")
def grad_untouched(run):
    for hyper in ({"lr": 0.1}, {"lr": 0.1, "weight_decay": 0.1}, {"lr": 0.1, "amsgrad": True, "weight_decay": 0.1}):
        p0, grads = random_grads(30, n=4)
        got = run(V.steps, p0, grads, hyper)
        expect_close(got["params"], torch_steps(p0, grads, hyper)[0], "match torch.optim.Adam after every step",
                     rtol=1e-9, atol=1e-12, what=f"the parameter after each step ({show(hyper)})")
        expect_close(got["grads_after"], grads, "do not modify the gradient you are given (compute g + wd * p "
                     "out of place)", rtol=0, atol=0, what=f"the gradients after the steps ({show(hyper)})")


@check("weight decay is L2: weight_decay=λ on L gives the same trajectory as λ/2·||p||² added to L")
def decay_equals_l2(run):
    lam = 0.2
    for kind, seed in (("quadratic", 40), ("mlp", 41)):
        problem = V.make_problem(kind, seed)
        hyper = {"lr": 0.05, "betas": (0.8, 0.99)}
        got = run(V.train, problem, {**hyper, "weight_decay": lam}, 30)
        want, _ = torch_train({**problem, "l2": lam}, hyper, 30)     # no weight decay, L2 in the loss
        expect_close(got["params"], want, "Adam's weight_decay adds weight_decay * p to the gradient before the "
                     "moments -- exactly the gradient of λ/2·||p||² (decoupled decay is AdamW, not Adam)",
                     rtol=1e-7, atol=1e-9, what=f"parameters after 30 steps with weight_decay={lam} ({kind}), "
                     f"expected those of training with λ/2·||p||² in the loss")


@probe
def construct(sub, hyper):
    try:
        sub.Adam([torch.zeros(2, requires_grad=True)], **hyper)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - the check reports which exception
        return type(e).__name__
    return None


@probe
def zero_grad(sub):
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.ones(2)
    opt = sub.Adam([p], lr=0.1)
    opt.zero_grad()
    return p.grad


@check("Adam rejects invalid settings with ValueError, and zero_grad sets .grad to None")
def validation(run):
    bad = [{"lr": -0.1}, {"eps": -1e-8}, {"weight_decay": -0.1}, {"betas": (1.0, 0.999)}, {"betas": (0.9, -0.1)}]
    for hyper in bad:
        got = run(construct, hyper)
        expect(got == "ValueError", "raise ValueError for a negative lr, eps or weight_decay, or a beta outside "
               "[0, 1) (as torch.optim.Adam)", f"Adam(params, {show(hyper)}) " +
               ("did not raise" if got is None else f"raised {got}"))
    for hyper in ({}, {"lr": 0.0, "betas": (0.0, 0.0), "eps": 0.0}, {"amsgrad": True}):
        got = run(construct, hyper)
        expect(got is None, "valid settings must be accepted", f"Adam(params, {show(hyper)}) raised {got}")
    got = run(zero_grad)
    expect(got is None, "zero_grad sets every .grad to None", f"after zero_grad, .grad is {got}")


@check("works in float32 and on 0-dim parameters; the state tensors keep the parameter's dtype")
def dtypes(run):
    hyper = {"lr": 0.01, "weight_decay": 0.01, "amsgrad": True}
    for shape, dtype in (((7,), torch.float32), ((), torch.float64), ((2, 3, 4), torch.float32)):
        p0, grads = random_grads(70, n=5, shape=shape, dtype=dtype)
        want_p, want_s = torch_steps(p0, grads, hyper)
        got = run(V.steps, p0, grads, hyper)
        expect_close(got["params"][-1], want_p[-1], "match torch.optim.Adam in every dtype and shape",
                     check_dtype=True, what=f"parameter after 5 steps ({dtype}, shape {list(shape)})")
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            expect_close(got["states"][-1].get(key), want_s[-1][key], "the state tensors are shaped and typed like "
                         "the parameter", check_dtype=True, what=f"state['{key}'] ({dtype}, shape {list(shape)})")


@check("stays finite and exact for huge (1e15) and tiny (1e-12) float32 gradients")
def extreme_scales(run):
    for scale in (1e15, 1e-12):
        hyper = {"lr": 1e-2, "amsgrad": scale > 1}
        p0, grads = random_grads(80, n=10, shape=(5,), dtype=torch.float32)
        grads = [g * scale for g in grads]
        want_p, _ = torch_steps(p0, grads, hyper)
        got = run(V.steps, p0, grads, hyper)
        expect(all(bool(torch.isfinite(t).all()) for t in got["params"]), "finite gradients give finite parameters "
               "(g * g of 1e15 fits in float32; do not square what you do not need)",
               f"with gradients around {scale:g} the parameters became {got['params'][-1]}")
        expect_close(got["params"][-1], want_p[-1], f"match torch.optim.Adam with gradients around {scale:g}",
                     rtol=1e-4, atol=1e-6, what="parameter after 10 steps")


@check("adam_step's defaults are torch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay")
def defaults(run):
    p0, grads = random_grads(90, n=4)
    got = run(V.steps, p0, grads, {})
    expect_close(got["params"], torch_steps(p0, grads, {})[0], "called without hyperparameters, adam_step uses "
                 "torch.optim.Adam's defaults", rtol=1e-9, atol=1e-12,
                 what="the parameter after each of 4 steps with the default hyperparameters")
    problem = V.make_problem("quadratic", 91)
    expect_close(run(V.train, problem, {}, 5)["params"], torch_train(problem, {}, 5)[0], "the optimizer class "
                 "has the same defaults as the step function", rtol=1e-9, atol=1e-12,
                 what="parameters after 5 steps of the class built with its defaults")


@check("params may be a generator, as model.parameters() is: read once, every parameter trained")
def generator_params(run):
    hyper = {"lr": 0.05}
    problem = V.make_problem("mlp", 12)
    want, _ = torch_train(problem, hyper, 20)
    got = run(V.train, problem, hyper, 20, from_generator=True)
    expect_close(got["params"], want, "read params once into a list: a generator (model.parameters()) is empty "
                 "the second time it is iterated", rtol=1e-7, atol=1e-9,
                 what=f"parameters after 20 steps, params given as a generator ({show(hyper)})")
