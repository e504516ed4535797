"""SwiGLU: the gated feed-forward block of LLaMA, PaLM and Mistral.

The original transformer's feed-forward block is ``W2 relu(W1 x)``.  Shazeer (2020, "GLU
Variants Improve Transformer") replaced the activation by a *gated linear unit*: two parallel
projections of x, one passed through an activation and used as a gate that multiplies the
other elementwise.  With the Swish/SiLU activation ``silu(z) = z * sigmoid(z)`` this is SwiGLU:

    swiglu(a, b) = silu(a) * b
    MLP(x)      = down_proj( silu(gate_proj(x)) * up_proj(x) )

LLaMA uses it with three bias-free projections, ``gate_proj`` and ``up_proj`` of shape
``hidden -> intermediate`` and ``down_proj`` of shape ``intermediate -> hidden``.  Because it has
three matrices instead of two, the intermediate size is shrunk to about ``8/3 * hidden`` (LLaMA-7B:
4096 -> 11008) to keep the parameter count of a ``4 * hidden`` two-matrix MLP.

The parameter names are part of the contract: they are the names in every LLaMA checkpoint
(``model.layers.N.mlp.gate_proj.weight``, ...), so a module that fuses gate and up into one
matrix, or adds biases, cannot load one.  Mirror ``transformers``' ``LlamaMLP`` -- without
calling it, and without ``torch.nn.functional.silu``: write SiLU with ``torch.sigmoid``.
"""
import torch
import torch.nn as nn


def swiglu(x_gate: torch.Tensor, x_up: torch.Tensor) -> torch.Tensor:
    """The SwiGLU gate: ``silu(x_gate) * x_up`` with ``silu(z) = z * sigmoid(z)``.

    Args:
        x_gate: ``(..., d)``, the pre-activation of the gate (what ``gate_proj`` produced).
        x_up: ``(..., d)``, the linear branch (what ``up_proj`` produced), same shape and dtype.

    Returns:
        ``(..., d)`` in the inputs' dtype.  Finite, with finite gradients with respect to both
        inputs, for any finite input (|x_gate| in the thousands included).  The inputs are not
        modified (a new tensor is returned).
    """
    ### BEGIN SOLUTION
    return x_gate * torch.sigmoid(x_gate) * x_up
    ### END SOLUTION


class SwiGLUMLP(nn.Module):
    """LLaMA's feed-forward block: ``down_proj(swiglu(gate_proj(x), up_proj(x)))``.

    Attributes:
        gate_proj: ``nn.Linear(hidden_size, intermediate_size, bias=False)``.
        up_proj: ``nn.Linear(hidden_size, intermediate_size, bias=False)``.
        down_proj: ``nn.Linear(intermediate_size, hidden_size, bias=False)``.

    These three weights (default ``nn.Linear`` initialisation) are the module's only
    parameters, so its ``state_dict`` keys are exactly ``gate_proj.weight``, ``up_proj.weight``
    and ``down_proj.weight``, as in ``LlamaMLP``.

    ``forward(x)``: ``(..., hidden_size)`` -> ``(..., hidden_size)``, in the parameters' dtype.
    """

    def __init__(self, hidden_size: int, intermediate_size: int):
        super().__init__()
        ### BEGIN SOLUTION
        self.gate_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.up_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.down_proj = nn.Linear(intermediate_size, hidden_size, bias=False)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        return self.down_proj(swiglu(self.gate_proj(x), self.up_proj(x)))    # (..., inter) -> (..., hidden)
        ### END SOLUTION
