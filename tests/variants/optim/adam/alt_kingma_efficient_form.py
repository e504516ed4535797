# CORRECT, written differently: Kingma & Ba's "efficient" form (Section 2 of the paper): fold both
# bias corrections into the step size, lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t), and use
# eps_hat = eps * sqrt(1 - beta2^t), which is algebraically the same update as torch's. Out-of-place
# arithmetic throughout; hyperparameters stored as attributes.
import math

import torch


def adam_step(param, grad, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
    b1, b2 = betas
    t = state.get("step", 0) + 1
    g = grad + weight_decay * param if weight_decay else grad
    m = b1 * state["exp_avg"] + (1 - b1) * g if t > 1 else (1 - b1) * g
    v = b2 * state["exp_avg_sq"] + (1 - b2) * g * g if t > 1 else (1 - b2) * g * g
    state.update(step=t, exp_avg=m, exp_avg_sq=v)
    if amsgrad:
        v = torch.maximum(state["max_exp_avg_sq"], v) if t > 1 else v.clone()
        state["max_exp_avg_sq"] = v
    c2 = math.sqrt(1 - b2 ** t)
    lr_t = lr * c2 / (1 - b1 ** t)
    param.copy_(param - lr_t * m / (v.sqrt() + eps * c2))


class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        if min(lr, eps, weight_decay) < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError("invalid Adam hyperparameter")
        self.params = list(params)
        self.lr, self.betas, self.eps, self.weight_decay, self.amsgrad = lr, betas, eps, weight_decay, amsgrad
        self.state = {}

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        for p in self.params:
            if p.grad is None:
                continue
            adam_step(p, p.grad, self.state.setdefault(p, {}), lr=self.lr, betas=self.betas, eps=self.eps,
                      weight_decay=self.weight_decay, amsgrad=self.amsgrad)
