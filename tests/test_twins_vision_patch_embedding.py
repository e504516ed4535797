"""vision/patch_embedding: the reference agrees with Hugging Face's ViTEmbeddings (whose patch
projection is a Conv2d with kernel_size = stride = patch_size) once the conv weight is reshaped to
[D, C*P*P], and the grader's conv oracle agrees with it too."""
import pytest
import torch

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("vision/patch_embedding")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "vision" / "patch_embedding.py"), "twin_ref_vision_patch_embedding")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


@pytest.fixture(scope="module")
def vit():
    return pytest.importorskip("transformers.models.vit.modeling_vit")


@pytest.mark.parametrize("image_size,patch_size,channels,dim,batch",
                         [(8, 4, 3, 16, 2), (32, 8, 3, 24, 3), (12, 2, 1, 8, 1), (28, 7, 4, 12, 2)])
def test_matches_hf_vit_embeddings(ref, grader, vit, image_size, patch_size, channels, dim, batch):
    from transformers import ViTConfig
    config = ViTConfig(image_size=image_size, patch_size=patch_size, num_channels=channels, hidden_size=dim,
                       hidden_dropout_prob=0.0)
    torch.manual_seed(0)
    hf = vit.ViTEmbeddings(config).eval()
    with torch.no_grad():                        # HF initialises cls_token to zeros: make every part visible
        hf.cls_token.normal_()
        hf.position_embeddings.normal_()
    conv = hf.patch_embeddings.projection
    x = torch.randn(batch, channels, image_size, image_size, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = hf(x)

    mine = ref.PatchEmbedding(image_size, patch_size, channels, dim)
    with torch.no_grad():
        mine.proj.weight.copy_(conv.weight.reshape(dim, -1))
        mine.proj.bias.copy_(conv.bias)
        mine.cls_token.copy_(hf.cls_token)
        mine.pos_embed.copy_(hf.position_embeddings)
        got = mine(x)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)

    params = {"proj_weight": conv.weight.reshape(dim, -1).detach(), "proj_bias": conv.bias.detach(),
              "cls_token": hf.cls_token.detach(), "pos_embed": hf.position_embeddings.detach()}
    with torch.no_grad():
        oracle = grader.conv_embedding(x, conv.weight.detach(), params)
    torch.testing.assert_close(oracle, want, atol=1e-5, rtol=1e-5)


def test_patchify_matches_hf_patch_order(ref, vit):
    """HF flattens the conv output with flatten(2).transpose(1, 2): the same row-major patch order."""
    from transformers import ViTConfig
    config = ViTConfig(image_size=8, patch_size=2, num_channels=2, hidden_size=8)
    proj = vit.ViTPatchEmbeddings(config)
    x = torch.randn(2, 2, 8, 8, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        want = proj(x)
        conv = proj.projection
        got = ref.patchify(x, 2) @ conv.weight.reshape(8, -1).T + conv.bias
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
