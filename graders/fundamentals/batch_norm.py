"""Hidden graders of fundamentals/batch_norm: several training steps then evaluation, compared
step by step with torch.nn.BatchNorm1d/2d (outputs, running statistics, gradients), the details
of the contract (unbiased running variance, momentum, eps, affine=False, buffers, N = 1), a
gradcheck, and a large-offset batch where E[x^2] - E[x]^2 cancels catastrophically."""
import torch
from torch import nn

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, probe, visible_module

V = visible_module("fundamentals/batch_norm")


def torch_steps(num_features, plan, kwargs=None, weight=None, bias=None, dtype=torch.float32):
    """The reports of the visible ``steps`` probe, produced by torch.nn.BatchNorm1d/2d."""
    cls = nn.BatchNorm2d if plan[0]["x"].dim() == 4 else nn.BatchNorm1d
    m = cls(num_features, **(kwargs or {})).to(dtype)
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
        report = {"out": out, "x": x, "running_mean": m.running_mean, "running_var": m.running_var}
        if grad_out is not None:
            (out * grad_out).sum().backward()
            report.update(x_grad=x.grad, weight_grad=None if m.weight is None else m.weight.grad,
                          bias_grad=None if m.bias is None else m.bias.grad)
            m.zero_grad(set_to_none=True)
        reports.append({k: v.detach().clone() if isinstance(v, torch.Tensor) else v for k, v in report.items()})
    return reports


def make_plan(seed, shapes, modes, grad=False, dtype=torch.float32, scale=2.0, offset=1.0):
    g = torch.Generator().manual_seed(seed)
    plan = []
    for shape, train in zip(shapes, modes):
        x = (torch.randn(shape, generator=g) * scale + offset).to(dtype)
        step = {"train": train, "x": x}
        if grad:
            step["grad_out"] = torch.randn(shape, generator=g).to(dtype)
        plan.append(step)
    return plan


def affine_params(seed, c, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(c, generator=g) + 0.5).to(dtype), torch.randn(c, generator=g).to(dtype)


RULES = {
    "out": "in training mode normalize each channel with its batch mean and biased variance over every axis but 1, "
           "then apply weight and bias; in eval mode use the running statistics",
    "running_mean": "after each training batch: running_mean = (1 - momentum) * running_mean + momentum * batch_mean",
    "running_var": "after each training batch: running_var = (1 - momentum) * running_var + momentum * "
                   "unbiased batch variance (times n / (n - 1)); eval batches leave it unchanged",
    "x_grad": "the input gradient flows through the batch mean and variance too (they are not constants)",
    "weight_grad": "d loss / d weight = sum over N and spatial axes of grad_out * x_hat",
    "bias_grad": "d loss / d bias = sum over N and spatial axes of grad_out",
    "x": "forward must not modify its input",
}


def agree(run, num_features, plan, kwargs=None, weight=None, bias=None, dtype=torch.float32, keys=None,
          atol=1e-5, rtol=1e-4, label=""):
    got = run(V.steps, num_features, plan, kwargs, weight, bias, dtype)
    want = torch_steps(num_features, plan, kwargs, weight, bias, dtype)
    expect(isinstance(got, list) and len(got) == len(want), "one report per step",
           f"the probe returned {type(got).__name__}")
    for i, (g, w, step) in enumerate(zip(got, want, plan)):
        mode = "train" if step["train"] else "eval"
        for key in keys or w:
            if key not in w:
                continue
            expect_close(g.get(key), w[key], RULES[key], atol=atol, rtol=rtol,
                         what=f"{key} at step {i + 1} of {len(plan)} ({mode} mode, input {list(step['x'].shape)}"
                              f"{label})")
    return got


@check("[N, C] input: three training steps agree with torch.nn.BatchNorm1d (outputs and running stats)", points=2)
def train_2d_input(run):
    w, b = affine_params(1, 5)
    agree(run, 5, make_plan(2, [(16, 5), (16, 5), (7, 5)], [True] * 3), None, w, b)


@check("[N, C, L] input: statistics pool over N and L; agrees with torch.nn.BatchNorm1d", points=2)
def train_3d_input(run):
    w, b = affine_params(3, 4)
    agree(run, 4, make_plan(4, [(8, 4, 12), (8, 4, 12), (3, 4, 5)], [True] * 3), None, w, b)


@check("[N, C, H, W] input: statistics pool over N, H and W; agrees with torch.nn.BatchNorm2d", points=2)
def train_4d_input(run):
    w, b = affine_params(5, 3)
    agree(run, 3, make_plan(6, [(6, 3, 5, 7), (6, 3, 5, 7), (2, 3, 4, 4)], [True] * 3), None, w, b)


