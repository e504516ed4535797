"""Visible checks: patch order and flattening order on tiny images, the [CLS] row, the errors."""
import torch

from mlkata.checks import Fail, check, expect_close, expect_equal, probe


@probe
def patches(sub, x, patch_size, channels_last=False):
    """patchify(x, P); with ``channels_last`` the learner gets x in channels_last memory format."""
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    return {"out": sub.patchify(x, patch_size), "x_after": x}


@probe
def embed(sub, image_size, patch_size, in_channels, embed_dim, x=None, params=None, dtype=torch.float32,
          grad_out=None, seed=0, channels_last=False):
    """Build PatchEmbedding (under ``torch.manual_seed(seed)``) and report its parameters; then, given
    ``x``: convert it to ``dtype``, copy ``params`` (proj_weight, proj_bias, cls_token, pos_embed) in, run
    it on ``x`` and, with ``grad_out``, backpropagate sum(out * grad_out)."""
    torch.manual_seed(seed)
    m = sub.PatchEmbedding(image_size, patch_size, in_channels, embed_dim)
    parts = {"proj": getattr(m, "proj", None), "cls_token": getattr(m, "cls_token", None),
             "pos_embed": getattr(m, "pos_embed", None)}
    report = {
        "parameters": {name: list(p.shape) for name, p in m.named_parameters()},
        "proj_is_linear": isinstance(parts["proj"], torch.nn.Linear),
        "pos_embed_init": parts["pos_embed"].detach().clone() if isinstance(parts["pos_embed"], torch.Tensor) else None,
    }
    if x is None:
        return report
    m = m.to(dtype)
    if params is not None:
        targets = {"proj_weight": getattr(parts["proj"], "weight", None), "proj_bias": getattr(parts["proj"], "bias", None),
                   "cls_token": parts["cls_token"], "pos_embed": parts["pos_embed"]}
        for key, value in params.items():
            t = targets[key]
            if not isinstance(t, torch.Tensor) or t.shape != value.shape:
                report["load_error"] = (f"cannot load {key} of shape {list(value.shape)}: your module has "
                                        + (f"shape {list(t.shape)}" if isinstance(t, torch.Tensor) else "no such tensor"))
                return report
            with torch.no_grad():
                t.copy_(value)
    x = x.to(dtype).requires_grad_(grad_out is not None)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    out = m(x)
    report["out"] = out
    if grad_out is not None and isinstance(out, torch.Tensor) and out.shape == grad_out.shape:
        (out * grad_out.to(dtype)).sum().backward()
        grad = lambda t: None if t is None or not isinstance(t, torch.Tensor) else t.grad  # noqa: E731
        report["grads"] = {"x": x.grad, "proj_weight": grad(getattr(parts["proj"], "weight", None)),
                           "proj_bias": grad(getattr(parts["proj"], "bias", None)),
                           "cls_token": grad(parts["cls_token"]), "pos_embed": grad(parts["pos_embed"])}
    return report


@probe
def error_of(sub, what, *args):
    """Run ``patchify(*args)``, ``PatchEmbedding(*args)`` or ``PatchEmbedding(*args[:4])(args[4])``;
    report the exception's type name (None if nothing was raised)."""
    try:
        if what == "patchify":
            sub.patchify(*args)
        elif what == "init":
            sub.PatchEmbedding(*args)
        else:
            sub.PatchEmbedding(*args[:4])(args[4])
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - the check decides whether this was the right error
        return {"raised": type(e).__name__, "message": str(e)[:200]}
    return {"raised": None, "message": "nothing was raised"}


def loaded(got, rule):
    """The output of an ``embed`` call with ``params``, after checking the parameters could be loaded."""
    if "load_error" in got:
        raise Fail(rule, got["load_error"] + " (proj: nn.Linear(C*P*P, D); cls_token: [1, 1, D]; "
                         "pos_embed: [1, 1 + L, D])")
    return got["out"]


@check("patchify cuts a 4x4 image into 2x2 patches, left to right then top to bottom")
def patch_order(run):
    x = torch.arange(16.0).view(1, 1, 4, 4)
    want = torch.tensor([[0.0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]).view(1, 4, 4)
    expect_close(run(patches, x, 2)["out"], want, "patch r * (W/P) + c is the P x P block at block-row r, "
                 "block-column c, flattened row by row", what="patchify(x, 2)")


@check("each patch is flattened channel first: all of channel 0's pixels, then channel 1's")
def channel_first_flatten(run):
    x = torch.stack([torch.arange(4.0), 10 + torch.arange(4.0)]).view(1, 2, 2, 2)
    want = torch.tensor([[[0.0, 1, 2, 3, 10, 11, 12, 13]]])
    expect_close(run(patches, x, 2)["out"], want, "flatten a patch in (channel, row, column) order, as "
                 "conv_weight.reshape(D, -1) does", what="patchify of a [1, 2, 2, 2] image with P = 2")


@check("PatchEmbedding returns [N, 1 + L, D]; token 0 is cls_token + pos_embed[:, 0] for every image")
def cls_row(run):
    D = 8
    params = {"proj_weight": torch.ones(D, 3 * 4 * 4), "proj_bias": torch.zeros(D),
              "cls_token": torch.full((1, 1, D), 5.0), "pos_embed": torch.zeros(1, 1 + 4, D)}
    x = torch.zeros(2, 3, 8, 8)
    x[:, :, 4:, 4:] = 1.0                                 # only the last patch is non-zero: 3*4*4 = 48 ones
    got = run(embed, 8, 4, 3, D, x, params)
    want = torch.zeros(2, 5, D)
    want[:, 0] = 5.0
    want[:, 4] = 48.0
    expect_close(loaded(got, "embed the [CLS] token and the patches"), want,
                 "prepend the [CLS] token (expanded to every image), then the L projected patches in order",
                 what="output of PatchEmbedding(8, 4, 3, 8) on a [2, 3, 8, 8] batch")


@check("an image size not divisible by the patch size raises ValueError (no silent cropping)")
def not_divisible(run):
    got = run(error_of, "patchify", torch.zeros(1, 3, 6, 8), 4)
    expect_equal(got["raised"], "ValueError", "patchify raises ValueError when H or W is not divisible by P",
                 what="exception raised by patchify(x [1, 3, 6, 8], 4)")
