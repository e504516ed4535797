# CORRECT, written differently: update() without a step() in the iteration raises RuntimeError, as
# torch.amp.GradScaler does (the docstring leaves that case free).
"""Dynamic loss scaling for mixed-precision training -- the state machine of ``torch.amp.GradScaler``.

In float16 the smallest normal number is about 6e-5: small gradients flush to zero during the
backward pass and training silently stalls.  Multiplying the loss by a large *scale* ``S``
multiplies every gradient by ``S`` too (the chain rule is linear), lifting them into range; the
optimizer must then see the gradients divided by ``S`` again.  Too large a scale overflows the
other end (65504 is float16's largest value) and gradients become inf or NaN.  So the scale is
chosen *dynamically* (Micikevicius et al., 2018, "Mixed Precision Training"):

* every iteration: ``scale(loss).backward()``, then ``step(optimizer)``, then ``update()``;
* ``step`` divides the gradients by the scale (``unscale_``, once -- the caller may already have
  done it, e.g. to clip gradients) and calls ``optimizer.step()`` only if every gradient is
  finite; otherwise the step is *skipped* -- the weights and the optimizer state stay untouched;
* ``update`` adjusts the scale: after an overflow it is multiplied by ``backoff_factor`` and the
  count of good steps restarts at 0; after ``growth_interval`` consecutive good steps it is
  multiplied by ``growth_factor`` and the count restarts at 0.

Implement the scaler with ``torch.amp.GradScaler``'s API and semantics (CPU or GPU alike),
without using it.
"""
import torch


class DynamicLossScaler:
    """A dynamic loss scaler with ``torch.amp.GradScaler``'s state machine.

    Args:
        init_scale: the initial scale ``S`` (a positive float).
        growth_factor: ``> 1``; multiplies ``S`` after ``growth_interval`` consecutive good steps.
        backoff_factor: in ``(0, 1)``; multiplies ``S`` after a step with an inf/NaN gradient.
        growth_interval: a positive int.

    The ``optimizer`` passed to ``unscale_`` and ``step`` is a ``torch.optim`` optimizer, or any
    object with ``.param_groups`` (a list of dicts whose ``"params"`` list the parameters) and
    ``.step()``.  Parameters whose ``.grad`` is None are ignored.

    One iteration is ``scale`` -> backward -> optionally ``unscale_`` -> ``step`` -> ``update``.
    """

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000):
        self._scale = float(init_scale)
        self.growth_factor = growth_factor
        self.backoff_factor = backoff_factor
        self.growth_interval = growth_interval
        self._growth_tracker = 0
        self._unscaled = False          # unscale_ already ran this iteration
        self._found_inf = False         # an inf/NaN gradient was seen this iteration

    def get_scale(self) -> float:
        """The current scale ``S``, a Python float."""
        return self._scale

    def scale(self, loss: torch.Tensor) -> torch.Tensor:
        """Return ``loss * S``: a new tensor, differentiable (backward through it gives gradients
        multiplied by ``S``), same dtype as ``loss``; ``loss`` itself is not modified."""
        return loss * self._scale

    def unscale_(self, optimizer) -> None:
        """Divide, in place, every gradient of the optimizer's parameters by ``S``, and record
        whether any gradient holds an inf or a NaN.

        Raises:
            RuntimeError: when called a second time in the same iteration (before ``update``):
                the gradients would be divided twice.
        """
        if self._unscaled:
            raise RuntimeError("unscale_() has already been called since the last update()")
        inv_scale = 1.0 / self._scale
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if not torch.isfinite(p.grad).all():
                    self._found_inf = True
                p.grad.mul_(inv_scale)
        self._unscaled = True

    def step(self, optimizer) -> bool:
        """Unscale the gradients (unless ``unscale_`` already did, this iteration), then call
        ``optimizer.step()`` only if all of them are finite.

        Returns:
            True if ``optimizer.step()`` was called, False if the step was skipped.
        """
        if not self._unscaled:
            self.unscale_(optimizer)
        if self._found_inf:
            return False
        optimizer.step()
        return True

    def update(self) -> None:
        """End the iteration: back off after an overflow (and restart the count of good steps),
        otherwise count the good step and grow the scale when the count reaches
        ``growth_interval`` (then restart the count).

        ``update`` ends an iteration that called ``step``; called without a ``step`` since the
        last ``update`` it may do what you like -- raise (as ``torch.amp.GradScaler`` does) or
        count a good step -- that case is not graded."""
        if not self._unscaled:
            raise RuntimeError("update() called without step() in this iteration")
        if self._found_inf:
            self._scale *= self.backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self.growth_interval:
                self._scale *= self.growth_factor
                self._growth_tracker = 0
        self._unscaled = False
        self._found_inf = False

    def state_dict(self) -> dict:
        """``{"scale": float, "growth_factor": ..., "backoff_factor": ..., "growth_interval": ...,
        "_growth_tracker": int}`` -- the keys of ``torch.amp.GradScaler.state_dict()``;
        ``_growth_tracker`` is the number of consecutive good steps since the last change of scale."""
        return {"scale": self._scale, "growth_factor": self.growth_factor, "backoff_factor": self.backoff_factor,
                "growth_interval": self.growth_interval, "_growth_tracker": self._growth_tracker}