@check("after training, eval mode normalizes with the running statistics and does not change them", points=2)
def eval_after_train(run):
    w, b = affine_params(7, 4)
    plan = make_plan(8, [(10, 4, 6)] * 4 + [(5, 4, 6), (1, 4, 6)], [True] * 4 + [False] * 2)
    agree(run, 4, plan, None, w, b)
    plan2 = make_plan(9, [(12, 3, 4, 4)] * 3 + [(2, 3, 4, 4)], [True] * 3 + [False])
    agree(run, 3, plan2, None, *affine_params(10, 3))


@check("running_var takes the UNBIASED batch variance (N = 2 makes it twice the biased one)")
def unbiased_running_var(run):
    plan = make_plan(11, [(2, 3)], [True])
    agree(run, 3, plan, {"momentum": 1.0}, keys=["running_var"])
    agree(run, 3, plan, {"momentum": 1.0}, keys=["out"],
          label=" -- but the output is normalized with the biased variance")


@check("momentum and eps are honoured (momentum 0.3, eps 0.5 -- inside the square root)")
def momentum_and_eps(run):
    plan = make_plan(12, [(5, 3), (5, 3), (4, 3)], [True, True, False], scale=0.3)
    agree(run, 3, plan, {"momentum": 0.3, "eps": 0.5}, *affine_params(13, 3))


@probe
def inspect(sub, kwargs):
    """Names of parameters and buffers, state_dict keys, and what .double() and training do to them."""
    m = sub.BatchNorm(3, **kwargs)
    report = {"parameters": sorted(n for n, _ in m.named_parameters()),
              "buffers": sorted(n for n, _ in m.named_buffers()),
              "state_dict": sorted(m.state_dict()),
              "weight": getattr(m, "weight", "missing"), "bias": getattr(m, "bias", "missing")}
    m.double()
    report["dtype_after_double"] = str(getattr(getattr(m, "running_mean", None), "dtype", None))
    m.train()
    for x in two_batches():
        m(x.clone().requires_grad_(True)).sum().backward()
    stats = [getattr(m, "running_mean", None), getattr(m, "running_var", None)]
    report["stats_require_grad"] = [getattr(s, "requires_grad", None) for s in stats]
    report["stats_have_grad_fn"] = [getattr(s, "grad_fn", None) is not None for s in stats]
    report["stats"] = [s.detach().clone() if isinstance(s, torch.Tensor) else s for s in stats]
    return report


