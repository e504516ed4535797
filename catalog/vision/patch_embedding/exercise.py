"""Vision Transformer patch embedding: an image becomes a sequence of tokens.

A ViT (Dosovitskiy et al., "An Image is Worth 16x16 Words", 2021) cuts the image into
non-overlapping P x P patches, flattens each patch, and projects it linearly to the model width
D.  A learned [CLS] token is put in front of the sequence (its final state feeds the classifier),
and a learned position embedding is added to every token, since attention itself is blind to
order.

Flattening each patch in (channel, row, column) order makes the linear projection *exactly* a
convolution with ``kernel_size = stride = P`` whose weight ``[D, C, P, P]`` is reshaped to
``[D, C*P*P]`` -- which is how timm's ``PatchEmbed`` and Hugging Face's ``ViTEmbeddings`` implement
it.  Write it the explicit way here: the reshape/permute that cuts patches, then ``nn.Linear``.
"""
from typing import Tuple, Union

import torch
from torch import nn


def patchify(x: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Cut images into non-overlapping square patches.

    Args:
        x: ``[N, C, H, W]`` (any strides, e.g. channels_last), H and W divisible by ``patch_size``.
        patch_size: P.

    Returns:
        ``[N, L, C*P*P]`` with ``L = (H/P) * (W/P)``: patches in row-major order (left to right, then
        top to bottom); each patch flattened in (channel, row-in-patch, column-in-patch) order, so that
        ``out[n, r * (W/P) + c] == x[n, :, r*P:(r+1)*P, c*P:(c+1)*P].reshape(-1)``.

    Raises:
        ValueError: if H or W is not divisible by P (no silent cropping).
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    P = patch_size
    if H % P or W % P:
        raise ValueError(f"image size ({H}, {W}) is not divisible by the patch size {P}")
    x = x.reshape(N, C, H // P, P, W // P, P)              # (N, C, h, P, w, P)
    x = x.permute(0, 2, 4, 1, 3, 5)                        # (N, h, w, C, P, P)
    return x.reshape(N, (H // P) * (W // P), C * P * P)    # (N, L, C*P*P)
    ### END SOLUTION


class PatchEmbedding(nn.Module):
    """ViT input layer: patchify, linear projection, [CLS] token, learned position embeddings.

    Args:
        image_size: H = W as an int, or ``(H, W)``; both divisible by ``patch_size``.
        patch_size: P; in_channels: C; embed_dim: D.

    Attributes (the names are part of the contract):
        proj: ``nn.Linear(C*P*P, D)`` (with bias), applied to every flattened patch.
        cls_token: ``nn.Parameter`` ``[1, 1, D]``.
        pos_embed: ``nn.Parameter`` ``[1, 1 + L, D]``, position 0 belonging to the [CLS] token.
        No other parameters.  cls_token and pos_embed are initialised with
        ``nn.init.trunc_normal_(std=0.02)``.

    Raises:
        ValueError: in ``__init__`` if the image size is not divisible by P.
    """

    def __init__(self, image_size: Union[int, Tuple[int, int]], patch_size: int, in_channels: int, embed_dim: int):
        super().__init__()
        ### BEGIN SOLUTION
        H, W = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
        if H % patch_size or W % patch_size:
            raise ValueError(f"image size ({H}, {W}) is not divisible by the patch size {patch_size}")
        self.image_size, self.patch_size = (H, W), patch_size
        self.num_patches = (H // patch_size) * (W // patch_size)
        self.proj = nn.Linear(in_channels * patch_size * patch_size, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.num_patches, embed_dim))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed a batch of images.

        Args:
            x: ``[N, C, H, W]`` with ``(H, W)`` equal to ``image_size`` (N may be 1 or more).

        Returns:
            ``[N, 1 + L, D]``: token 0 is ``cls_token + pos_embed[:, 0]`` for every image; token
            ``1 + l`` is ``proj(patchify(x)[:, l]) + pos_embed[:, 1 + l]``.  Differentiable in ``x``
            and in every parameter.

        Raises:
            ValueError: if ``(H, W)`` differs from ``image_size`` (the position embeddings are sized for it).
        """
        ### BEGIN SOLUTION
        N, C, H, W = x.shape
        if (H, W) != self.image_size:
            raise ValueError(f"input size ({H}, {W}) does not match the model's image size {self.image_size}")
        tokens = self.proj(patchify(x, self.patch_size))       # (N, L, D)
        cls = self.cls_token.expand(N, -1, -1)                 # (N, 1, D)
        return torch.cat([cls, tokens], dim=1) + self.pos_embed  # (N, 1 + L, D)
        ### END SOLUTION
