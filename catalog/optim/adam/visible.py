"""Visible checks: the first step (bias correction makes it lr * g / (|g| + eps)), the state after
it, the second step, and where eps goes -- on small fixed numbers.  Also the probes and the toy
problems the hidden graders reuse."""
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
    return loss


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
        sub.adam_step(p, g, state, **hyper)
        params.append(p.clone())
        states.append(_plain_state(state))
    return {"params": params, "states": states, "grads_after": grads}


@probe
def train(sub, problem, hyper, steps, report_state=False, from_generator=False):
    """Train ``problem`` for ``steps`` steps with the learner's Adam class (given the parameters
    as a generator, as ``model.parameters()`` is, when ``from_generator``)."""
    params = [t.clone().requires_grad_(True) for t in problem["init"]]
    opt = sub.Adam((p for p in params) if from_generator else params, **hyper)
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
G2 = torch.tensor([-1.0, 2.0, 1e-3], dtype=torch.float64)


@check("the first step is lr * g / (|g| + eps): bias correction undoes the zero start of m and v")
def first_step(run):
    got = run(steps, P0, [G1], {"lr": 0.1})
    expect_close(got["params"][0], P0 - 0.1 * G1 / (G1.abs() + 1e-8),
                 "step 1: m_hat = g and v_hat = g * g, so p <- p - lr * g / (|g| + eps)",
                 rtol=1e-9, atol=1e-12, what="parameter after one step")


@check("after one step the state holds step = 1, exp_avg = (1 - beta1) g and exp_avg_sq = (1 - beta2) g²")
def state_after_one_step(run):
    got = run(steps, P0, [G1], {"lr": 0.1, "betas": (0.8, 0.99)})
    s = got["states"][0]
    expect_close(s.get("step"), 1, "state['step'] counts this parameter's steps", what="state['step']")
    expect_close(s.get("exp_avg"), 0.2 * G1, "m <- beta1 * m + (1 - beta1) * g, starting from m = 0",
                 rtol=1e-9, atol=1e-12, what="state['exp_avg']")
    expect_close(s.get("exp_avg_sq"), 0.01 * G1 * G1, "v <- beta2 * v + (1 - beta2) * g * g, starting from v = 0",
                 rtol=1e-9, atol=1e-15, what="state['exp_avg_sq']")


@check("the second step divides m by 1 - beta1² and v by 1 - beta2²")
def second_step(run):
    got = run(steps, P0, [G1, G2], {"lr": 0.1, "betas": (0.8, 0.99)})
    m = 0.8 * 0.2 * G1 + 0.2 * G2
    v = 0.99 * 0.01 * G1 * G1 + 0.01 * G2 * G2
    p1 = P0 - 0.1 * G1 / (G1.abs() + 1e-8)
    want = p1 - 0.1 * (m / (1 - 0.8 ** 2)) / ((v / (1 - 0.99 ** 2)).sqrt() + 1e-8)
    expect_close(got["params"][1], want, "p <- p - lr * m_hat / (sqrt(v_hat) + eps) with "
                 "m_hat = m / (1 - beta1 ** t), v_hat = v / (1 - beta2 ** t), t = 2",
                 rtol=1e-9, atol=1e-12, what="parameter after two steps")


@check("eps is added outside the square root: a gradient of 1e-10 still moves p by about lr / 100")
def eps_outside_sqrt(run):
    g = torch.tensor([1e-10], dtype=torch.float64)
    got = run(steps, torch.zeros(1, dtype=torch.float64), [g], {"lr": 1.0})
    expect_close(got["params"][0], -g / (g + 1e-8), "denominator = sqrt(v_hat) + eps, not sqrt(v_hat + eps)",
                 rtol=1e-6, atol=0, what="parameter after one step from 0 with lr = 1")
