"""Visible checks: with a zero gradient the weights shrink by exactly (1 - lr * weight_decay) per
step; the first step; the moments never see the decay; the default weight_decay -- on small
fixed numbers.  Also the probes and the toy problems the hidden graders reuse."""
import torch

from mlkata.checks import check, expect_close, probe


# --------------------------------------------------------------------------------------------
# Toy problems (plain data, so they travel to the learner's side) and their losses
# --------------------------------------------------------------------------------------------

def make_problem(kind: str, seed: int, dtype=torch.float64) -> dict:
    """A random problem: initial parameters and the data its loss needs.

    ``quadratic``: an ill-conditioned convex bowl (eigenvalues 0.1 .. 10), where per-coordinate scaling matters.
    ``mlp``: a tanh MLP regressing random targets on minibatches that change every step.
    Both add a parameter the loss never touches (its .grad stays None) and one it uses only on
    even steps, so optimizers must skip parameters without a gradient."""
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    if kind == "quadratic":
        q, _ = torch.linalg.qr(r(5, 5))
        eig = torch.logspace(-1, 1, 5, dtype=torch.float64)
        data = {"A": q @ torch.diag(eig) @ q.T, "b": r(5), "C": r(3, 4)}
        init = [r(5), r(3, 4)]
    elif kind == "mlp":
        data = {"X": r(32, 4), "Y": r(32, 2), "perm": torch.randperm(32, generator=g)}
        init = [r(4, 8) * 0.5, r(8) * 0.1, r(8, 2) * 0.5, r(2) * 0.1]
    else:
        raise ValueError(kind)
    init += [r(3), r(2, 2)]              # [-2]: never used; [-1]: used on even steps only
    return {"kind": kind, "data": {k: v.to(dtype) if v.is_floating_point() else v for k, v in data.items()},
            "init": [t.to(dtype) for t in init]}


def loss_of(problem: dict, params: list, step: int) -> torch.Tensor:
    """The problem's loss at ``step`` (minibatches and the even-step parameter depend on it)."""
    d = problem["data"]
    if problem["kind"] == "quadratic":
        x, w = params[0], params[1]
        loss = 0.5 * x @ d["A"] @ x - d["b"] @ x + 0.5 * ((w - d["C"]) ** 2).sum()
    else:
        rows = d["perm"][(step * 8) % 32:(step * 8) % 32 + 8]
        w1, b1, w2, b2 = params[:4]
        out = torch.tanh(d["X"][rows] @ w1 + b1) @ w2 + b2            # (8, 2)
        loss = ((out - d["Y"][rows]) ** 2).mean()
    if step % 2 == 0:
        loss = loss + (params[-1] ** 2).sum() + params[-1].sum()
    lam = problem.get("l2", 0.0)     # an explicit L2 penalty lam/2 ||p||^2 on every parameter in use
    if lam:
        used = params[:-2] + (params[-1:] if step % 2 == 0 else [])
        loss = loss + 0.5 * lam * sum((p ** 2).sum() for p in used)
    return loss * problem.get("loss_scale", 1.0)


# --------------------------------------------------------------------------------------------
# Probes
# --------------------------------------------------------------------------------------------

def _plain_state(state: dict) -> dict:
    return {str(k): v.clone() if isinstance(v, torch.Tensor) else v for k, v in state.items()}


@probe
def steps(sub, param, grads, hyper):
    """Call ``adam_step`` once per gradient on one parameter and one state dict; report the
    parameter and a copy of the state after every step, and the gradients afterwards."""
    p = param.clone()
    state = {}
    params, states = [], []
    for g in grads:
        sub.adamw_step(p, g, state, **hyper)
        params.append(p.clone())
        states.append(_plain_state(state))
    return {"params": params, "states": states, "grads_after": grads}


@probe
def train(sub, problem, hyper, steps, report_state=False, from_generator=False):
    """Train ``problem`` for ``steps`` steps with the learner's AdamW class (given the parameters
    as a generator, as ``model.parameters()`` is, when ``from_generator``)."""
    params = [t.clone().requires_grad_(True) for t in problem["init"]]
    opt = sub.AdamW((p for p in params) if from_generator else params, **hyper)
    for step in range(steps):
        opt.zero_grad()
        loss_of(problem, params, step).backward()
        opt.step()
    report = {"params": params}
    if report_state:
        report["states"] = [_plain_state((opt.state[p] if p in opt.state else {})) for p in params]
    return report


# --------------------------------------------------------------------------------------------
# Visible checks
# --------------------------------------------------------------------------------------------

P0 = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
G1 = torch.tensor([0.5, -3.0, 1e-3], dtype=torch.float64)


@check("with a zero gradient, each step multiplies the weights by exactly (1 - lr * weight_decay)")
def pure_decay(run):
    got = run(steps, P0, [torch.zeros(3, dtype=torch.float64)] * 3, {"lr": 0.1, "weight_decay": 0.5})
    for t in range(3):
        expect_close(got["params"][t], P0 * 0.95 ** (t + 1), "decoupled decay: p <- p * (1 - lr * weight_decay), "
                     "and Adam's own update is 0 when the gradient is 0", rtol=1e-12, atol=0,
                     what=f"parameter after {t + 1} step(s) with zero gradients")


@check("first step: decay first, then p <- p - lr * g / (|g| + eps)")
def first_step(run):
    got = run(steps, P0, [G1], {"lr": 0.1, "weight_decay": 0.5})
    expect_close(got["params"][0], P0 * 0.95 - 0.1 * G1 / (G1.abs() + 1e-8),
                 "p <- p * (1 - lr * weight_decay), then the bias-corrected Adam step (m_hat = g, v_hat = g * g)",
                 rtol=1e-9, atol=1e-12, what="parameter after one step")


@check("the moments see the plain gradient: the decay never enters exp_avg or exp_avg_sq")
def moments_undecayed(run):
    got = run(steps, P0, [G1], {"lr": 0.1, "betas": (0.8, 0.99), "weight_decay": 0.5})
    s = got["states"][0]
    expect_close(s.get("step"), 1, "state['step'] counts this parameter's steps", what="state['step']")
    expect_close(s.get("exp_avg"), 0.2 * G1, "m <- beta1 * m + (1 - beta1) * g with the gradient alone "
                 "(no weight_decay * p: that is Adam's L2, not AdamW)", rtol=1e-9, atol=1e-12, what="state['exp_avg']")
    expect_close(s.get("exp_avg_sq"), 0.01 * G1 * G1, "v <- beta2 * v + (1 - beta2) * g * g with the gradient alone",
                 rtol=1e-9, atol=1e-15, what="state['exp_avg_sq']")


@check("weight_decay defaults to 0.01, as in torch.optim.AdamW")
def default_decay(run):
    got = run(steps, P0, [torch.zeros(3, dtype=torch.float64)], {"lr": 0.5})
    expect_close(got["params"][0], P0 * (1 - 0.5 * 0.01), "the default weight_decay is 1e-2", rtol=1e-12, atol=0,
                 what="parameter after one zero-gradient step with lr = 0.5 and the default weight_decay")
