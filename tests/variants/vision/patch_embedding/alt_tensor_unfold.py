# CORRECT, written differently: patches via Tensor.unfold on the two spatial axes (a strided view),
# and the projection as an explicit matmul with the nn.Linear's weight.
import torch
from torch import nn


def patchify(x, patch_size):
    p = patch_size
    n, c, h, w = x.shape
    if h % p != 0 or w % p != 0:
        raise ValueError(f"{h}x{w} is not a multiple of {p}")
    blocks = x.unfold(2, p, p).unfold(3, p, p)            # (n, c, h/p, w/p, p, p)
    blocks = blocks.permute(0, 2, 3, 1, 4, 5)             # (n, h/p, w/p, c, p, p)
    return blocks.flatten(3).flatten(1, 2)                # (n, L, c*p*p)


class PatchEmbedding(nn.Module):
    def __init__(self, image_size, patch_size, in_channels, embed_dim):
        super().__init__()
        size = (image_size, image_size) if isinstance(image_size, int) else (image_size[0], image_size[1])
        if size[0] % patch_size or size[1] % patch_size:
            raise ValueError("image_size must be a multiple of patch_size")
        self.size, self.p = size, patch_size
        n_tokens = 1 + (size[0] // patch_size) * (size[1] // patch_size)
        self.proj = nn.Linear(in_channels * patch_size ** 2, embed_dim)
        self.cls_token = nn.Parameter(nn.init.trunc_normal_(torch.empty(1, 1, embed_dim), std=0.02))
        self.pos_embed = nn.Parameter(nn.init.trunc_normal_(torch.empty(1, n_tokens, embed_dim), std=0.02))

    def forward(self, x):
        if tuple(x.shape[-2:]) != self.size:
            raise ValueError(f"expected images of size {self.size}, got {tuple(x.shape[-2:])}")
        tokens = patchify(x, self.p) @ self.proj.weight.T + self.proj.bias
        cls = self.cls_token.repeat(x.shape[0], 1, 1)
        return torch.cat((cls, tokens), 1) + self.pos_embed
