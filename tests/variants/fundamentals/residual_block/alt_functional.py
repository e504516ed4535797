# CORRECT, written differently: a functional forward (F.conv2d / F.batch_norm on the modules' own
# parameters and buffers) and an always-present, empty nn.Sequential as the identity shortcut.
import torch
import torch.nn as nn
import torch.nn.functional as F


def _bn(t, bn, training):
    if training:
        bn.num_batches_tracked += 1
    return F.batch_norm(t, bn.running_mean, bn.running_var, bn.weight, bn.bias, training, 0.1, bn.eps)


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels=None, stride=1):
        super().__init__()
        c_out = out_channels or in_channels
        self.stride = stride
        self.conv1 = nn.Conv2d(in_channels, c_out, (3, 3), stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, (3, 3), 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        project = stride > 1 or c_out != in_channels
        self.downsample = nn.Sequential(
            *([nn.Conv2d(in_channels, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)] if project else []))

    def forward(self, x):
        h = F.conv2d(x, self.conv1.weight, stride=self.stride, padding=1)
        h = F.relu(_bn(h, self.bn1, self.training))
        h = _bn(F.conv2d(h, self.conv2.weight, padding=1), self.bn2, self.training)
        if len(self.downsample):
            conv, bn = self.downsample
            skip = _bn(F.conv2d(x, conv.weight, stride=self.stride), bn, self.training)
        else:
            skip = x
        return F.relu(h + skip)
