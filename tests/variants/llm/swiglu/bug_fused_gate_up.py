# BUG: fuses gate_proj and up_proj into one gate_up_proj and chunks its output: the same function,
# but not LLaMA's parameter names, so no LLaMA checkpoint loads into it.
import torch
import torch.nn as nn


def swiglu(x_gate, x_up):
    return x_gate * torch.sigmoid(x_gate) * x_up


class SwiGLUMLP(nn.Module):
    def __init__(self, hidden_size, intermediate_size):
        super().__init__()
        self.gate_up_proj = nn.Linear(hidden_size, 2 * intermediate_size, bias=False)
        self.down_proj = nn.Linear(intermediate_size, hidden_size, bias=False)

    def forward(self, x):
        gate, up = self.gate_up_proj(x).chunk(2, dim=-1)
        return self.down_proj(swiglu(gate, up))
