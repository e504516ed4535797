# BUG: suppresses when IoU >= threshold; torchvision suppresses only when IoU > threshold.
import torch


def box_iou(boxes1, boxes2):
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    lt = torch.max(boxes1[:, None, :2], boxes2[None, :, :2])
    rb = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = area1[:, None] + area2[None, :] - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-30), torch.zeros_like(union))


def nms(boxes, scores, iou_threshold):
    order = torch.argsort(scores, descending=True, stable=True)
    iou = box_iou(boxes, boxes)
    suppressed = torch.zeros(len(scores), dtype=torch.bool)
    keep = []
    for i in order.tolist():
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed |= iou[i] >= iou_threshold
    return torch.tensor(keep, dtype=torch.int64)


def batched_nms(boxes, scores, idxs, iou_threshold):
    if boxes.numel() == 0:
        return torch.zeros(0, dtype=torch.int64)
    span = boxes.max() - boxes.min() + 1
    shifted = boxes + (idxs.to(boxes.dtype) * span)[:, None]
    return nms(shifted, scores, iou_threshold)
