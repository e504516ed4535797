"""Hidden graders of vision/patch_embedding: patchify against torch.nn.functional.unfold, the whole
embedding against nn.Conv2d(kernel_size = stride = P) + flatten + [CLS] + positions with the same
weights, gradients, the parameters' names, shapes and initialisation, float64, channels_last
input, and the errors.  (tests/test_twins_vision_patch_embedding.py checks the reference against
Hugging Face's ViTEmbeddings.)"""
import torch
import torch.nn.functional as F
from torch import nn

from mlkata.checks import Fail, StudentError, check, expect, expect_close, expect_equal, visible_module

V = visible_module("vision/patch_embedding")

# (image_size, patch_size, in_channels, embed_dim, batch)
CONFIGS = [(8, 4, 3, 16, 2), ((12, 8), 4, 2, 8, 3), (16, 2, 1, 12, 1), ((6, 9), 3, 4, 10, 2), (14, 7, 3, 24, 2)]


def pair(s):
    return (s, s) if isinstance(s, int) else tuple(s)


def random_params(seed, size, P, C, D, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    H, W = pair(size)
    L = (H // P) * (W // P)
    conv_w = torch.randn(D, C, P, P, generator=g, dtype=dtype) * 0.2
    return conv_w, {"proj_weight": conv_w.reshape(D, C * P * P),       # the conv weight, reshaped: same map
                    "proj_bias": torch.randn(D, generator=g, dtype=dtype),
                    "cls_token": torch.randn(1, 1, D, generator=g, dtype=dtype),
                    "pos_embed": torch.randn(1, 1 + L, D, generator=g, dtype=dtype)}


def conv_embedding(x, conv_w, params):
    """The oracle: a stride-P convolution is the patch projection."""
    D, C, P, _ = conv_w.shape
    conv = nn.Conv2d(C, D, kernel_size=P, stride=P).to(x.dtype)
    with torch.no_grad():
        conv.weight.copy_(conv_w)
        conv.bias.copy_(params["proj_bias"])
    tokens = conv(x).flatten(2).transpose(1, 2)                          # (N, L, D)
    cls = params["cls_token"].expand(x.shape[0], -1, -1)                 # (N, 1, D)
    return torch.cat([cls, tokens], dim=1) + params["pos_embed"]


def label(size, P, C, D, x):
    return f"PatchEmbedding({size}, {P}, {C}, {D}) on x {list(x.shape)}"


def call(run, what, rule, context, *args, **kwargs):
    """``run(what, ...)``, but an exception raised by the learner's code names the configuration."""
    try:
        return run(what, *args, **kwargs)
    except StudentError as e:
        if e.kind != "raised":
            raise
        raise Fail(rule, f"on {context}: your code raised {e.message}" + (f" ({e.where})" if e.where else ""))


@check("patchify agrees with F.unfold(x, P, stride=P).transpose(1, 2) on random images, rectangular ones too",
       points=2)
def patchify_agrees(run):
    for seed, (size, P, C, _, N) in enumerate(CONFIGS):
        x = torch.randn(N, C, *pair(size), generator=torch.Generator().manual_seed(seed))
        want = F.unfold(x, P, stride=P).transpose(1, 2)                  # (N, L, C*P*P)
        got = call(run, V.patches, "patchify cuts every image into P x P patches", f"x {list(x.shape)}, P={P}", x, P)
        expect_close(got["out"], want, "patches in row-major order over the block grid, each flattened (C, P, P)",
                     what=f"patchify(x {list(x.shape)}, {P})")


@check("patchify accepts a channels_last (non-contiguous) input and does not modify it")
def patchify_channels_last(run):
    x = torch.randn(2, 3, 8, 12, generator=torch.Generator().manual_seed(10))
    got = call(run, V.patches, "accept inputs in any memory format", "a channels_last x [2, 3, 8, 12]", x, 4,
               channels_last=True)
    expect_close(got["out"], F.unfold(x, 4, stride=4).transpose(1, 2), "a channels_last tensor has the same values "
                 "in a different memory order, and the same patches", what="patchify of a channels_last input")
    expect_close(got["x_after"], x, "patchify must not modify its input", atol=0, rtol=0, what="x after the call")


@check("the module registers proj = nn.Linear(C*P*P, D), cls_token [1, 1, D] and pos_embed [1, 1 + L, D]")
def parameters(run):
    got = call(run, V.embed, "build PatchEmbedding((12, 8), 4, 2, 8)", "PatchEmbedding((12, 8), 4, 2, 8)",
               (12, 8), 4, 2, 8)
    want = {"cls_token": [1, 1, 8], "pos_embed": [1, 7, 8], "proj.weight": [8, 32], "proj.bias": [8]}
    expect(got["proj_is_linear"], "proj is an nn.Linear(C*P*P, D)", "your module's proj is not an nn.Linear")
    expect_equal(got["parameters"], want, "the learned tensors are nn.Parameters with exactly these names and shapes "
                 "(a plain tensor attribute is not learned and not moved by .to())",
                 what="dict(named_parameters()) shapes of PatchEmbedding((12, 8), 4, 2, 8)")
    expect_embeds_with_its_parameters(run, 1)


def expect_embeds_with_its_parameters(run, i):
    """The module computes with what it registered: loaded with random parameters, it agrees with
    the convolution oracle (a check of the parameters alone would pay a module that does nothing)."""
    size, P, C, D, N = CONFIGS[i]
    conv_w, params = random_params(50 + i, size, P, C, D)
    x = torch.randn(N, C, *pair(size), generator=torch.Generator().manual_seed(150 + i))
    got = call(run, V.embed, "PatchEmbedding.forward embeds every image of the batch", label(size, P, C, D, x),
               size, P, C, D, x, params)
    expect_close(V.loaded(got, "load proj, cls_token and pos_embed"), conv_embedding(x, conv_w, params),
                 "out = cat([cls_token expanded to N, proj(patchify(x))], dim=1) + pos_embed",
                 what=label(size, P, C, D, x) + " with loaded parameters")


@check("cls_token and pos_embed start from trunc_normal_(std=0.02), as in timm's ViT")
def initialisation(run):
    got = call(run, V.embed, "build PatchEmbedding(32, 2, 3, 64)", "PatchEmbedding(32, 2, 3, 64)", 32, 2, 3, 64)
    pos = got["pos_embed_init"]
    expect(isinstance(pos, torch.Tensor) and list(pos.shape) == [1, 257, 64], "pos_embed is a [1, 1 + L, D] parameter",
           "PatchEmbedding(32, 2, 3, 64) has L = 256 patches: expected pos_embed of shape [1, 257, 64], yours is "
           + (str(list(pos.shape)) if isinstance(pos, torch.Tensor) else "missing"))
    std, mean = float(pos.std()), float(pos.mean())
    # 16448 draws: the sample std of N(0, 0.02^2) has standard error 1.1e-4 and the mean 1.6e-4, so these
    # bounds sit more than 12 standard errors away: a correct initialisation never fails them
    expect(0.0185 <= std <= 0.0215 and abs(mean) < 0.002, "initialise pos_embed with nn.init.trunc_normal_(std=0.02)",
           f"pos_embed at initialisation has mean {mean:.4f} and std {std:.4f}; expected mean 0 and std 0.02")
    expect_embeds_with_its_parameters(run, 0)


@check("the embedding equals a Conv2d(kernel_size = stride = P) + flatten + [CLS] + positions with the same weights",
       points=2)
def equals_conv(run):
    for seed, (size, P, C, D, N) in enumerate(CONFIGS):
        conv_w, params = random_params(seed, size, P, C, D)
        x = torch.randn(N, C, *pair(size), generator=torch.Generator().manual_seed(seed + 100))
        got = call(run, V.embed, "PatchEmbedding.forward embeds every image of the batch", label(size, P, C, D, x), size, P, C, D, x, params)
        out = V.loaded(got, "load proj, cls_token and pos_embed")
        expect_close(out, conv_embedding(x, conv_w, params),
                     "out = cat([cls_token expanded to N, proj(patchify(x))], dim=1) + pos_embed; proj.weight is "
                     "conv.weight.reshape(D, C*P*P), so the patch flattening must be (C, P, P)",
                     what=label(size, P, C, D, x))


@check("gradients of x, proj, cls_token and pos_embed agree with the oracle's", points=2)
def gradients(run):
    for seed in (0, 1, 3):
        size, P, C, D, N = CONFIGS[seed]
        _, params = random_params(seed + 20, size, P, C, D)
        x = torch.randn(N, C, *pair(size), generator=torch.Generator().manual_seed(seed + 30))
        leaves = {k: v.clone().requires_grad_(True) for k, v in params.items()}
        xr = x.clone().requires_grad_(True)
        # the conv oracle written functionally (unfold + linear), so that every input is a leaf
        tokens = F.linear(F.unfold(xr, P, stride=P).transpose(1, 2), leaves["proj_weight"], leaves["proj_bias"])
        out = torch.cat([leaves["cls_token"].expand(N, -1, -1), tokens], dim=1) + leaves["pos_embed"]
        grad_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed + 40))
        (out * grad_out).sum().backward()
        want = {"x": xr.grad, **{k: v.grad for k, v in leaves.items()}}
        got = call(run, V.embed, "PatchEmbedding must run forward and backward", label(size, P, C, D, x),
                   size, P, C, D, x, params, grad_out=grad_out)
        expect_close(V.loaded(got, "load proj, cls_token and pos_embed"), out.detach(),
                     "out = cat([cls_token expanded to N, proj(patchify(x))], dim=1) + pos_embed",
                     what=label(size, P, C, D, x))
        for key, w in want.items():
            g = got["grads"][key]
            expect(g is not None, "every parameter (and x) receives a gradient: keep them nn.Parameters in the graph",
                   f"{key}.grad is None after backward ({label(size, P, C, D, x)})")
            expect_close(g, w, "cls_token's gradient is the sum over the batch of token 0's; pos_embed's the sum over "
                         "the batch per position; proj's flows through every patch",
                         what=f"d loss / d {key} ({label(size, P, C, D, x)})")


