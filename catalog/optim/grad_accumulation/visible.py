"""Visible checks: k = 1 is plain training, two equal micro-batches equal one batch twice their
size, one optimizer step per group, and the returned losses.  Also the toy problems, the small
optimizer and the probe that the hidden graders reuse."""
import torch
import torch.nn.functional as F

from mlkata.checks import check, expect, expect_close, probe


# --------------------------------------------------------------------------------------------
# Toy problems (plain data), the model, the losses and an optimizer that counts its calls
# --------------------------------------------------------------------------------------------

IGNORE = -100


def make_problem(kind: str, seed: int, sizes: list, lr: float = 0.1) -> dict:
    """Micro-batches of the given sizes for a small MLP, in float64.

    ``regression``: x (n, 4), y (n, 2), mean squared error, one unit per sample.
    ``tokens``: x (n, 4) token features, y (n,) class labels in 0..4, about a third of them
    IGNORE (-100), cross-entropy averaged over the labelled tokens only."""
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    out = 2 if kind == "regression" else 5
    batches = []
    for n in sizes:
        x = r(n, 4)
        if kind == "regression":
            y = r(n, 2)
        else:
            y = torch.randint(0, 5, (n,), generator=g)
            y[torch.rand(n, generator=g) < 0.35] = IGNORE
            y[0] = int(torch.randint(0, 5, (1,), generator=g))     # at least one labelled token
        batches.append((x, y))
    weights = [r(8, 4) * 0.5, r(8) * 0.1, r(out, 8) * 0.5, r(out) * 0.1]
    return {"kind": kind, "batches": batches, "weights": weights, "lr": lr}


def build_model(weights: list) -> torch.nn.Module:
    w1, b1, w2, b2 = weights
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, w2.shape[0]))
    model = model.to(torch.float64)
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(w)
    return model


def regression_loss(out, y):
    return F.mse_loss(out, y)


def token_loss(out, y):
    return F.cross_entropy(out, y, ignore_index=IGNORE)


def count_tokens(y) -> int:
    return int((y != IGNORE).sum())


LOSSES = {"regression": (regression_loss, None), "tokens": (token_loss, count_tokens)}


class CountingSGD:
    """SGD with momentum 0.9 over ``params`` that counts its ``step`` and ``zero_grad`` calls."""

    def __init__(self, params, lr: float, momentum: float = 0.9):
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.buffers = [None] * len(self.params)
        self.steps = self.zero_grads = 0

    def zero_grad(self, set_to_none: bool = True):
        self.zero_grads += 1
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        self.steps += 1
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            buf = self.buffers[i]
            self.buffers[i] = p.grad.clone() if buf is None else buf.mul_(self.momentum).add_(p.grad)
            p.add_(self.buffers[i], alpha=-self.lr)


def full_batch_train(problem: dict, k: int):
    """The oracle: every group of k micro-batches concatenated into one batch, one step each."""
    model = build_model(problem["weights"])
    opt = CountingSGD(model.parameters(), problem["lr"])
    loss_fn, _ = LOSSES[problem["kind"]]
    losses = []
    batches = problem["batches"]
    for start in range(0, len(batches), k):
        group = batches[start:start + k]
        x = torch.cat([b[0] for b in group])                     # (sum n_i, 4)
        y = torch.cat([b[1] for b in group])
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return [p.detach() for p in model.parameters()], losses


@probe
def train(sub, problem, k, stale_grads=False):
    """Run the learner's loop on ``problem``; report parameters, losses and optimizer calls.
    With ``stale_grads`` the parameters start with garbage in ``.grad``."""
    model = build_model(problem["weights"])
    opt = CountingSGD(model.parameters(), problem["lr"])
    if stale_grads:
        for p in model.parameters():
            p.grad = torch.full_like(p, 100.0)
    loss_fn, count_fn = LOSSES[problem["kind"]]
    extra = {} if count_fn is None else {"count_fn": count_fn}
    losses = sub.train_with_accumulation(model, loss_fn, opt, problem["batches"], k, **extra)
    return {"params": [p.detach() for p in model.parameters()], "losses": losses, "steps": opt.steps}


# --------------------------------------------------------------------------------------------
# Visible checks
# --------------------------------------------------------------------------------------------

@check("with accumulation_steps = 1 it is plain training: one step per micro-batch")
def k_one(run):
    problem = make_problem("regression", 0, [4, 4, 4])
    want, _ = full_batch_train(problem, 1)
    got = run(train, problem, 1)
    expect_close(got["params"], want, "accumulation_steps = 1: every micro-batch is its own step",
                 rtol=1e-9, atol=1e-12, what="parameters after 3 micro-batches")


@check("two equal micro-batches give the same step as one batch twice their size")
def two_equal_halves(run):
    problem = make_problem("regression", 1, [4, 4, 4, 4])
    want, _ = full_batch_train(problem, 2)
    got = run(train, problem, 2)
    expect_close(got["params"], want, "accumulate: zero the gradients once per group, backward() every micro-batch's "
                 "mean loss scaled by 1/k (here 1/2), then one step -- the accumulated gradient is the full batch's", rtol=1e-9, atol=1e-12,
                 what="parameters after 2 steps of 2 accumulated micro-batches, vs 2 steps on batches of 8")


@check("optimizer.step() is called once per group, not once per micro-batch")
def one_step_per_group(run):
    problem = make_problem("regression", 2, [3] * 6)
    got = run(train, problem, 3)
    expect(got["steps"] == 2, "call optimizer.step() once after each group of accumulation_steps micro-batches",
           f"6 micro-batches with accumulation_steps = 3 should make 2 steps; optimizer.step() was called "
           f"{got['steps']} times")


@check("returns each group's full-batch mean loss, measured before its step")
def returned_losses(run):
    problem = make_problem("regression", 3, [4, 4, 4, 4])
    _, want = full_batch_train(problem, 2)
    got = run(train, problem, 2)
    expect_close(got["losses"], want, "return one float per step: the mean loss over the whole group "
                 "(the sum of the scaled micro-batch losses)", rtol=1e-9, atol=1e-12, what="returned losses")
