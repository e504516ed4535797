# CORRECT, written differently: sigmoid as exp(logsigmoid(z)), which is stable in both directions.
import torch
import torch.nn as nn
import torch.nn.functional as F


def swiglu(x_gate, x_up):
    return x_gate * torch.exp(F.logsigmoid(x_gate)) * x_up


class SwiGLUMLP(nn.Module):
    def __init__(self, hidden_size, intermediate_size):
        super().__init__()
        for name, (i, o) in (("gate_proj", (hidden_size, intermediate_size)),
                             ("up_proj", (hidden_size, intermediate_size)),
                             ("down_proj", (intermediate_size, hidden_size))):
            setattr(self, name, nn.Linear(i, o, bias=False))

    def forward(self, x):
        return self.down_proj(swiglu(self.gate_proj(x), self.up_proj(x)))
