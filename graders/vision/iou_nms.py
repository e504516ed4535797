"""Hidden graders of vision/iou_nms against brute-force loops written here (pure Python floats, the
definition read literally): IoU on random and degenerate boxes, greedy NMS and per-class NMS on
random clustered detections at several thresholds, the strict threshold, ties, empty inputs,
negative coordinates, huge coordinates and float64.  (tests/test_twins_vision_iou_nms.py checks the
reference against torchvision.ops when torchvision is installed.)"""
import torch

from mlkata.checks import Fail, StudentError, check, expect, expect_close, visible_module

V = visible_module("vision/iou_nms")


# ---------------------------------------------------------------------------------------------
# Brute-force oracles
# ---------------------------------------------------------------------------------------------

def iou_one(a, b):
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    inter = iw * ih if iw > 0 and ih > 0 else 0.0
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def brute_iou(b1, b2):
    l1, l2 = b1.double().tolist(), b2.double().tolist()
    return torch.tensor([[iou_one(a, b) for b in l2] for a in l1], dtype=torch.float64).reshape(len(l1), len(l2))


def brute_nms(boxes, scores, thr, classes=None):
    """Greedy NMS read literally: best remaining box first, drop what overlaps a kept box by > thr."""
    b, s = boxes.double().tolist(), scores.tolist()
    c = [0] * len(b) if classes is None else classes.tolist()
    order = sorted(range(len(b)), key=lambda i: (-s[i], i))
    keep = []
    for i in order:
        if all(c[i] != c[k] or iou_one(b[i], b[k]) <= thr for k in keep):
            keep.append(i)
    return torch.tensor(keep, dtype=torch.int64)


# ---------------------------------------------------------------------------------------------
# Random detections
# ---------------------------------------------------------------------------------------------

def detections(seed, n, n_classes=1, offset=0.0, scale=1.0, dtype=torch.float32):
    """Boxes around a few object centres (so NMS has work to do), distinct scores, classes."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.rand(max(1, n // 5), 2, generator=g, dtype=torch.float64) * 100
    pick = torch.randint(0, len(centres), (n,), generator=g)
    c = centres[pick] + torch.randn(n, 2, generator=g, dtype=torch.float64) * 4
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * 20 + 2
    boxes = (torch.cat([c - wh / 2, c + wh / 2], dim=1) * scale + offset).to(dtype)
    scores = torch.randperm(n, generator=g).to(dtype) / n + 0.01
    classes = torch.randint(0, n_classes, (n,), generator=g)
    return boxes, scores, classes


def safe_threshold(boxes, thr):
    """Move the threshold away (by 1e-3 steps) from every pairwise IoU, so that rounding cannot flip a
    decision; exact ties with the threshold are tested separately."""
    ious = brute_iou(boxes, boxes)
    while bool(((ious - thr).abs() < 1e-4).any()):
        thr += 1e-3
    return thr


def call(run, what, rule, context, *args, **kwargs):
    """``run(what, ...)``, but an exception raised by the learner's code names the input."""
    try:
        return run(what, *args, **kwargs)
    except StudentError as e:
        if e.kind != "raised":
            raise
        raise Fail(rule, f"on {context}: your code raised {e.message}" + (f" ({e.where})" if e.where else ""))


# ---------------------------------------------------------------------------------------------
# box_iou
# ---------------------------------------------------------------------------------------------

@check("box_iou agrees with a brute-force loop on random boxes (N != M)", points=2)
def iou_random(run):
    for seed, (n, m) in enumerate([(7, 5), (1, 12), (20, 20), (3, 1)]):
        b1, _, _ = detections(seed, n)
        b2, _, _ = detections(seed + 50, m)
        got = call(run, V.iou, "box_iou returns the [N, M] matrix of pairwise IoUs", f"boxes1 {list(b1.shape)}, boxes2 {list(b2.shape)}", b1, b2)
        expect_close(got["iou"], brute_iou(b1, b2), "iou[i, j] = |b1_i & b2_j| / |b1_i | b2_j| for every pair",
                     atol=1e-6, what=f"box_iou of [{n}, 4] and [{m}, 4] boxes (seed {seed})")
        expect_close(got["boxes1_after"], b1, "box_iou must not modify its inputs", atol=0, rtol=0, what="boxes1 after")


@check("box_iou edge cases: zero-area boxes give 0 (never NaN), touching boxes 0, nested boxes area ratio")
def iou_edges(run):
    b1 = torch.tensor([[0.0, 0.0, 0.0, 5.0],      # zero width
                       [2.0, 2.0, 2.0, 2.0],      # a point
                       [0.0, 0.0, 4.0, 4.0],
                       [-3.0, -3.0, -1.0, -1.0]])  # negative coordinates
    b2 = torch.tensor([[0.0, 0.0, 0.0, 5.0], [2.0, 2.0, 2.0, 2.0], [4.0, 0.0, 6.0, 4.0], [1.0, 1.0, 3.0, 3.0],
                       [-4.0, -4.0, 0.0, 0.0]])
    got = call(run, V.iou, "zero-area and touching boxes are valid input", "degenerate boxes", b1, b2)
    iou = got["iou"]
    expect(isinstance(iou, torch.Tensor) and bool(torch.isfinite(iou).all()),
           "where the union is 0 (two zero-area boxes) the IoU is 0, not NaN",
           f"your box_iou holds NaN or inf: {iou}")
    expect_close(iou, brute_iou(b1, b2), "zero-area boxes have IoU 0 with everything; touching boxes have IoU 0; a "
                 "box inside another has IoU = small area / large area", atol=1e-6, what="box_iou")


