# BUG: gates with sigmoid(x_gate) (plain GLU) instead of silu(x_gate).
import torch
import torch.nn as nn


def swiglu(x_gate, x_up):
    return torch.sigmoid(x_gate) * x_up


class SwiGLUMLP(nn.Module):
    def __init__(self, hidden_size, intermediate_size):
        super().__init__()
        self.gate_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.up_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.down_proj = nn.Linear(intermediate_size, hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(swiglu(self.gate_proj(x), self.up_proj(x)))
