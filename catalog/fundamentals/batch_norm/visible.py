"""Visible checks: one training step and one evaluation step on a tiny [4, 2] batch."""
import torch

from mlkata.checks import Fail, check, expect_close, probe


@probe
def steps(sub, num_features, plan, kwargs=None, weight=None, bias=None, dtype=torch.float32):
    """Build ``BatchNorm(num_features, **kwargs)`` (in ``dtype``; ``weight``/``bias`` copied in when
    given) and run ``plan``: a list of ``{"train": bool, "x": tensor, "grad_out": tensor or None}``.

    Each step reports the output, the running statistics after the step, the input (to see it
    was not modified) and, with ``grad_out``, the gradients of sum(out * grad_out) with respect to
    x, weight and bias.
    """
    m = sub.BatchNorm(num_features, **(kwargs or {})).to(dtype)
    if weight is not None:
        with torch.no_grad():
            m.weight.copy_(weight)
            m.bias.copy_(bias)
    reports = []
    for step in plan:
        m.train(step["train"])
        grad_out = step.get("grad_out")
        x = step["x"].clone().requires_grad_(grad_out is not None)
        out = m(x)
        report = {"out": out, "x": x, "running_mean": getattr(m, "running_mean", None),
                  "running_var": getattr(m, "running_var", None)}
        if grad_out is not None:
            (out * grad_out).sum().backward()
            report["x_grad"] = x.grad
            weight, bias = getattr(m, "weight", None), getattr(m, "bias", None)
            report["weight_grad"] = None if weight is None else weight.grad
            report["bias_grad"] = None if bias is None else bias.grad
            for p in m.parameters():
                p.grad = None
        reports.append({k: v.detach().clone() if isinstance(v, torch.Tensor) else v for k, v in report.items()})
    return reports


X = torch.tensor([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]])
EPS = 1e-5


def one_step(run, train):
    got = run(steps, 2, [{"train": train, "x": X}])
    if not isinstance(got, list) or len(got) != 1:
        raise Fail("BatchNorm(num_features) is an nn.Module called on one batch", f"got {got!r}"[:200])
    return got[0]


@check("training mode: each channel is normalized with its batch mean and biased variance")
def train_normalizes(run):
    got = one_step(run, True)
    mean = X.mean(0)                                       # [2.5, 25]
    var = ((X - mean) ** 2).mean(0)                        # biased: [1.25, 125]
    expect_close(got["out"], (X - mean) / torch.sqrt(var + EPS),
                 "x_hat = (x - batch_mean) / sqrt(batch_var + eps), per channel, biased variance (divide by N)",
                 what="output in training mode")


@check("training mode updates running_mean and running_var (unbiased) with momentum 0.1")
def running_update(run):
    got = one_step(run, True)
    mean = X.mean(0)                                       # [2.5, 25]
    unbiased = ((X - mean) ** 2).sum(0) / (4 - 1)          # [1.6667, 166.67]
    expect_close(got["running_mean"], 0.9 * torch.zeros(2) + 0.1 * mean,
                 "running_mean = (1 - momentum) * running_mean + momentum * batch_mean, starting from zeros",
                 what="running_mean after one step")
    expect_close(got["running_var"], 0.9 * torch.ones(2) + 0.1 * unbiased,
                 "running_var = (1 - momentum) * running_var + momentum * unbiased batch variance, starting from ones",
                 what="running_var after one step")


@check("evaluation mode normalizes with the running statistics (after one training step on X)")
def eval_uses_running(run):
    x_eval = torch.tensor([[0.0, 5.0], [6.0, -5.0]])
    got = run(steps, 2, [{"train": True, "x": X}, {"train": False, "x": x_eval}])
    if not isinstance(got, list) or len(got) != 2:
        raise Fail("BatchNorm(num_features) is an nn.Module called once per batch", f"got {got!r}"[:200])
    mean = X.mean(0)                                       # [2.5, 25]
    unbiased = ((X - mean) ** 2).sum(0) / (4 - 1)          # [1.6667, 166.67]
    running_mean, running_var = 0.1 * mean, 0.9 + 0.1 * unbiased
    expect_close(got[1]["out"], (x_eval - running_mean) / torch.sqrt(running_var + EPS),
                 "in eval mode, x_hat = (x - running_mean) / sqrt(running_var + eps), batch statistics unused",
                 what="output in eval mode")
    expect_close(got[1]["running_mean"], running_mean, "evaluation mode does not update the running statistics",
                 what="running_mean after an eval step")


@check("weight and bias scale and shift the normalized values")
def affine(run):
    w, b = torch.tensor([2.0, -1.0]), torch.tensor([0.5, 3.0])
    got = run(steps, 2, [{"train": True, "x": X}], None, w, b)[0]
    mean = X.mean(0)
    var = ((X - mean) ** 2).mean(0)
    expect_close(got["out"], (X - mean) / torch.sqrt(var + EPS) * w + b,
                 "y = weight * x_hat + bias, per channel", what="output with weight [2, -1] and bias [0.5, 3]")
