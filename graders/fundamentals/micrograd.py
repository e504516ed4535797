"""Hidden graders of fundamentals/micrograd: random expression graphs (shared nodes, diamonds,
numbers on either side) through the learner's Value against torch.autograd in float64 -- every
node's value and gradient --, forward values alone (partial credit before backward works),
layered DAGs where only a topological order gives the right sums, relu at 0, tanh of huge
inputs, a 10,000-operation chain (no recursion), a node used as both operands, and fit_line
against closed-form gradient descent."""
import math
import random

from mlkata.checks import Fail, check, expect, expect_close, visible_module

V = visible_module("fundamentals/micrograd")

ARITHMETIC = ("add", "mul", "sub", "neg", "add_c", "radd_c", "mul_c", "rmul_c", "sub_c", "rsub_c")
NONLINEAR = ARITHMETIC + ("pow", "relu", "tanh", "exp", "log", "div", "div_c", "rdiv_c")
EXPONENTS = (2, 3, -1, 0.5, 1.5, -2)


def value_of(op, v, args):
    """The float an instruction computes, or None where it leaves the safe domain (judge side)."""
    x = v[args[0]] if op not in ("radd_c", "rmul_c", "rsub_c", "rdiv_c") else v[args[1]]
    if op == "pow":
        k = args[1]
        if (isinstance(k, float) and x < 0.1) or (k < 0 and abs(x) < 0.4):
            return None
        return x ** k
    if op in ("div", "rdiv_c") and abs(v[args[1]]) < 0.4:
        return None
    if op == "log" and x < 0.1 or op == "exp" and x > 3.0 or op == "relu" and abs(x) < 1e-6:
        return None
    c = args[1] if op.endswith("_c") and not op.startswith("r") else args[0]
    y = {"add": lambda: x + v[args[1]], "mul": lambda: x * v[args[1]], "sub": lambda: x - v[args[1]],
         "div": lambda: x / v[args[1]], "neg": lambda: -x, "relu": lambda: max(x, 0.0),
         "tanh": lambda: math.tanh(x), "exp": lambda: math.exp(x), "log": lambda: math.log(x),
         "add_c": lambda: x + c, "radd_c": lambda: c + x, "mul_c": lambda: x * c, "rmul_c": lambda: c * x,
         "sub_c": lambda: x - c, "rsub_c": lambda: c - x, "div_c": lambda: x / c, "rdiv_c": lambda: c / x}[op]()
    return y if abs(y) < 30 else None


def random_program(seed, n_leaves, n_ops, ops):
    """A random expression graph: leaves, then ``n_ops`` instructions on earlier nodes (recent ones
    preferred, so graphs are deep and nodes are shared), then every unused node summed into the root."""
    rng = random.Random(seed)
    program, v = [], []
    for _ in range(n_leaves):
        program.append(("leaf", round(rng.uniform(-2.0, 2.0), 3)))
        v.append(program[-1][1])
    while len(program) < n_leaves + n_ops:
        op = rng.choice(ops)
        pick = lambda: max(0, len(program) - 1 - int(rng.expovariate(0.25)))  # noqa: E731
        i = pick()
        if op in ("add", "mul", "sub", "div"):
            args = (i, pick())
        elif op == "pow":
            args = (i, rng.choice(EXPONENTS))
        elif op.endswith("_c"):
            c = rng.choice((0.5, 2.0, -1.5, 3.0))
            args = (c, i) if op.startswith("r") else (i, c)
        else:
            args = (i,)
        y = value_of(op, v, args)
        if y is not None:
            program.append((op, *args))
            v.append(y)
    used = {a for ins in program for a in V.operands(ins)}
    dangling = [i for i in range(n_leaves, len(program)) if i not in used]
    root = dangling[0]
    for i in dangling[1:]:
        program.append(("add", root, i))
        root = len(program) - 1
    return program


@check("forward: every node's value on random expression graphs (before any backward)")
def forward_values(run):
    for s in range(4):
        program = random_program(s, 3, 25, NONLINEAR)
        got = run(V.evaluate, program, False)
        want, _ = V.oracle(program)
        data = V.numbers(got["data"], "data", "each operation returns a new Value whose data is a Python float")
        for i, (g, w) in enumerate(zip(data, want)):
            expect(abs(g - w) <= 1e-9 * (1 + abs(w)), V.RULE_OF.get(program[i][0], "a leaf keeps its data"),
                   f"data of {V.show(program, i)}: expected {w:.10g}, your Value has {g:.10g}\n  program: {program}")


@check("+, * and numbers on either side: values and gradients on random graphs agree with torch.autograd",
       points=2)
def arithmetic_random(run):
    for s in range(6):
        V.expect_program(run, random_program(100 + s, 2 + s % 3, 30, ARITHMETIC), f"random graph {s}")


@check("pow, relu, tanh, exp, log and division: values and gradients on random graphs agree with torch.autograd",
       points=2)
