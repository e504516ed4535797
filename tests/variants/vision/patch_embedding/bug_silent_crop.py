# BUG: crops the image to a multiple of P (as a stride-P conv would) instead of raising ValueError.
import torch
from torch import nn


def patchify(x, patch_size):
    N, C, H, W = x.shape
    P = patch_size
    x = x[:, :, :H // P * P, :W // P * P]
    H, W = H // P * P, W // P * P
    x = x.reshape(N, C, H // P, P, W // P, P)
    x = x.permute(0, 2, 4, 1, 3, 5)
    return x.reshape(N, (H // P) * (W // P), C * P * P)


class PatchEmbedding(nn.Module):
    def __init__(self, image_size, patch_size, in_channels, embed_dim):
        super().__init__()
        H, W = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        if H % patch_size or W % patch_size:
            raise ValueError("image size not divisible by the patch size")
        self.image_size, self.patch_size = (H, W), patch_size
        self.num_patches = (H // patch_size) * (W // patch_size)
        self.proj = nn.Linear(in_channels * patch_size * patch_size, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.num_patches, embed_dim))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)

    def forward(self, x):
        N, C, H, W = x.shape
        if (H, W) != self.image_size:
            raise ValueError("input size does not match image_size")
        tokens = self.proj(patchify(x, self.patch_size))
        cls = self.cls_token.expand(N, -1, -1)
        return torch.cat([cls, tokens], dim=1) + self.pos_embed