@check("box_iou with no boxes on one side returns an empty [N, 0] or [0, M] matrix")
def iou_empty(run):
    b, _, _ = detections(5, 4)
    got = call(run, V.iou, "box_iou is an [N, M] matrix", "boxes1 [4, 4], boxes2 [4, 4]", b, b.flip(0))
    expect_close(got["iou"], brute_iou(b, b.flip(0)), "IoU = intersection area / union area, for every pair",
                 what="box_iou of 4 boxes with the same 4 in reverse order")
    for b1, b2 in ((b, torch.zeros(0, 4)), (torch.zeros(0, 4), b), (torch.zeros(0, 4), torch.zeros(0, 4))):
        got = call(run, V.iou, "an empty side gives an empty [N, M] matrix", f"boxes1 {list(b1.shape)}, boxes2 {list(b2.shape)}", b1, b2)
        expect_close(got["iou"], torch.zeros(len(b1), len(b2)), "an empty side gives an empty matrix of shape [N, M]",
                     what=f"box_iou of {list(b1.shape)} and {list(b2.shape)}")


@check("box_iou keeps float64 and stays accurate for huge coordinates (around 1e6)")
def iou_precision(run):
    b1, _, _ = detections(8, 10, scale=1e3, offset=1e6, dtype=torch.float64)
    # b2 overlaps b1: six of its boxes, each moved by up to a fifth of its size (IoUs well above 0)
    shift = torch.rand(6, 4, generator=torch.Generator().manual_seed(9), dtype=torch.float64) - 0.5
    b2 = b1[:6] + shift * (b1[:6, 2:] - b1[:6, :2]).repeat(1, 2) * 0.4
    got = call(run, V.iou, "box_iou works for float64 boxes", "float64 boxes near 1e6", b1, b2)
    expect_close(got["iou"], brute_iou(b1, b2), "the IoU keeps the boxes' dtype (float64) and precision",
                 check_dtype=True, atol=1e-12, rtol=1e-10, what="box_iou (float64)")


# ---------------------------------------------------------------------------------------------
# nms
# ---------------------------------------------------------------------------------------------

def agree_nms(run, seeds, sizes, thresholds, rule, n_classes=None, offset=0.0):
    for seed, n in zip(seeds, sizes):
        boxes, scores, classes = detections(seed, n, n_classes or 1, offset=offset)
        for thr in thresholds:
            thr = safe_threshold(boxes, thr)
            want = brute_nms(boxes, scores, thr, classes if n_classes else None)
            args = (boxes, scores, thr) + ((classes,) if n_classes else ())
            what = f"{'batched_nms' if n_classes else 'nms'} of {n} boxes (seed {seed}, iou_threshold={thr:g})"
            got = call(run, V.suppress, rule, what, *args)
            V.expect_keep(got, want.tolist(), rule, what=what)


@check("nms agrees with a brute-force greedy loop on random clustered boxes, thresholds 0.3 to 0.8", points=2)
def nms_random(run):
    agree_nms(run, range(100, 106), [5, 12, 30, 60, 1, 40], [0.3, 0.5, 0.8],
              "greedy NMS: visit boxes by decreasing score; keep a box unless a kept box has IoU > threshold with it")


@check("nms with identical boxes keeps only the best; thresholds 0 and 1 behave as the strict rule says")
def nms_extremes(run):
    boxes = torch.tensor([[0.0, 0.0, 4.0, 4.0]] * 3 + [[4.0, 0.0, 8.0, 4.0], [3.0, 3.0, 5.0, 5.0]])
    scores = torch.tensor([0.2, 0.9, 0.5, 0.7, 0.6])
    for thr, rule in ((0.5, "identical boxes (IoU 1) suppress each other: only the best-scoring copy survives"),
                      (0.0, "threshold 0 suppresses any positive overlap but not boxes that merely touch (IoU 0)"),
                      (1.0, "threshold 1 suppresses nothing: no IoU is > 1")):
        got = call(run, V.suppress, rule, f"iou_threshold={thr}", boxes, scores, thr)
        V.expect_keep(got, brute_nms(boxes, scores, thr).tolist(), rule, what=f"kept indices (iou_threshold={thr})")


TIE_RULE = "an IoU equal to the threshold does not suppress; equal scores are visited lower index first"


