"""An autograd engine in 100 lines: micrograd's ``Value``.

Every deep-learning framework rests on one idea, reverse-mode automatic differentiation, and
Karpathy's *micrograd* shows it fits on a page.  A :class:`Value` wraps one Python float and
remembers how it was made: its ``_prev`` (the Values it was computed from) and a ``_backward``
closure that knows the operation's *local* derivative.  ``out = a * b`` stores a closure that,
given ``out.grad = dL/d out``, adds ``b.data * out.grad`` to ``a.grad`` and ``a.data * out.grad``
to ``b.grad`` -- the chain rule, one edge at a time.

``root.backward()`` then computes ``d root / d v`` for every Value ``v`` the root depends on:
it sets ``root.grad = 1`` and calls every node's ``_backward`` in **reverse topological order**,
so that a node's gradient is complete (every path through it has contributed) before it is
passed on.  Gradients **accumulate** (``+=``): a Value used twice, as in ``x * x`` or a diamond
``c = a + b; d = a * c``, receives one contribution per use.  That is why training loops zero
the gradients before each ``backward``.

Three parts:

1. the primitive operations ``+``, ``*``, ``**`` (a number exponent), ``relu``, ``tanh``,
   ``exp`` and ``log``, each with its local derivative (``-``, ``/`` and the reflected forms are
   given: they are built from the primitives);
2. ``backward``: topological order, then the closures in reverse;
3. ``fit_line``: gradient descent on a mean squared error with your engine.

The grader runs random expression graphs through your engine and through ``torch.autograd`` (in
float64) and compares every node's value and gradient.
"""
import math
from typing import List, Tuple, Union

Number = Union[int, float]


class Value:
    """A scalar in a computation graph.

    Attributes:
        data: the value, a Python float.
        grad: ``d root / d self`` after ``root.backward()``; 0.0 until a backward pass reaches it.
        _prev: the Values this one was computed from (empty for a leaf).
        _op: the operation's name, for printing.
        _backward: a closure that adds this node's contribution to its children's ``grad``
            (given ``self.grad``); does nothing for a leaf.
    """

    def __init__(self, data: Number, _children: Tuple["Value", ...] = (), _op: str = ""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        self._op = _op

    # ---- part 1: the primitives ------------------------------------------------------------

    def __add__(self, other: Union["Value", Number]) -> "Value":
        """``self + other``; a number ``other`` is wrapped as a leaf ``Value(other)`` first.
        Local derivatives: 1 for each operand."""
        ### BEGIN SOLUTION
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out
        ### END SOLUTION

    def __mul__(self, other: Union["Value", Number]) -> "Value":
        """``self * other``; a number is wrapped first.  Local derivatives: the other operand."""
        ### BEGIN SOLUTION
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out
        ### END SOLUTION

    def __pow__(self, k: Number) -> "Value":
        """``self ** k`` for a number ``k`` (int or float; not a Value).
        Local derivative: ``k * self.data ** (k - 1)``."""
        ### BEGIN SOLUTION
        assert isinstance(k, (int, float)), "only number exponents are supported"
        out = Value(self.data ** k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out
        ### END SOLUTION

    def relu(self) -> "Value":
        """``max(0, x)``.  Local derivative: 1 where ``x > 0``, else 0 (0 at ``x == 0``, as torch)."""
        ### BEGIN SOLUTION
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad
        out._backward = _backward
        return out
        ### END SOLUTION

    def tanh(self) -> "Value":
        """``tanh(x)``, finite for any finite ``x`` (``tanh(1000) = 1``; no overflow).
        Local derivative: ``1 - tanh(x) ** 2``."""
        ### BEGIN SOLUTION
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            self.grad += (1.0 - t * t) * out.grad
        out._backward = _backward
        return out
        ### END SOLUTION

    def exp(self) -> "Value":
        """``e ** x``.  Local derivative: ``e ** x`` itself."""
        ### BEGIN SOLUTION
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out
        ### END SOLUTION

    def log(self) -> "Value":
        """Natural log of ``x > 0``.  Local derivative: ``1 / x``."""
        ### BEGIN SOLUTION
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out
        ### END SOLUTION

    # ---- given: everything else is built from the primitives --------------------------------

    def __neg__(self) -> "Value":
        return self * -1

    def __radd__(self, other: Number) -> "Value":      # other + self
        return self + other

    def __sub__(self, other: Union["Value", Number]) -> "Value":
        return self + (-other)

    def __rsub__(self, other: Number) -> "Value":      # other - self
        return other + (-self)

    def __rmul__(self, other: Number) -> "Value":      # other * self
        return self * other

    def __truediv__(self, other: Union["Value", Number]) -> "Value":
        return self * other ** -1

    def __rtruediv__(self, other: Number) -> "Value":  # other / self
        return other * self ** -1

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    # ---- part 2: backpropagation -------------------------------------------------------------

    def backward(self) -> None:
        """Fill in ``grad`` of every Value this one depends on with ``d self / d value``.

        Sets ``self.grad = 1.0``, then calls each node's ``_backward`` exactly once, in reverse
        topological order (a node only after every node computed from it), so that a Value used
        by several others collects all their contributions before passing its gradient on.
        Gradients accumulate into whatever ``grad`` already holds (a fresh graph starts at 0).
        Must work on graphs 10,000 operations deep: walk the graph with an explicit stack, not
        recursion (Python's default recursion limit is 1,000).
        """
        ### BEGIN SOLUTION
        order, seen = [], set()
        stack = [(self, False)]
        while stack:                                  # iterative depth-first post-order
            node, children_done = stack.pop()
            if children_done:
                order.append(node)                    # every Value it depends on is already in
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev if id(child) not in seen)
        self.grad = 1.0
        for node in reversed(order):                  # the root first, the leaves last
            node._backward()
        ### END SOLUTION


# ---- part 3: train with it -------------------------------------------------------------------

def fit_line(xs: List[float], ys: List[float], steps: int, lr: float) -> Tuple[float, float, List[float]]:
    """Fit ``y = w * x + b`` by full-batch gradient descent on the mean squared error, with Value.

    ``w`` and ``b`` are Values starting at 0.0.  Each of the ``steps`` steps:

    1. builds ``loss = (1 / n) * sum_i (w * x_i + b - y_i) ** 2`` from the current ``w`` and ``b``;
    2. sets ``w.grad`` and ``b.grad`` to 0 (gradients accumulate: without this, every step would
       add the previous steps' gradients);
    3. calls ``loss.backward()`` -- exactly once per step;
    4. updates ``w.data -= lr * w.grad`` and ``b.data -= lr * b.grad``.

    Args:
        xs, ys: the ``n >= 1`` points, Python floats.
        steps: the number of updates (0 returns ``(0.0, 0.0, [])``).
        lr: the learning rate.

    Returns:
        ``(w, b, losses)``: the final parameters as floats and ``losses[s]``, the loss (a float)
        built at step ``s`` -- before that step's update.
    """
    ### BEGIN SOLUTION
    w, b = Value(0.0), Value(0.0)
    losses = []
    n = len(xs)
    for _ in range(steps):
        loss = sum(((w * x + b - y) ** 2 for x, y in zip(xs, ys)), Value(0.0)) * (1.0 / n)
        w.grad = b.grad = 0.0
        loss.backward()
        for p in (w, b):
            p.data -= lr * p.grad
        losses.append(loss.data)
    return w.data, b.data, losses
    ### END SOLUTION
