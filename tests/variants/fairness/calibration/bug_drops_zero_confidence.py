# BUG: the loop of Guo et al.'s reference code, lower < p <= upper in every bin: a confidence of
# exactly 0 falls in no bin and is silently dropped (from the counts and from n).
import torch


def top_label_confidence(probs, labels):
    conf, pred = probs.max(dim=1)
    return conf, pred == labels


def reliability_bins(confidences, correct, n_bins=10):
    p = confidences.double()
    y = (correct != 0).double()
    edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)
    count, acc, conf = [], [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        in_bin = (p > lo) & (p <= hi)
        k = int(in_bin.sum())
        count.append(k)
        acc.append(float(y[in_bin].mean()) if k else float("nan"))
        conf.append(float(p[in_bin].mean()) if k else float("nan"))
    return {"count": torch.tensor(count), "accuracy": torch.tensor(acc, dtype=torch.float64),
            "confidence": torch.tensor(conf, dtype=torch.float64)}


def expected_calibration_error(confidences, correct, n_bins=10):
    r = reliability_bins(confidences, correct, n_bins)
    n = int(r["count"].sum())
    return sum(k / n * abs(a - c) for k, a, c in zip(r["count"].tolist(), r["accuracy"].tolist(),
                                                      r["confidence"].tolist()) if k > 0)


def maximum_calibration_error(confidences, correct, n_bins=10):
    r = reliability_bins(confidences, correct, n_bins)
    return max(float(abs(a - c)) for k, a, c in zip(r["count"], r["accuracy"], r["confidence"]) if k > 0)


def group_calibration_gap(confidences, correct, sensitive, n_bins=10):
    groups = torch.unique(sensitive)
    ece = torch.tensor([expected_calibration_error(confidences[sensitive == g], correct[sensitive == g], n_bins)
                        for g in groups], dtype=torch.float64)
    return {"groups": groups, "ece": ece, "max_gap": float(ece.max() - ece.min())}
