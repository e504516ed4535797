"""Intersection over union and non-maximum suppression: the last step of every object detector.

A detector proposes many overlapping boxes for the same object.  Greedy non-maximum suppression
(NMS) keeps the best-scoring box, throws away every remaining box that overlaps it by more than a
threshold (measured by IoU, intersection over union), and repeats with the best box left.
Multi-class detectors run it per class ("batched" NMS), so a dog box never suppresses a cat box.

Implement the three functions of ``torchvision.ops`` (``box_iou``, ``nms``, ``batched_nms``) with
the same semantics, in plain torch.  Boxes are ``(x1, y1, x2, y2)`` with ``x1 <= x2`` and
``y1 <= y2`` in continuous coordinates: a box's area is ``(x2 - x1) * (y2 - y1)`` (no "+1" pixel
convention).  Two details to get right:

* the threshold is strict, like torchvision: a box is suppressed when its IoU with a kept box is
  ``> iou_threshold``; an IoU exactly equal to the threshold survives;
* boxes of zero area are legal.  Where the union is 0 (two zero-area boxes) the IoU is defined as
  0 here (torchvision would produce NaN), so a zero-area box never suppresses anything.
"""
import torch


def box_iou(boxes1: torch.Tensor, boxes2: torch.Tensor) -> torch.Tensor:
    """Pairwise IoU, like ``torchvision.ops.box_iou``.

    Args:
        boxes1: ``[N, 4]`` float tensor of ``(x1, y1, x2, y2)``; boxes2: ``[M, 4]``, same dtype.
            N or M may be 0.  Coordinates may be negative.

    Returns:
        ``[N, M]`` tensor (dtype of the boxes), ``iou[i, j] = area(b1_i & b2_j) / area(b1_i | b2_j)``,
        in ``[0, 1]``; 0 for disjoint or merely touching boxes, and 0 where the union is 0.
    """
    ### BEGIN SOLUTION
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])   # (N,)
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])   # (M,)
    top_left = torch.max(boxes1[:, None, :2], boxes2[None, :, :2])          # (N, M, 2)
    bottom_right = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:])      # (N, M, 2)
    wh = (bottom_right - top_left).clamp(min=0)                             # (N, M, 2): 0 if disjoint
    inter = wh[..., 0] * wh[..., 1]                                         # (N, M)
    union = area1[:, None] + area2[None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=torch.finfo(union.dtype).tiny), torch.zeros_like(union))
    ### END SOLUTION


def nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression, like ``torchvision.ops.nms``.

    Args:
        boxes: ``[N, 4]`` float tensor of ``(x1, y1, x2, y2)``; N may be 0.
        scores: ``[N]`` float tensor.
        iou_threshold: in ``[0, 1]``; a box whose IoU with an already kept box is ``> iou_threshold``
            is discarded.

    Visit boxes from the highest score down (equal scores: lower index first); keep a box unless a
    box kept before it overlaps it by more than the threshold.  Inputs are not modified.

    Returns:
        int64 tensor ``[K]`` of the indices of the kept boxes, in decreasing order of score.
    """
    ### BEGIN SOLUTION
    order = torch.argsort(scores, descending=True, stable=True)
    iou = box_iou(boxes, boxes)                                 # (N, N)
    suppressed = torch.zeros(len(scores), dtype=torch.bool)
    keep = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold                    # suppress everything box i overlaps too much
    return torch.tensor(keep, dtype=torch.int64)
    ### END SOLUTION


def batched_nms(boxes: torch.Tensor, scores: torch.Tensor, idxs: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Per-category NMS, like ``torchvision.ops.batched_nms``.

    Args:
        boxes: ``[N, 4]``; scores: ``[N]``; idxs: ``[N]`` int64 category of each box; iou_threshold
            as in :func:`nms`.

    Boxes of different categories never suppress each other -- for any coordinates, negative ones
    included (the "offset every category by the largest coordinate" trick breaks when coordinates
    are negative: shift by the coordinate *range* if you use it).

    Returns:
        int64 tensor ``[K]``: the union of what :func:`nms` keeps within each category, sorted by
        decreasing score over all categories (equal scores: lower index first).
    """
    ### BEGIN SOLUTION
    same_class = idxs[:, None] == idxs[None, :]                 # (N, N)
    iou = box_iou(boxes, boxes) * same_class                    # other classes never overlap
    order = torch.argsort(scores, descending=True, stable=True)
    suppressed = torch.zeros(len(scores), dtype=torch.bool)
    keep = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] > iou_threshold
    return torch.tensor(keep, dtype=torch.int64)
    ### END SOLUTION
