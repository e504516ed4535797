# CORRECT, written differently: explicit edge loop lo < p <= hi with 0 put in the first bin,
# Python accumulators in float64, ECE as a weighted sum over bins.
import math

import torch


def top_label_confidence(probs, labels):
    pred = probs.argmax(dim=1)                      # first maximal index
    return probs.gather(1, pred[:, None]).squeeze(1), pred == labels


def reliability_bins(confidences, correct, n_bins=10):
    ps = confidences.double().tolist()
    ys = [1.0 if v else 0.0 for v in correct.tolist()]
    count = [0] * n_bins
    hits = [0.0] * n_bins
    conf = [0.0] * n_bins
    for p, y in zip(ps, ys):
        b = 0
        while b < n_bins - 1 and p > (b + 1) / n_bins:
            b += 1
        count[b] += 1
        hits[b] += y
        conf[b] += p
    acc = [h / k if k else math.nan for h, k in zip(hits, count)]
    mean_conf = [c / k if k else math.nan for c, k in zip(conf, count)]
    return {"count": torch.tensor(count, dtype=torch.int64), "accuracy": torch.tensor(acc, dtype=torch.float64),
            "confidence": torch.tensor(mean_conf, dtype=torch.float64)}


def _gaps(confidences, correct, n_bins):
    r = reliability_bins(confidences, correct, n_bins)
    return [(k, abs(a - c)) for k, a, c in zip(r["count"].tolist(), r["accuracy"].tolist(),
                                                r["confidence"].tolist()) if k > 0]


def expected_calibration_error(confidences, correct, n_bins=10):
    gaps = _gaps(confidences, correct, n_bins)
    n = sum(k for k, _ in gaps)
    return math.fsum(k * g for k, g in gaps) / n


def maximum_calibration_error(confidences, correct, n_bins=10):
    return max(g for _, g in _gaps(confidences, correct, n_bins))


def group_calibration_gap(confidences, correct, sensitive, n_bins=10):
    ids = sorted(set(sensitive.tolist()))
    eces = []
    for g in ids:
        m = sensitive == g
        eces.append(expected_calibration_error(confidences[m], correct[m], n_bins))
    return {"groups": torch.tensor(ids, dtype=sensitive.dtype), "ece": torch.tensor(eces, dtype=torch.float64),
            "max_gap": max(eces) - min(eces)}
