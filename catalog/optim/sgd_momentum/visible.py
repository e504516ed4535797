"""Visible checks: plain SGD, the first and second momentum steps, weight decay, Nesterov -- on
small fixed numbers.  Also the probes and the toy problems the hidden graders reuse."""
import torch

from mlkata.checks import check, expect, expect_close, probe


# --------------------------------------------------------------------------------------------
# Toy problems (plain data, so they travel to the learner's side) and their losses
# --------------------------------------------------------------------------------------------

def make_problem(kind: str, seed: int, dtype=torch.float64) -> dict:
    """A random problem: initial parameters and the data its loss needs.

    ``quadratic``: an ill-conditioned convex bowl (eigenvalues 0.1 .. 10), where momentum matters.
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

@probe
def steps(sub, param, grads, hyper, shared_grad=False):
    """Call ``sgd_step`` once per gradient on one parameter and one state dict.  With
    ``shared_grad`` every gradient is copied into the same tensor first, as when gradients are
    zeroed in place between steps (``zero_grad(set_to_none=False)``)."""
    p = param.clone()
    state = {}
    shared = torch.zeros_like(param)
    params, buffers, keys = [], [], []
    for g in grads:
        if shared_grad:
            g = shared.copy_(g)
        sub.sgd_step(p, g, state, **hyper)
        params.append(p.clone())
        buf = state.get("momentum_buffer")
        buffers.append(buf.clone() if isinstance(buf, torch.Tensor) else buf)
        keys.append(sorted(str(k) for k in state))
    return {"params": params, "buffers": buffers, "keys": keys, "grads_after": grads}


@probe
def train(sub, problem, hyper, steps, report_state=False, from_generator=False):
    """Train ``problem`` for ``steps`` steps with the learner's SGD class (given the parameters
    as a generator, as ``model.parameters()`` is, when ``from_generator``)."""
    params = [t.clone().requires_grad_(True) for t in problem["init"]]
    opt = sub.SGD((p for p in params) if from_generator else params, **hyper)
    for step in range(steps):
        opt.zero_grad()
        loss_of(problem, params, step).backward()
        opt.step()
    report = {"params": params}
    if report_state:
        report["states"] = [dict((opt.state[p] if p in opt.state else {})) for p in params]
    return report


# --------------------------------------------------------------------------------------------
# Visible checks
# --------------------------------------------------------------------------------------------

P0 = torch.tensor([1.0, -2.0])
G1 = torch.tensor([0.5, 1.0])
G2 = torch.tensor([-1.0, 2.0])


@check("plain SGD (momentum 0) moves p by -lr * g and keeps no state")
def plain_sgd(run):
    got = run(steps, P0, [G1], {"lr": 0.1})
    expect_close(got["params"][0], torch.tensor([0.95, -2.1]), "p <- p - lr * g", what="parameter after one step")
    expect(got["keys"][0] == [], "with momentum == 0 no buffer is kept: state stays empty",
           f"state after one step has keys {got['keys'][0]}")


@check("the first momentum step copies the gradient into the buffer; later steps use momentum and dampening")
def first_and_second_momentum_step(run):
    got = run(steps, P0, [G1, G2], {"lr": 0.1, "momentum": 0.9, "dampening": 0.5})
    rule1 = "first step: momentum_buffer = a copy of g (dampening does not apply yet), p <- p - lr * buffer"
    expect_close(got["buffers"][0], G1, rule1, what="state['momentum_buffer'] after step 1")
    expect_close(got["params"][0], torch.tensor([0.95, -2.1]), rule1, what="parameter after step 1")
    buf2 = 0.9 * G1 + 0.5 * G2                         # momentum * b + (1 - dampening) * g
    rule2 = "later steps: buffer <- momentum * buffer + (1 - dampening) * g, p <- p - lr * buffer"
    expect_close(got["buffers"][1], buf2, rule2, what="state['momentum_buffer'] after step 2")
    expect_close(got["params"][1], torch.tensor([0.95, -2.1]) - 0.1 * buf2, rule2, what="parameter after step 2")


@check("weight decay adds weight_decay * p to the gradient (L2 regularisation)")
def weight_decay_is_l2(run):
    got = run(steps, P0, [torch.zeros(2)], {"lr": 0.5, "weight_decay": 0.1})
    expect_close(got["params"][0], P0 - 0.5 * 0.1 * P0, "g <- g + weight_decay * p before the update",
                 what="parameter after one step with a zero gradient")


@check("Nesterov steps along g + momentum * buffer")
def nesterov(run):
    got = run(steps, P0, [G1, G2], {"lr": 0.1, "momentum": 0.9, "nesterov": True})
    buf2 = 0.9 * G1 + G2
    p1 = P0 - 0.1 * (G1 + 0.9 * G1)
    expect_close(got["params"][0], p1, "Nesterov: d = g + momentum * buffer (the buffer is g on step 1)",
                 what="parameter after step 1")
    expect_close(got["params"][1], p1 - 0.1 * (G2 + 0.9 * buf2), "Nesterov: d = g + momentum * buffer",
                 what="parameter after step 2")
