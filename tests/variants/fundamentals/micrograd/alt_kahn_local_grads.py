# CORRECT, written differently: each node stores (child, local derivative) pairs instead of a closure,
# backward orders the graph by Kahn's algorithm (counting each node's users) and pushes gradients
# along those pairs; numbers are wrapped by a helper; tanh from math.tanh, relu by a comparison.
import math


def _wrap(x):
    return x if isinstance(x, Value) else Value(x)


class Value:
    def __init__(self, data, _children=(), _op=""):
        self.data = float(data)
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)
        self._op = _op
        self._local = ()

    def _make(self, data, pairs, op):
        out = Value(data, tuple(c for c, _ in pairs), op)
        out._local = tuple(pairs)
        return out

    def __add__(self, other):
        other = _wrap(other)
        return self._make(self.data + other.data, [(self, 1.0), (other, 1.0)], "+")

    def __mul__(self, other):
        other = _wrap(other)
        return self._make(self.data * other.data, [(self, other.data), (other, self.data)], "*")

    def __pow__(self, k):
        return self._make(self.data ** k, [(self, k * self.data ** (k - 1))], "**")

    def relu(self):
        on = self.data > 0
        return self._make(self.data if on else 0.0, [(self, 1.0 if on else 0.0)], "relu")

    def tanh(self):
        t = math.tanh(self.data)
        return self._make(t, [(self, 1.0 - t * t)], "tanh")

    def exp(self):
        e = math.exp(self.data)
        return self._make(e, [(self, e)], "exp")

    def log(self):
        return self._make(math.log(self.data), [(self, 1.0 / self.data)], "log")

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other ** -1

    def __rtruediv__(self, other):
        return other * self ** -1

    def backward(self):
        users = {}                                  # id -> how many edges reach it from its users
        nodes, stack, seen = {}, [self], {id(self)}
        while stack:
            node = stack.pop()
            nodes[id(node)] = node
            for child in node._prev:
                users[id(child)] = users.get(id(child), 0) + 1
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append(child)
        self.grad = 1.0
        ready = [self]
        while ready:                                # Kahn: a node is ready once all its users are done
            node = ready.pop()
            for child, local in node._local:
                child.grad += local * node.grad
                users[id(child)] -= 1
                if users[id(child)] == 0:
                    ready.append(child)


def fit_line(xs, ys, steps, lr):
    w, b = Value(0.0), Value(0.0)
    losses = []
    for _ in range(steps):
        loss = Value(0.0)
        for x, y in zip(xs, ys):
            loss = loss + (w * x + b - y) ** 2
        loss = loss / len(xs)
        w.grad, b.grad = 0.0, 0.0
        loss.backward()
        w.data, b.data = w.data - lr * w.grad, b.data - lr * b.grad
        losses.append(loss.data)
    return w.data, b.data, losses
