"""Visible checks: small expressions through your Value (values and gradients against torch's
autograd), a Value used twice, numbers on either side of an operator, and three steps of
fit_line.

An expression is given to the probe as a *program*: a list of instructions, each making one
node from earlier ones -- ``("leaf", 2.0)``, ``("mul", 0, 1)`` (node 0 times node 1),
``("rsub_c", 1.0, 2)`` (the number 1.0 minus node 2), ``("tanh", 3)`` ...  The probe builds
the nodes with your Value, calls ``backward()`` on the last one and reports every node's
``data`` and ``grad``; the check runs the same program through torch.autograd in float64."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect, expect_close, probe

# How each instruction builds a node, with the learner's Value (v: the earlier nodes).
BUILD = {
    "add": lambda v, i, j: v[i] + v[j], "mul": lambda v, i, j: v[i] * v[j],
    "sub": lambda v, i, j: v[i] - v[j], "div": lambda v, i, j: v[i] / v[j],
    "pow": lambda v, i, k: v[i] ** k, "neg": lambda v, i: -v[i],
    "relu": lambda v, i: v[i].relu(), "tanh": lambda v, i: v[i].tanh(),
    "exp": lambda v, i: v[i].exp(), "log": lambda v, i: v[i].log(),
    "add_c": lambda v, i, c: v[i] + c, "radd_c": lambda v, c, i: c + v[i],
    "mul_c": lambda v, i, c: v[i] * c, "rmul_c": lambda v, c, i: c * v[i],
    "sub_c": lambda v, i, c: v[i] - c, "rsub_c": lambda v, c, i: c - v[i],
    "div_c": lambda v, i, c: v[i] / c, "rdiv_c": lambda v, c, i: c / v[i],
}


@probe
def evaluate(sub, program, backward=True):
    """Build every node of ``program`` with ``sub.Value``, call backward() on the last one (unless
    ``backward`` is False), report each node's data and grad (whatever types they have)."""
    nodes = []
    for op, *args in program:
        nodes.append(sub.Value(args[0]) if op == "leaf" else BUILD[op](nodes, *args))
    if backward:
        nodes[-1].backward()
    return {"data": [getattr(n, "data", None) for n in nodes], "grad": [getattr(n, "grad", None) for n in nodes]}


# The same instructions in torch (float64 scalars).
TORCH = {
    "add": lambda v, i, j: v[i] + v[j], "mul": lambda v, i, j: v[i] * v[j],
    "sub": lambda v, i, j: v[i] - v[j], "div": lambda v, i, j: v[i] / v[j],
    "pow": lambda v, i, k: v[i] ** k, "neg": lambda v, i: -v[i],
    "relu": lambda v, i: torch.relu(v[i]), "tanh": lambda v, i: torch.tanh(v[i]),
    "exp": lambda v, i: torch.exp(v[i]), "log": lambda v, i: torch.log(v[i]),
    "add_c": lambda v, i, c: v[i] + c, "radd_c": lambda v, c, i: c + v[i],
    "mul_c": lambda v, i, c: v[i] * c, "rmul_c": lambda v, c, i: c * v[i],
    "sub_c": lambda v, i, c: v[i] - c, "rsub_c": lambda v, c, i: c - v[i],
    "div_c": lambda v, i, c: v[i] / c, "rdiv_c": lambda v, c, i: c / v[i],
}

# What each instruction asks of the Value class: the rule a wrong number breaks.
RULE_OF = {
    "add": "a + b: data a + b, local derivative 1 to each operand (accumulate with +=)",
    "mul": "a * b: data a * b, local derivative b to a and a to b (accumulate with +=)",
    "sub": "a - b is a + (-1 * b): it only needs + and * right",
    "div": "a / b is a * b ** -1: it needs * and ** right",
    "pow": "x ** k: data x ** k, local derivative k * x ** (k - 1)",
    "neg": "-x is x * -1: it needs * with a number right",
    "relu": "relu: data max(0, x), local derivative 1 where x > 0 and 0 elsewhere (also at 0)",
    "tanh": "tanh: data tanh(x) (finite for any x), local derivative 1 - tanh(x) ** 2",
    "exp": "exp: data e ** x, local derivative e ** x",
    "log": "log: data log(x), local derivative 1 / x",
    "add_c": "x + number wraps the number as a Value", "radd_c": "number + x uses __radd__, then +",
    "mul_c": "x * number wraps the number as a Value", "rmul_c": "number * x uses __rmul__, then *",
    "sub_c": "x - number is x + (-number)", "rsub_c": "number - x is number + (-x)",
    "div_c": "x / number is x * number ** -1", "rdiv_c": "number / x is number * x ** -1: it needs ** right",
}