@check("nms ties: an IoU equal to the threshold survives; equal scores are visited lower index first")
def nms_ties(run):
    boxes = torch.tensor([[0.0, 0.0, 5.0, 1.0], [3.0, 0.0, 8.0, 1.0], [0.0, 9.0, 3.0, 10.0], [1.0, 9.0, 4.0, 10.0]])
    scores = torch.tensor([0.9, 0.8, 0.5, 0.5])      # IoU(0, 1) = 2/8 = 0.25; IoU(2, 3) = 2/4 = 0.5
    got = call(run, V.suppress, TIE_RULE, "boxes with IoU 0.25 and 0.5", boxes, scores, 0.25)
    V.expect_keep(got, [0, 1, 2], "an IoU exactly equal to the threshold does not suppress (IoU > threshold does); "
                  "of two equal scores the lower index goes first", what="kept indices (iou_threshold=0.25)")
    got = call(run, V.suppress, TIE_RULE, "boxes with IoU 0.25 and 0.5", boxes, scores, 0.5)
    V.expect_keep(got, [0, 1, 2, 3], "an IoU exactly equal to the threshold does not suppress",
                  what="kept indices (iou_threshold=0.5)")
    got = call(run, V.suppress, TIE_RULE, "reversed equal scores", boxes.flip(0), scores.flip(0), 0.3)
    V.expect_keep(got, [3, 2, 0], "equal scores are visited in index order (a stable sort): the lower index is kept",
                  what="kept indices (iou_threshold=0.3, boxes reversed)")


@check("nms edge cases: no boxes gives an empty int64 tensor; one box is kept; zero-area boxes never suppress")
def nms_edges(run):
    got = call(run, V.suppress, "no boxes in, an empty int64 tensor out", "0 boxes", torch.zeros(0, 4), torch.zeros(0), 0.5)
    V.expect_keep(got, [], "no boxes in, an empty int64 tensor out (torch.stack of an empty list fails)",
                  what="kept indices of 0 boxes")
    got = call(run, V.suppress, "a single box is always kept", "1 box", torch.tensor([[1.0, 2.0, 3.0, 4.0]]), torch.tensor([0.3]), 0.5)
    V.expect_keep(got, [0], "a single box is always kept", what="kept indices of 1 box")
    boxes = torch.tensor([[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 2.0, 2.0], [0.0, 1.0, 2.0, 1.0]])
    got = call(run, V.suppress, "zero-area boxes are valid input", "zero-area boxes", boxes, torch.tensor([0.9, 0.8, 0.7, 0.6]), 0.0)
    V.expect_keep(got, [0, 1, 2, 3], "a zero-area box has IoU 0 with everything (even an identical point), so it "
                  "neither suppresses nor is suppressed", what="kept indices with zero-area boxes")


@check("nms does not modify boxes or scores and works in float64")
def nms_inputs(run):
    boxes, scores, _ = detections(110, 25, dtype=torch.float64)
    got = call(run, V.suppress, "nms works for float64 boxes", "float64 boxes", boxes, scores, 0.45)
    V.expect_keep(got, brute_nms(boxes, scores, safe_threshold(boxes, 0.45)).tolist(), "nms works for float64 boxes")
    expect_close(got["boxes_after"], boxes, "nms must not modify boxes (sort indices, not the tensors)", atol=0,
                 rtol=0, what="boxes after nms")
    expect_close(got["scores_after"], scores, "nms must not modify scores", atol=0, rtol=0, what="scores after nms")


# ---------------------------------------------------------------------------------------------
# batched_nms
# ---------------------------------------------------------------------------------------------

@check("batched_nms agrees with a brute-force per-class greedy loop, sorted by score across classes", points=2)
def batched_random(run):
    agree_nms(run, range(200, 205), [10, 30, 60, 2, 45], [0.3, 0.6],
              "within each class run greedy NMS; classes never suppress each other; return all kept indices "
              "sorted by decreasing score", n_classes=3)


@check("batched_nms with negative coordinates: classes still never suppress each other")
def batched_negative(run):
    agree_nms(run, range(210, 214), [20, 40, 8, 30], [0.4],
              "boxes of different classes never suppress each other, whatever their coordinates (an offset of "
              "class * max coordinate lets classes overlap when coordinates are negative)", n_classes=4,
              offset=-120.0)


@check("batched_nms edge cases: no boxes; a single class equals nms; every box its own class keeps all")
def batched_edges(run):
    got = call(run, V.suppress, "no boxes in, an empty int64 tensor out", "0 boxes", torch.zeros(0, 4), torch.zeros(0), 0.5,
               torch.zeros(0, dtype=torch.int64))
    V.expect_keep(got, [], "no boxes in, an empty int64 tensor out", what="batched_nms of 0 boxes")
    boxes, scores, _ = detections(220, 30)
    thr = safe_threshold(boxes, 0.5)
    got = call(run, V.suppress, "with one class batched_nms is plain nms", "one class", boxes, scores, thr, torch.full((30,), 7))
    V.expect_keep(got, brute_nms(boxes, scores, thr).tolist(), "with one class batched_nms is plain nms",
                  what="batched_nms with every box in class 7")
    got = call(run, V.suppress, "with every box in its own class nothing is suppressed", "30 classes", boxes, scores, thr, torch.arange(30))
    V.expect_keep(got, torch.argsort(scores, descending=True).tolist(),
                  "with every box in its own class nothing is suppressed; the result is sorted by score",
                  what="batched_nms with 30 classes")
