# CORRECT, written differently: computes the Adam direction first (out of place, with Kingma &
# Ba's folded bias correction) and then writes p_new = p * (1 - lr * wd) - lr_t * m / (sqrt(v) + eps_hat)
# in one assignment -- the decay still acts on the old weights, as torch's does.
import math
from collections import defaultdict

import torch


def adamw_step(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
    b1, b2 = betas
    t = state.get("step", 0) + 1
    m = b1 * state.get("exp_avg", torch.zeros_like(param)) + (1 - b1) * grad
    v = b2 * state.get("exp_avg_sq", torch.zeros_like(param)) + (1 - b2) * grad.square()
    state.update(step=t, exp_avg=m, exp_avg_sq=v)
    if amsgrad:
        v = torch.maximum(state.get("max_exp_avg_sq", torch.zeros_like(param)), v)
        state["max_exp_avg_sq"] = v
    c2 = math.sqrt(1 - b2 ** t)
    direction = m / (v.sqrt() + eps * c2)
    param.copy_(param * (1 - lr * weight_decay) - lr * c2 / (1 - b1 ** t) * direction)


class AdamW:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        if lr < 0 or eps < 0 or weight_decay < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError("invalid AdamW hyperparameter")
        self.params = list(params)
        self.kw = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad}
        self.state = defaultdict(dict)

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        with torch.no_grad():
            for p in self.params:
                if p.grad is not None:
                    adamw_step(p, p.grad, self.state[p], **self.kw)
