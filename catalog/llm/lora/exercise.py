"""LoRA: fine-tune a frozen linear layer through a trainable low-rank update.

Full fine-tuning of an LLM updates every weight matrix W of shape ``[out, in]``.  LoRA (Hu et
al., 2021, "LoRA: Low-Rank Adaptation of Large Language Models") freezes W and learns the
update as a product of two thin matrices, ``delta_W = B @ A`` with ``A: [r, in]``,
``B: [out, r]`` and a rank ``r`` much smaller than ``in`` and ``out``:

    y = x W^T + b + (alpha / r) * x A^T B^T

* Trainable parameters drop from ``out * in`` to ``r * (in + out)``, and the optimizer state
  with them: only A and B require gradients.
* ``B`` starts at zero, so at initialisation the layer computes exactly what the pretrained
  layer computed; ``A`` starts random (Kaiming-uniform, the default init of ``nn.Linear``, as
  Hugging Face PEFT does), so that the gradient of B is not zero and training can start.
* ``alpha / r`` scales the update so that changing ``r`` does not require retuning the
  learning rate.
* Dropout, if any, acts only on the LoRA path's input ``x``, never on the frozen path.
* For inference the update can be *merged* into the weight, ``W <- W + (alpha / r) B A``: one
  matrix multiply again, no extra latency.  ``unmerge`` subtracts it back out so training can
  continue (or another adapter can be swapped in).

This mirrors ``peft.tuners.lora.layer.Linear`` (``update_layer``, ``reset_lora_parameters``,
``forward``, ``merge``, ``unmerge``, ``get_delta_weight``) for a single adapter.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a trainable rank-``r`` update.

    Args (constructor):
        base: the pretrained ``nn.Linear`` (weight ``[out, in]``, bias ``[out]`` or None).
        r: the rank of the update (a positive int).
        alpha: the LoRA alpha; the update is scaled by ``alpha / r``.
        dropout: dropout probability on the LoRA path's input (0 means no dropout); applied
            only in training mode, as ``nn.Dropout`` does.

    Attributes (the graders read and set them):
        weight: ``[out, in]`` frozen (``requires_grad`` False), equal to ``base.weight`` at
            construction; a parameter or a buffer, shared with ``base`` or a copy.
        bias: ``[out]`` frozen, equal to ``base.bias``, or None when ``base`` has no bias.
        lora_A: ``nn.Parameter`` of shape ``[r, in]``, Kaiming-uniform initialised exactly as
            ``nn.init.kaiming_uniform_(A, a=math.sqrt(5))`` does: U(-1/sqrt(in), 1/sqrt(in)) (drawn
            from torch's global generator; only the distribution is checked, not the exact values).
        lora_B: ``nn.Parameter`` of shape ``[out, r]``, initialised to zeros.
        scaling: the float ``alpha / r``.
        merged: bool, True while the update is folded into ``weight``.

    ``lora_A`` and ``lora_B`` are the only parameters that require grad; both have the dtype
    and device of ``base.weight``.
    """

    def __init__(self, base: nn.Linear, r: int = 8, alpha: float = 8.0, dropout: float = 0.0):
        super().__init__()
        ### BEGIN SOLUTION
        w = base.weight.detach()
        out_features, in_features = w.shape
        self.weight = nn.Parameter(w.clone(), requires_grad=False)                  # (out, in) frozen
        self.bias = None if base.bias is None else nn.Parameter(base.bias.detach().clone(), requires_grad=False)
        self.lora_A = nn.Parameter(torch.empty(r, in_features, dtype=w.dtype, device=w.device))   # (r, in)
        self.lora_B = nn.Parameter(torch.zeros(out_features, r, dtype=w.dtype, device=w.device))  # (out, r)
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))   # as nn.Linear and PEFT: U(+-1/sqrt(in))
        self.scaling = alpha / r
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.merged = False
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``(..., in)`` -> ``(..., out)``, in the dtype of the parameters.

        Unmerged: ``x W^T + b + scaling * dropout(x) A^T B^T``.  Merged: ``x W^T + b`` (the
        update is already inside ``W``).
        """
        ### BEGIN SOLUTION
        out = F.linear(x, self.weight, self.bias)                                    # (..., out)
        if not self.merged:
            update = self.dropout(x) @ self.lora_A.T @ self.lora_B.T                 # (..., r) -> (..., out)
            out = out + self.scaling * update
        return out
        ### END SOLUTION

    @torch.no_grad()
    def merge(self) -> None:
        """Fold the update into the frozen weight: ``weight += scaling * B @ A``; set ``merged``.

        Does nothing when already merged (merging twice must not add the update twice).  The
        weight stays frozen: merging records no autograd history.
        """
        ### BEGIN SOLUTION
        if not self.merged:
            self.weight += self.scaling * (self.lora_B @ self.lora_A)                # (out, r) @ (r, in)
            self.merged = True
        ### END SOLUTION

    @torch.no_grad()
    def unmerge(self) -> None:
        """Undo ``merge``: ``weight -= scaling * B @ A``; clear ``merged``.  Does nothing when not merged."""
        ### BEGIN SOLUTION
        if self.merged:
            self.weight -= self.scaling * (self.lora_B @ self.lora_A)
            self.merged = False
        ### END SOLUTION