def nonlinear_random(run):
    for s in range(6):
        V.expect_program(run, random_program(200 + s, 2 + s % 3, 30, NONLINEAR), f"random graph {s}")


def layered(width, depth, seed):
    """A DAG of ``depth`` layers, each node the product or sum of two nodes of the layer below:
    2^depth paths from the leaves to the root, so every node collects several contributions."""
    rng = random.Random(seed)
    program = [("leaf", round(rng.uniform(0.5, 1.2), 3)) for _ in range(width)]
    below = list(range(width))
    for _ in range(depth):
        layer = []
        for j in range(width):
            a, b = below[j], below[(j + 1) % width]
            program.append(("mul" if rng.random() < 0.5 else "add", a, b))
            program.append(("tanh", len(program) - 1))
            layer.append(len(program) - 1)
        below = layer
    root = below[0]
    for i in below[1:]:
        program.append(("add", root, i))
        root = len(program) - 1
    return program


@check("layered graphs with many paths per node: each _backward runs once, in reverse topological order", points=2)
def topological_order(run):
    rule = ("backward runs every node's _backward exactly once, after all the nodes that use it (reverse "
            "topological order); gradients accumulate with += over every path")
    for s, (width, depth) in enumerate(((3, 6), (4, 5), (2, 9))):
        V.expect_program(run, layered(width, depth, s), f"{width} x {depth} layered graph", rule=rule)


@check("relu passes no gradient at 0 or below; x ** 0 has gradient 0")
def relu_at_zero(run):
    V.expect_program(run, [("leaf", 0.0), ("relu", 0), ("leaf", -1.0), ("relu", 2), ("leaf", 2.0), ("relu", 4),
                           ("leaf", 1.7), ("pow", 6, 0), ("add", 1, 3), ("add", 8, 5), ("add", 9, 7)],
                     "relu at 0, -1 and 2; x ** 0")


@check("tanh of +-400 and +-1000 is +-1 with gradient 0 (no overflow)")
def tanh_extreme(run):
    V.expect_program(run, [("leaf", 400.0), ("tanh", 0), ("leaf", -1000.0), ("tanh", 2), ("leaf", 0.3),
                           ("tanh", 4), ("mul", 1, 3), ("add", 6, 5)], "tanh of huge inputs",
                     rule="tanh(x) must stay finite for any x: use math.tanh (e ** 800 overflows), derivative "
                          "1 - tanh(x) ** 2")


@check("a 10,000-operation chain: backward needs no recursion")
def deep_chain(run):
    program = [("leaf", 0.5)]
    for i in range(5000):
        program += [("mul_c", 2 * i, 0.9999), ("add_c", 2 * i + 1, 0.001)]
    got = run(V.evaluate, program)
    rule = ("backward must work on graphs 10,000 operations deep: build the topological order with an explicit "
            "stack (recursion stops at Python's limit of 1,000 frames)")
    if not isinstance(got, dict):
        raise Fail(rule, f"your code produced {got!r}"[:300])
    grad = V.numbers(got["grad"], "grad", rule)
    expect_close(grad[0], 0.9999 ** 5000, rule + "; d root / d x = 0.9999 ** 5000", rtol=1e-9,
                 what="grad of the leaf at the bottom of the chain")
    expect_close(V.numbers(got["data"], "data", rule)[-1], V.oracle(program[:1] + program[1:])[0][-1],
                 "each step computes x * 0.9999 + 0.001", rtol=1e-9, what="data of the root")


@check("a node used as both operands: x * x, x + x, x - x, x / x")
def same_operand(run):
    for op in ("mul", "add", "sub", "div"):
        V.expect_program(run, [("leaf", 1.5), (op, 0, 0), ("tanh", 1)], f"tanh({op}(x, x)) at x = 1.5")


@check("nodes the root does not depend on keep grad 0; leaves keep their data")
def unused_nodes(run):
    V.expect_program(run, [("leaf", 1.0), ("leaf", 2.0), ("mul", 0, 1), ("exp", 1), ("leaf", -0.5),
                           ("add", 0, 4), ("tanh", 5)], "exp(b) and a * b are not used by the root")


@check("fit_line: losses and parameters of gradient descent on random data (20 steps, grads zeroed)", points=2)
def fit_random(run):
    for s in range(3):
        rng = random.Random(300 + s)
        n = 4 + s
        xs = [round(rng.uniform(-2, 2), 3) for _ in range(n)]
        ys = [round(1.5 * x - 0.7 + rng.gauss(0, 0.3), 3) for x in xs]
        V.expect_fit(run, xs, ys, 20, 0.05 + 0.05 * s, f"{n} points, 20 steps, lr {0.05 + 0.05 * s:g}")


@check("fit_line with steps = 0 returns (0.0, 0.0, []); with one point it fits that point")
def fit_edges(run):
    V.expect_fit(run, [1.0, 2.0], [3.0, 5.0], 0, 0.1, "steps = 0")
    V.expect_fit(run, [2.0], [3.0], 30, 0.1, "a single point, 30 steps")