def two_batches():
    return [torch.randn(6, 3, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
            for seed in range(2)]


def torch_stats_after_two_batches(**kwargs):
    m = torch.nn.BatchNorm1d(3, **kwargs).double().train()
    for x in two_batches():
        m(x)
    return [m.running_mean, m.running_var]


@check("weight/bias are nn.Parameters; running_mean/running_var are buffers that never join the autograd graph")
def parameters_and_buffers(run):
    got = run(inspect, {})
    expect_equal(got["parameters"], ["bias", "weight"], "weight and bias are the learnable nn.Parameters",
                 what="named_parameters()")
    rule = ("running_mean and running_var are buffers (self.register_buffer): saved in state_dict and moved by "
            ".to() / .double(), but not trained")
    for name in ("running_mean", "running_var"):
        expect(name in got["buffers"] and name in got["state_dict"], rule,
               f"buffers: {got['buffers']}, state_dict keys: {got['state_dict']}")
    expect_equal(got["dtype_after_double"], "torch.float64", rule, what="running_mean.dtype after module.double()")
    expect(not any(got["stats_require_grad"]) and not any(got["stats_have_grad_fn"]),
           "update the running statistics under torch.no_grad() (or from detached values): they must not "
           "require grad or keep the batch's autograd graph alive",
           f"after two training steps: requires_grad {got['stats_require_grad']}, "
           f"has a grad_fn {got['stats_have_grad_fn']} (running_mean, running_var)")
    expect_close(got["stats"], torch_stats_after_two_batches(), RULES["running_mean"] + "; " + RULES["running_var"],
                 what="[running_mean, running_var] after two training steps in float64")


@check("affine=False: no parameters (weight and bias are None), pure normalization")
def no_affine(run):
    got = run(inspect, {"affine": False})
    expect(got["parameters"] == [] and got["weight"] is None and got["bias"] is None,
           "with affine=False the module has no learnable parameters and weight = bias = None",
           f"named_parameters: {got['parameters']}, weight: {got['weight']!r}, bias: {got['bias']!r}"[:300])
    agree(run, 4, make_plan(14, [(9, 4, 3), (9, 4, 3), (4, 4, 3)], [True, True, False]), {"affine": False})


@check("gradients of x, weight and bias agree with torch (float64, train and eval mode)", points=2)
def gradients(run):
    w, b = affine_params(15, 3, torch.float64)
    agree(run, 3, make_plan(16, [(8, 3), (8, 3), (5, 3)], [True, True, False], grad=True, dtype=torch.float64),
          None, w, b, torch.float64, atol=1e-10, rtol=1e-8)
    w, b = affine_params(17, 2, torch.float64)
    agree(run, 2, make_plan(18, [(4, 2, 3, 3)] * 2, [True, True], grad=True, dtype=torch.float64),
          None, w, b, torch.float64, atol=1e-10, rtol=1e-8)


@probe
def gradcheck(sub, x):
    """torch.autograd.gradcheck of the training-mode output with respect to x (float64)."""
    m = sub.BatchNorm(x.shape[1]).double().train()
    out = m(x.clone())
    try:
        ok = torch.autograd.gradcheck(lambda t: m(t), (x.clone().requires_grad_(True),), eps=1e-6, atol=1e-5,
                                      raise_exception=True)
        return {"ok": bool(ok), "error": "", "out": out}
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - reported, the check decides
        return {"ok": False, "error": f"{type(e).__name__}: {e}"[:600], "out": out}


@check("gradcheck (float64): the training-mode output is differentiable with correct gradients w.r.t. x")
def passes_gradcheck(run):
    x = torch.randn(5, 3, 4, generator=torch.Generator().manual_seed(19), dtype=torch.float64)
    got = run(gradcheck, x)
    want = torch.nn.functional.batch_norm(x, None, None, training=True)
    expect_close(got.get("out"), want, RULES["out"], atol=1e-10, rtol=1e-8, what="training-mode output (float64)")
    expect(got["ok"], "the analytical gradient must match finite differences: keep the batch mean and "
                      "variance in the autograd graph (no .detach(), no torch.no_grad() around them)", got["error"])


@probe
def train_raises(sub, x, train):
    m = sub.BatchNorm(x.shape[1]).train(train)
    try:
        out = m(x)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - reported, the check decides
        return {"raised": [c.__name__ for c in type(e).__mro__], "message": f"{type(e).__name__}: {e}"[:300]}
    return {"raised": None, "out": out}


@check("training on one value per channel raises ValueError; [1, C, L] with L > 1 and eval mode work")
def one_value_per_channel(run):
    got = run(train_raises, torch.randn(1, 4, generator=torch.Generator().manual_seed(20)), True)
    rule = "in training mode a channel with a single value has no (unbiased) variance: raise ValueError, like torch"
    expect(got["raised"] is not None, rule, "training on a [1, 4] batch returned without raising")
    expect("ValueError" in got["raised"], rule, f"training on a [1, 4] batch raised {got['message']}")
    got = run(train_raises, torch.randn(1, 4, 3, generator=torch.Generator().manual_seed(21)), True)
    expect(got["raised"] is None, "a [1, C, L] batch has L values per channel: training on it is fine",
           f"training on a [1, 4, 3] batch raised {got.get('message')}")
    got = run(train_raises, torch.randn(1, 4, generator=torch.Generator().manual_seed(22)), False)
    expect(got["raised"] is None, "evaluation mode works for any batch size, 1 included",
           f"evaluating a [1, 4] batch raised {got.get('message')}")


@check("stable for a large offset (values around 1000 +- 1, float32) and a constant channel: finite, accurate")
def large_offset(run):
    g = torch.Generator().manual_seed(23)
    x = torch.randn(32, 3, 16, generator=g) + 1000.0
    x[:, 2] = 1000.0                                      # a constant channel: variance 0
    got = run(V.steps, 3, [{"train": True, "x": x}])[0]
    want = torch_steps(3, [{"train": True, "x": x.double()}], dtype=torch.float64)[0]
    out = got["out"]
    expect(isinstance(out, torch.Tensor) and bool(torch.isfinite(out).all()),
           "the output must be finite: a constant channel normalizes to 0 (x - mean = 0, and eps keeps the "
           "denominator positive)", f"your output has {int((~torch.isfinite(out)).sum())} non-finite entries"
           if isinstance(out, torch.Tensor) else f"your code returned {type(out).__name__}")
    expect_close(out, want["out"], "compute the variance as mean((x - mean)^2): E[x^2] - E[x]^2 subtracts two "
                                   "numbers near 10^6 whose float32 rounding error is larger than the variance",
                 atol=2e-3, rtol=0, what="output for x = 1000 + N(0, 1) in float32 (vs a float64 reference)")
    expect_close(got["running_var"], want["running_var"], RULES["running_var"], atol=1e-3, rtol=1e-3,
                 what="running_var after the step")
