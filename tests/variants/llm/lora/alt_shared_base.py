# CORRECT, written differently: wraps the base layer itself (frozen in place, as PEFT does), exposes
# its weight and bias as properties, uses einsum and F.dropout, and merges with addmm_.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRALinear(nn.Module):
    def __init__(self, base, r=8, alpha=8.0, dropout=0.0):
        super().__init__()
        self.base = base.requires_grad_(False)
        fan_out, fan_in = base.weight.shape
        self.lora_A = nn.Parameter(base.weight.new_empty(r, fan_in))
        self.lora_B = nn.Parameter(base.weight.new_zeros(fan_out, r))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.scaling = float(alpha) / float(r)
        self.p = dropout
        self.merged = False

    @property
    def weight(self):
        return self.base.weight

    @property
    def bias(self):
        return self.base.bias

    def forward(self, x):
        y = self.base(x)
        if self.merged:
            return y
        h = F.dropout(x, self.p, self.training) if self.p > 0 else x
        low = torch.einsum("...i,ri->...r", h, self.lora_A)
        return y + self.scaling * torch.einsum("...r,or->...o", low, self.lora_B)

    def merge(self):
        if self.merged:
            return
        with torch.no_grad():
            self.base.weight.addmm_(self.lora_B, self.lora_A, alpha=self.scaling)
        self.merged = True

    def unmerge(self):
        if not self.merged:
            return
        with torch.no_grad():
            self.base.weight.addmm_(self.lora_B, self.lora_A, alpha=-self.scaling)
        self.merged = False