def oracle(program):
    """(data, grad) of every node, from torch.autograd in float64 (grad 0 where the root does not depend)."""
    nodes = []
    for op, *args in program:
        if op == "leaf":
            node = torch.tensor(float(args[0]), dtype=torch.float64, requires_grad=True)
        else:
            node = TORCH[op](nodes, *args)
            node.retain_grad()
        nodes.append(node)
    nodes[-1].backward()
    data = [float(n.detach()) for n in nodes]
    grad = [0.0 if n.grad is None else float(n.grad) for n in nodes]
    return data, grad


def numbers(values, what, rule):
    """Judge side: a list of Python floats (ints accepted), or a Fail."""
    if not isinstance(values, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                               for v in values):
        bad = next((v for v in values if not isinstance(v, (int, float))), values) if isinstance(values, list) \
            else values
        raise Fail(rule, f"{what}: expected Python floats, your Value holds {describe(bad)}")
    return [float(v) for v in values]


def show(program, i):
    """Instruction ``i`` in words, e.g. 'node 4 = mul(node 1, node 3)' or 'node 5 = rsub_c(1.0, node 2)'."""
    op, *args = program[i]
    if op == "leaf":
        return f"node {i} = Value({args[0]!r})"
    if op == "pow" or op.endswith("_c") and not op.startswith("r"):
        parts = [f"node {args[0]}", repr(args[1])]
    elif op.endswith("_c"):
        parts = [repr(args[0]), f"node {args[1]}"]
    else:
        parts = [f"node {a}" for a in args]
    return f"node {i} = {op}({', '.join(parts)})"


def operands(instruction):
    """The node indices an instruction reads (not its numbers)."""
    op, *args = instruction
    if op == "leaf":
        return []
    if op == "pow":
        return [args[0]]
    if op.endswith("_c"):
        return [args[1] if op.startswith("r") else args[0]]
    return list(args)


def expect_program(run, program, what, rtol=1e-9, atol=1e-12, rule=None):
    """Judge side: every node's data equals torch's (the first wrong one, in program order, blames
    its own operation), then every node's grad (the first wrong one from the root down blames the
    operations that use it: their local derivatives, or backward's order)."""
    got = run(evaluate, program)
    want_data, want_grad = oracle(program)
    data = numbers(got["data"], f"data ({what})", "each operation returns a new Value whose data is a Python float")
    grad = numbers(got["grad"], f"grad ({what})", "grad is a Python float (0.0 until backward reaches the node)")

    def close(g, w):
        return abs(g - w) <= atol + rtol * abs(w) or (math.isnan(g) and math.isnan(w))

    for i, (g, w) in enumerate(zip(data, want_data)):
        if not close(g, w):
            raise Fail(RULE_OF.get(program[i][0], "a leaf keeps its data"),
                       f"{what}: data of {show(program, i)}: expected {w:.10g}, your Value has {g:.10g}"
                       f"\n  program: {program}")
    last = len(program) - 1
    if not close(grad[last], 1.0):
        raise Fail("backward starts with self.grad = 1.0 (d root / d root)",
                   f"{what}: grad of the root ({show(program, last)}) is {grad[last]:.10g}")
    for i in range(last - 1, -1, -1):
        if not close(grad[i], want_grad[i]):
            users = sorted({program[u][0] for u in range(i + 1, len(program)) if i in operands(program[u])})
            why = rule or ("backward: d root / d node is the sum over the node's users of (local derivative x the "
                           "user's grad), each _backward run once, after its users: "
                           + "; ".join(RULE_OF.get(op, op) for op in users))
            raise Fail(why, f"{what}: grad of {show(program, i)} (used by {', '.join(users) or 'nothing'}): "
                            f"expected {want_grad[i]:.10g}, your Value has {grad[i]:.10g}\n  program: {program}")


