# CORRECT, written differently: out-of-place arithmetic (a fresh buffer tensor is stored every
# step, the parameter is overwritten with copy_), and a defaultdict for the per-parameter state.
from collections import defaultdict

import torch


def sgd_step(param, grad, state, *, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    g = grad + weight_decay * param if weight_decay else grad
    if momentum:
        prev = state.get("momentum_buffer")
        buf = g.clone() if prev is None else momentum * prev + (1 - dampening) * g
        state["momentum_buffer"] = buf
        g = g + momentum * buf if nesterov else buf
    param.copy_(param - lr * g)


class SGD:
    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        if min(lr, momentum, weight_decay) < 0:
            raise ValueError("negative hyperparameter")
        if nesterov and not (momentum > 0 and dampening == 0):
            raise ValueError("Nesterov needs momentum > 0 and dampening == 0")
        self.params = [p for p in params]
        self.lr, self.momentum, self.dampening = lr, momentum, dampening
        self.weight_decay, self.nesterov = weight_decay, nesterov
        self.state = defaultdict(dict)

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        with torch.no_grad():
            for p in filter(lambda q: q.grad is not None, self.params):
                sgd_step(p, p.grad, self.state[p], lr=self.lr, momentum=self.momentum, dampening=self.dampening,
                         weight_decay=self.weight_decay, nesterov=self.nesterov)
