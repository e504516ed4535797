# BUG: ECE is the plain mean of |acc - conf| over the non-empty bins, not weighted by n_b / n.
import torch


def top_label_confidence(probs, labels):
    conf, pred = probs.max(dim=1)
    return conf, pred == labels


def reliability_bins(confidences, correct, n_bins=10):
    p = confidences.double()
    y = (correct != 0).double()
    b = torch.bucketize(p, torch.arange(1, n_bins, dtype=torch.float64) / n_bins)
    count = torch.bincount(b, minlength=n_bins)
    denom = count
    return {"count": count,
            "accuracy": torch.bincount(b, weights=y, minlength=n_bins) / denom,
            "confidence": torch.bincount(b, weights=p, minlength=n_bins) / denom}


def expected_calibration_error(confidences, correct, n_bins=10):
    r = reliability_bins(confidences, correct, n_bins)
    full = r["count"] > 0
    return float((r["accuracy"] - r["confidence"])[full].abs().mean())


def maximum_calibration_error(confidences, correct, n_bins=10):
    r = reliability_bins(confidences, correct, n_bins)
    full = r["count"] > 0
    return float((r["accuracy"] - r["confidence"])[full].abs().max())


def group_calibration_gap(confidences, correct, sensitive, n_bins=10):
    groups = torch.unique(sensitive)
    ece = torch.tensor([expected_calibration_error(confidences[sensitive == g], correct[sensitive == g], n_bins)
                        for g in groups], dtype=torch.float64)
    return {"groups": groups, "ece": ece, "max_gap": float(ece.max() - ece.min())}
