# CORRECT, written differently: the frozen weight and bias are buffers, A is drawn with the
# Kaiming bound worked out by hand (gain sqrt(2 / (1 + 5)) * sqrt(3 / fan_in) = 1 / sqrt(fan_in)),
# and the delta is computed once per call as (scaling * B) @ A.
import math

import torch
import torch.nn as nn


class LoRALinear(nn.Module):
    def __init__(self, base, r=8, alpha=8.0, dropout=0.0):
        super().__init__()
        self.register_buffer("weight", base.weight.detach().clone())
        self.register_buffer("bias", None if base.bias is None else base.bias.detach().clone())
        out_features, in_features = self.weight.shape
        bound = 1.0 / math.sqrt(in_features)
        A = torch.empty(r, in_features, dtype=self.weight.dtype).uniform_(-bound, bound)
        self.lora_A = nn.Parameter(A)
        self.lora_B = nn.Parameter(torch.zeros(out_features, r, dtype=self.weight.dtype))
        self.scaling = alpha / r
        self.drop = nn.Dropout(dropout)
        self.merged = False

    def _delta(self):
        return (self.scaling * self.lora_B) @ self.lora_A          # (out, in)

    def forward(self, x):
        y = x @ self.weight.T
        if self.bias is not None:
            y = y + self.bias
        if not self.merged:
            y = y + (self.drop(x) @ self.lora_A.T) @ (self.scaling * self.lora_B).T
        return y

    def merge(self):
        if not self.merged:
            with torch.no_grad():
                self.weight.copy_(self.weight + self._delta())
            self.merged = True

    def unmerge(self):
        if self.merged:
            with torch.no_grad():
                self.weight.copy_(self.weight - self._delta())
            self.merged = False
