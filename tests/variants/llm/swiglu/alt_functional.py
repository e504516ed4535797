# CORRECT, written differently: SiLU through torch.special.expit, the MLP's forward with F.linear on
# the named weights, and an einsum for the way down.
import torch
import torch.nn as nn
import torch.nn.functional as F


def _silu(z):
    return z * torch.special.expit(z)


def swiglu(x_gate, x_up):
    return torch.mul(_silu(x_gate), x_up)


class SwiGLUMLP(nn.Module):
    def __init__(self, hidden_size, intermediate_size):
        super().__init__()
        self.hidden_size, self.intermediate_size = hidden_size, intermediate_size
        self.gate_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.up_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.down_proj = nn.Linear(intermediate_size, hidden_size, bias=False)

    def forward(self, x):
        gate = F.linear(x, self.gate_proj.weight)
        up = F.linear(x, self.up_proj.weight)
        h = swiglu(gate, up)
        return torch.einsum("...i,hi->...h", h, self.down_proj.weight)
