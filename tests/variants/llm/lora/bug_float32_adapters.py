# BUG: creates A and B in the default float32 whatever the base layer's dtype.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRALinear(nn.Module):
    def __init__(self, base, r=8, alpha=8.0, dropout=0.0):
        super().__init__()
        w = base.weight.detach()
        out_features, in_features = w.shape
        self.weight = nn.Parameter(w.clone(), requires_grad=False)
        self.bias = None if base.bias is None else nn.Parameter(base.bias.detach().clone(), requires_grad=False)
        self.lora_A = nn.Parameter(torch.empty(r, in_features))
        self.lora_B = nn.Parameter(torch.zeros(out_features, r))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scaling = alpha / r
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.merged = False

    def forward(self, x):
        out = F.linear(x, self.weight, self.bias)
        if not self.merged:
            out = out + self.scaling * (self.dropout(x).float() @ self.lora_A.T @ self.lora_B.T)
        return out

    @torch.no_grad()
    def merge(self):
        if not self.merged:
            self.weight += self.scaling * (self.lora_B @ self.lora_A).to(self.weight.dtype)
            self.merged = True

    @torch.no_grad()
    def unmerge(self):
        if self.merged:
            self.weight -= self.scaling * (self.lora_B @ self.lora_A).to(self.weight.dtype)
            self.merged = False
