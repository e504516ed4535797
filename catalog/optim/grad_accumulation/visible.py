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
    IGNORE (-100), cross-entropy averaged over the labelled tokens only; an entry of ``sizes``
    given as ``(n, 0)`` makes a micro-batch of n tokens whose labels are ALL ignored.
    ``sequences``: each micro-batch padded to its own length T (dynamic padding, 2..9): x (n, T, 4),
    y (n, T, 2) holding (target, is-real-position); the loss sums the squared errors of a
    sequence's real positions and averages over the sequences, so the unit is the sample
    (``y.shape[0]``), while ``y.numel()`` would count 2 T per sample."""
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    out = {"regression": 2, "tokens": 5, "sequences": 1}[kind]
    batches = []
    for n in sizes:
        n, labelled = n if isinstance(n, tuple) else (n, None)
        x = r(n, 4)
        if kind == "regression":
            y = r(n, 2)
        elif kind == "sequences":
            T = int(torch.randint(2, 10, (1,), generator=g))
            lengths = torch.randint(1, T + 1, (n,), generator=g)
            lengths[0] = T                                          # the batch is padded to its longest
            real = (torch.arange(T)[None, :] < lengths[:, None]).double()   # (n, T)
            x = r(n, T, 4) * real[..., None]
            y = torch.stack([r(n, T) * real, real], dim=-1)             # (n, T, 2)
        elif labelled == 0:
            y = torch.full((n,), IGNORE)
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


def sequence_loss(out, y):
    target, real = y[..., 0], y[..., 1]                       # (n, T) each
    return (((out[..., 0] - target) ** 2) * real).sum(dim=1).mean()


def count_tokens(y) -> int:
    return int((y != IGNORE).sum())


LOSSES = {"regression": (regression_loss, None), "tokens": (token_loss, count_tokens),
          "sequences": (sequence_loss, None)}


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
        T = max(b[0].shape[1] for b in group) if problem["kind"] == "sequences" else None
        x = torch.cat([pad_to(b[0], T) for b in group])          # (sum n_i, 4) or (sum n_i, T, 4)
        y = torch.cat([pad_to(b[1], T) for b in group])
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return [p.detach() for p in model.parameters()], losses


def pad_to(t, T):
    """``t`` padded with zeros along dim 1 to length T (padding is not real: zero features, is-real 0)."""
    if T is None or t.shape[1] == T:
        return t
    return torch.cat([t, t.new_zeros(t.shape[0], T - t.shape[1], *t.shape[2:])], dim=1)


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
