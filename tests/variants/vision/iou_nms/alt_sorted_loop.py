# CORRECT, written differently: IoU from explicit corner tensors, NMS by repeatedly taking the head of
# the score-sorted queue and filtering the rest, batched NMS by per-class runs merged by score.
import torch


def box_iou(boxes1, boxes2):
    x1 = torch.maximum(boxes1[:, 0].unsqueeze(1), boxes2[:, 0].unsqueeze(0))
    y1 = torch.maximum(boxes1[:, 1].unsqueeze(1), boxes2[:, 1].unsqueeze(0))
    x2 = torch.minimum(boxes1[:, 2].unsqueeze(1), boxes2[:, 2].unsqueeze(0))
    y2 = torch.minimum(boxes1[:, 3].unsqueeze(1), boxes2[:, 3].unsqueeze(0))
    inter = torch.relu(x2 - x1) * torch.relu(y2 - y1)
    a1 = ((boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])).unsqueeze(1)
    a2 = ((boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])).unsqueeze(0)
    union = a1 + a2 - inter
    safe = torch.where(union == 0, torch.ones_like(union), union)
    return torch.where(union == 0, torch.zeros_like(union), inter / safe)


def nms(boxes, scores, iou_threshold):
    # sort by (-score, index): Python's sort is stable
    queue = sorted(range(len(scores)), key=lambda i: -float(scores[i]))
    kept = []
    while queue:
        best, rest = queue[0], queue[1:]
        kept.append(best)
        if not rest:
            break
        ious = box_iou(boxes[best:best + 1], boxes[rest])[0]
        queue = [j for j, o in zip(rest, ious.tolist()) if not o > iou_threshold]
    return torch.as_tensor(kept, dtype=torch.long).reshape(-1)


def batched_nms(boxes, scores, idxs, iou_threshold):
    kept = []
    for c in idxs.unique().tolist():
        members = (idxs == c).nonzero().flatten()
        kept += members[nms(boxes[members], scores[members], iou_threshold)].tolist()
    kept.sort(key=lambda i: (-float(scores[i]), i))
    return torch.as_tensor(kept, dtype=torch.long).reshape(-1)
