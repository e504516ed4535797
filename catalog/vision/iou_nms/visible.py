"""Visible checks: IoU of a few hand-made boxes, one NMS round, the strict threshold, per-class NMS."""
import torch

from mlkata.checks import Fail, check, expect_close, expect_equal, expect_tensor, probe


@probe
def iou(sub, boxes1, boxes2):
    """box_iou, plus the inputs afterwards (they must not change)."""
    out = sub.box_iou(boxes1, boxes2)
    return {"iou": out, "boxes1_after": boxes1, "boxes2_after": boxes2}


@probe
def suppress(sub, boxes, scores, iou_threshold, idxs=None):
    """nms (or batched_nms when ``idxs`` is given), plus the inputs afterwards."""
    if idxs is None:
        keep = sub.nms(boxes, scores, iou_threshold)
    else:
        keep = sub.batched_nms(boxes, scores, idxs, iou_threshold)
    return {"keep": keep, "boxes_after": boxes, "scores_after": scores}


def _short(xs, n=16):
    return str(xs[:n])[:-1] + (", ...]" if len(xs) > n else "]")


def expect_keep(got, want, rule, what="kept indices"):
    """The kept indices must be an int64 tensor equal to the list ``want``, in that order."""
    keep = expect_tensor(got["keep"], rule + " (return an int64 tensor of indices)")
    expect_equal(keep.dtype, torch.int64, "the kept indices are an int64 tensor", what=f"dtype of {what}")
    mine = keep.reshape(-1).tolist()
    if keep.dim() != 1 or mine != want:
        wrongly_dropped = [i for i in want if i not in mine]
        wrongly_kept = [i for i in mine if i not in want]
        why = (f"; dropped although they should stay: {_short(wrongly_dropped)}" if wrongly_dropped else "") + \
              (f"; kept although they should go: {_short(wrongly_kept)}" if wrongly_kept else "") + \
              ("; same indices, wrong order" if not wrongly_dropped and not wrongly_kept else "")
        raise Fail(rule, f"{what}: expected {_short(want)}, your code produced {_short(mine)} "
                         f"(shape {list(keep.shape)}){why}")


@check("IoU of overlapping, identical and disjoint boxes: 1/7, 1 and 0, as an [N, M] matrix")
def iou_small(run):
    b1 = torch.tensor([[0.0, 0.0, 2.0, 2.0], [10.0, 10.0, 11.0, 11.0]])
    b2 = torch.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0], [5.0, 5.0, 6.0, 6.0]])
    want = torch.tensor([[1 / 7, 1.0, 0.0], [0.0, 0.0, 0.0]])
    expect_close(run(iou, b1, b2)["iou"], want, "iou[i, j] = intersection area / union area; area = (x2 - x1) * "
                 "(y2 - y1); disjoint boxes have IoU 0", what="box_iou(boxes1, boxes2)")


@check("nms keeps the best box and drops the one overlapping it, keeps the far one, best score first")
def nms_small(run):
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 11.0, 11.0], [20.0, 20.0, 30.0, 30.0]])
    scores = torch.tensor([0.8, 0.9, 0.7])
    expect_keep(run(suppress, boxes, scores, 0.5), [1, 2],
                "keep the highest-scoring box, drop boxes overlapping it by IoU > threshold, repeat; "
                "return kept indices in decreasing score order")


@check("the threshold is strict: an IoU exactly equal to iou_threshold does not suppress")
def strict_threshold(run):
    boxes = torch.tensor([[0.0, 0.0, 3.0, 1.0], [1.0, 0.0, 4.0, 1.0]])   # IoU = 2 / 4 = 0.5 exactly
    scores = torch.tensor([0.9, 0.8])
    expect_keep(run(suppress, boxes, scores, 0.5), [0, 1], "suppress only when IoU > iou_threshold (as torchvision)")
    expect_keep(run(suppress, boxes, scores, 0.49), [0], "an IoU above the threshold suppresses")


@check("batched_nms: overlapping boxes of different classes do not suppress each other")
def batched_small(run):
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0]])
    scores = torch.tensor([0.5, 0.6, 0.9])
    idxs = torch.tensor([0, 1, 1])
    expect_keep(run(suppress, boxes, scores, 0.5, idxs), [2, 0],
                "run NMS within each class only; return all kept indices sorted by decreasing score")
