# BUG: keeps nn.Linear's default bias=True: extra parameters LLaMA checkpoints do not have.
import torch
import torch.nn as nn


def swiglu(x_gate, x_up):
    return x_gate * torch.sigmoid(x_gate) * x_up


class SwiGLUMLP(nn.Module):
    def __init__(self, hidden_size, intermediate_size):
        super().__init__()
        self.gate_proj = nn.Linear(hidden_size, intermediate_size)
        self.up_proj = nn.Linear(hidden_size, intermediate_size)
        self.down_proj = nn.Linear(intermediate_size, hidden_size)

    def forward(self, x):
        return self.down_proj(swiglu(self.gate_proj(x), self.up_proj(x)))