@probe
def fit(sub, xs, ys, steps, lr):
    """Call sub.fit_line, counting calls of Value.backward."""
    calls = []
    original = sub.Value.backward

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    sub.Value.backward = counted
    try:
        out = sub.fit_line(xs, ys, steps, lr)
    finally:
        sub.Value.backward = original
    return {"out": out, "backward_calls": len(calls)}


def fit_oracle(xs, ys, steps, lr):
    """Gradient descent on the mean squared error with the closed-form gradients, in float64."""
    w = b = 0.0
    n = len(xs)
    losses = []
    for _ in range(steps):
        r = [w * x + b - y for x, y in zip(xs, ys)]
        losses.append(sum(e * e for e in r) / n)
        gw, gb = 2 * sum(e * x for e, x in zip(r, xs)) / n, 2 * sum(r) / n
        w, b = w - lr * gw, b - lr * gb
    return w, b, losses


def expect_fit(run, xs, ys, steps, lr, what):
    got = run(fit, xs, ys, steps, lr)
    out = got["out"]
    rule = "fit_line returns (w, b, losses): two floats and a list of one loss per step"
    if not isinstance(out, (list, tuple)) or len(out) != 3 or not isinstance(out[2], list):
        raise Fail(rule, f"{what}: your code returned {describe(out)}")
    w, b, losses = out
    want_w, want_b, want_losses = fit_oracle(xs, ys, steps, lr)
    expect(got["backward_calls"] == steps, "fit_line trains with your engine: loss.backward() once per step",
           f"{what}: {steps} steps, your code called Value.backward {got['backward_calls']} times")
    expect_close(numbers(losses, "losses", rule), want_losses, "losses[s] = mean of (w x_i + b - y_i)^2 before "
                 "update s; zero w.grad and b.grad before each backward (gradients accumulate)", rtol=1e-9,
                 atol=1e-12, what=f"losses ({what})")
    expect_close([w, b], [want_w, want_b], "w -= lr * dL/dw and b -= lr * dL/db after each backward, starting from "
                 "w = b = 0", rtol=1e-9, atol=1e-12, what=f"[w, b] ({what})")


@check("a * b + c: values and gradients (d/da = b, d/db = a, d/dc = 1)")
def mul_add(run):
    expect_program(run, [("leaf", 2.0), ("leaf", -3.0), ("leaf", 10.0), ("mul", 0, 1), ("add", 3, 2)], "a * b + c")


@check("x ** 3, relu, tanh, exp and log: values and local derivatives")
def unary(run):
    expect_program(run, [("leaf", 1.5), ("pow", 0, 3), ("tanh", 1), ("leaf", -0.5), ("relu", 3), ("leaf", 0.7),
                         ("exp", 5), ("log", 6), ("add", 2, 4), ("add", 8, 7)], "x**3, tanh, relu, exp, log")


@check("a Value used twice collects both contributions: d(x * x + x)/dx = 2x + 1")
def reuse(run):
    expect_program(run, [("leaf", 3.0), ("mul", 0, 0), ("add", 1, 0)], "x * x + x at x = 3")


@check("numbers on either side: 2 * x, x + 1, 1 - x, 3 / x, x / 4")
def numbers_both_sides(run):
    expect_program(run, [("leaf", 2.0), ("rmul_c", 2.0, 0), ("add_c", 1, 1.0), ("rsub_c", 1.0, 2), ("rdiv_c", 3.0, 0),
                         ("div_c", 4, 4.0), ("add", 3, 5)], "numbers mixed with Values")


@check("fit_line: three steps of gradient descent on three points")
def fit_three_steps(run):
    expect_fit(run, [0.0, 1.0, 2.0], [1.0, 3.0, 5.0], 3, 0.1, "3 points, 3 steps, lr 0.1")