@check("float64: module.double() converts every parameter; a channels_last batch gives the same output")
def float64_and_memory_format(run):
    size, P, C, D, N = CONFIGS[1]
    conv_w, params = random_params(50, size, P, C, D, dtype=torch.float64)
    x = torch.randn(N, C, *pair(size), generator=torch.Generator().manual_seed(51), dtype=torch.float64)
    got = call(run, V.embed, "PatchEmbedding in float64", label(size, P, C, D, x), size, P, C, D, x, params,
               dtype=torch.float64)
    expect_close(V.loaded(got, "load the parameters"), conv_embedding(x, conv_w, params),
                 "after .to(torch.float64) the whole module computes in float64 (parameters must be registered)",
                 check_dtype=True, atol=1e-12, rtol=1e-12, what=f"float64 {label(size, P, C, D, x)}")
    conv_w, params = random_params(52, size, P, C, D)
    got = call(run, V.embed, "accept channels_last input", label(size, P, C, D, x), size, P, C, D, x.float(), params,
               channels_last=True)
    expect_close(V.loaded(got, "load the parameters"), conv_embedding(x.float(), conv_w, params),
                 "a channels_last batch holds the same values, so the same embedding",
                 what=f"channels_last {label(size, P, C, D, x)}")


@check("ValueError when H or W is not divisible by P (patchify and __init__) or the input size is not image_size")
def errors(run):
    cases = [("patchify", (torch.zeros(2, 3, 8, 10), 4), "patchify of an 8 x 10 image with P = 4"),
             ("init", (10, 4, 3, 8), "PatchEmbedding(image_size=10, patch_size=4)"),
             ("init", ((8, 6), 4, 3, 8), "PatchEmbedding(image_size=(8, 6), patch_size=4)"),
             ("forward", (8, 4, 3, 8, torch.zeros(1, 3, 12, 8)), "PatchEmbedding(8, 4, ...) on a 12 x 8 image"),
             ("forward", ((8, 12), 4, 3, 8, torch.zeros(1, 3, 12, 8)), "PatchEmbedding((8, 12), 4, ...) on 12 x 8")]
    for what, args, why in cases:
        got = run(V.error_of, what, *args)
        expect(got["raised"] == "ValueError", "sizes that do not fit raise ValueError (no silent cropping, no "
               "position embeddings of the wrong length)",
               f"{why}: expected ValueError, your code " + (f"raised {got['raised']}" if got["raised"] else got["message"]))
