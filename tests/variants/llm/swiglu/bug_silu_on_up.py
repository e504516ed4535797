# BUG: applies SiLU to the up branch and gates with the raw x_gate.
import torch
import torch.nn as nn


def swiglu(x_gate, x_up):
    return x_up * torch.sigmoid(x_up) * x_gate


class SwiGLUMLP(nn.Module):
    def __init__(self, hidden_size, intermediate_size):
        super().__init__()
        self.gate_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.up_proj = nn.Linear(hidden_size, intermediate_size, bias=False)
        self.down_proj = nn.Linear(intermediate_size, hidden_size, bias=False)

    def forward(self, x):
        return self.down_proj(swiglu(self.gate_proj(x), self.up_proj(x)))
