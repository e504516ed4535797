# CORRECT, written differently: the scale lives in a float32 0-dim tensor like GradScaler's, the
# overflow test is a single reduction over all gradients (sum of non-finite counts), gradients
# are unscaled with in-place division, and the iteration stage is an explicit string.
import torch


class DynamicLossScaler:
    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000):
        self._scale_t = torch.tensor(float(init_scale), dtype=torch.float32)
        self._cfg = (growth_factor, backoff_factor, growth_interval)
        self._good = 0
        self._stage = "ready"          # -> "unscaled" -> "stepped" -> (update) "ready"
        self._bad = 0

    def get_scale(self):
        return float(self._scale_t)

    def scale(self, loss):
        return loss * self._scale_t.to(loss.dtype) if loss.dtype == torch.float32 else loss * self.get_scale()

    def unscale_(self, optimizer):
        if self._stage != "ready":
            raise RuntimeError("unscale_() called twice in one iteration")
        grads = [p.grad for g in optimizer.param_groups for p in g["params"] if p.grad is not None]
        self._bad = int(sum((~torch.isfinite(gr)).sum() for gr in grads)) if grads else 0
        for gr in grads:
            gr.div_(self._scale_t.double().item())
        self._stage = "unscaled"

    def step(self, optimizer):
        if self._stage == "ready":
            self.unscale_(optimizer)
        self._stage = "stepped"
        if self._bad:
            return False
        optimizer.step()
        return True

    def update(self):
        growth, backoff, interval = self._cfg
        if self._bad:
            self._scale_t *= backoff
            self._good = 0
        else:
            self._good = (self._good + 1) % interval
            if self._good == 0:
                self._scale_t *= growth
        self._bad, self._stage = 0, "ready"

    def state_dict(self):
        growth, backoff, interval = self._cfg
        return {"scale": self.get_scale(), "growth_factor": growth, "backoff_factor": backoff,
                "growth_interval": interval, "_growth_tracker": self._good}
