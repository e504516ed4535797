"""fundamentals/residual_block: the reference and the grader's oracle agree with
torchvision.models.resnet.BasicBlock (skipped where torchvision is not installed)."""
import pytest
import torch

from mlkata import catalog
from mlkata.engine import load_module
from mlkata.grading import check_module

tv_resnet = pytest.importorskip("torchvision.models.resnet")

EX = catalog.get("fundamentals/residual_block")
REF = load_module(str(EX.solution), "twin_ref_residual_block")
GRADER = check_module("hidden", EX)


def torchvision_block(cin, cout, stride):
    down = None
    if stride != 1 or cin != cout:
        down = torch.nn.Sequential(tv_resnet.conv1x1(cin, cout, stride), torch.nn.BatchNorm2d(cout))
    return tv_resnet.BasicBlock(cin, cout, stride, downsample=down)


@pytest.mark.parametrize("args", [(8, 8, 1), (8, 16, 2), (6, 6, 2), (6, 12, 1)])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_reference_and_oracle_match_torchvision(args, mode):
    state = GRADER.random_state(list(args), seed=sum(args))
    x = torch.randn(4, args[0], 9, 7, generator=torch.Generator().manual_seed(1))
    outs = []
    for block in (torchvision_block(*args), REF.ResidualBlock(*args), GRADER.TorchBasicBlock(*args)):
        block.load_state_dict(state)          # strict: the names and shapes must be torchvision's
        block.train(mode == "train")
        outs.append((block(x.clone()).detach(), {k: v.clone() for k, v in block.state_dict().items()}))
    (want, want_state), *others = outs
    for out, st in others:
        torch.testing.assert_close(out, want)
        for k in want_state:
            torch.testing.assert_close(st[k], want_state[k])
