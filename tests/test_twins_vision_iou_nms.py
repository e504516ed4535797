"""vision/iou_nms: the reference and the grader's brute-force oracles agree with torchvision.ops
(box_iou, nms, batched_nms) on random detections -- when torchvision is installed (it is not a
dependency of mlkata; the test skips otherwise).  Coordinates are non-negative here because
torchvision's batched_nms offsets classes by the largest coordinate, which lets classes overlap
for negative coordinates (the contract, and the reference, do not have that flaw); zero-area
pairs are avoided because torchvision returns NaN where the contract says 0."""
import pytest
import torch

from mlkata import catalog, grading
from mlkata.engine import load_module
from helpers import ROOT

EX = catalog.get("vision/iou_nms")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "vision" / "iou_nms.py"), "twin_ref_vision_iou_nms")


@pytest.fixture(scope="module")
def grader():
    return grading.check_module("hidden", EX)


@pytest.fixture(scope="module")
def ops():
    return pytest.importorskip("torchvision.ops")


@pytest.mark.parametrize("seed", range(6))
def test_box_iou_matches_torchvision(ref, grader, ops, seed):
    b1, _, _ = grader.detections(seed, 15)
    b2, _, _ = grader.detections(seed + 100, 9)
    want = ops.box_iou(b1, b2)
    torch.testing.assert_close(ref.box_iou(b1, b2), want)
    torch.testing.assert_close(grader.brute_iou(b1, b2), want.double())


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_nms_matches_torchvision(ref, grader, ops, seed, thr):
    boxes, scores, classes = grader.detections(seed, 50, n_classes=3, offset=200.0)
    thr = grader.safe_threshold(boxes, thr)
    want = ops.nms(boxes, scores, thr)
    assert torch.equal(ref.nms(boxes, scores, thr), want)
    assert torch.equal(grader.brute_nms(boxes, scores, thr), want)
    want = ops.batched_nms(boxes, scores, classes, thr)
    assert torch.equal(ref.batched_nms(boxes, scores, classes, thr), want)
    assert torch.equal(grader.brute_nms(boxes, scores, thr, classes), want)


def test_strict_threshold_matches_torchvision(ref, ops):
    boxes = torch.tensor([[0.0, 0.0, 3.0, 1.0], [1.0, 0.0, 4.0, 1.0]])      # IoU exactly 0.5
    scores = torch.tensor([0.9, 0.8])
    for thr in (0.5, 0.49):
        assert torch.equal(ref.nms(boxes, scores, thr), ops.nms(boxes, scores, thr))
