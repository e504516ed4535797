# CORRECT, written differently: plain Python -- a dict of per-group counters filled in one pass,
# rates as fractions with None for undefined, converted to tensors at the end.
import math

import torch


def group_rates(y_true, y_pred, sensitive):
    tally = {}
    for t, p, s in zip(y_true.tolist(), y_pred.tolist(), sensitive.tolist()):
        c = tally.setdefault(s, {"n": 0, "sel": 0, "pos": 0, "tp": 0, "neg": 0, "fp": 0})
        t, p = bool(t), bool(p)
        c["n"] += 1
        c["sel"] += p
        if t:
            c["pos"] += 1
            c["tp"] += p
        else:
            c["neg"] += 1
            c["fp"] += p
    keys = sorted(tally)

    def ratio(a, b):
        return [tally[k][a] / tally[k][b] if tally[k][b] else math.nan for k in keys]

    return {"groups": torch.tensor(keys, dtype=sensitive.dtype),
            "count": torch.tensor([tally[k]["n"] for k in keys], dtype=torch.int64),
            "selection_rate": torch.tensor(ratio("sel", "n"), dtype=torch.float64),
            "tpr": torch.tensor(ratio("tp", "pos"), dtype=torch.float64),
            "fpr": torch.tensor(ratio("fp", "neg"), dtype=torch.float64)}


def _gap(values):
    defined = [v for v in values.tolist() if v == v]        # NaN != NaN
    return max(defined) - min(defined) if defined else None


def demographic_parity_difference(y_pred, sensitive):
    return _gap(group_rates(y_pred, y_pred, sensitive)["selection_rate"])


def equalized_odds_difference(y_true, y_pred, sensitive):
    r = group_rates(y_true, y_pred, sensitive)
    return max(g for g in (_gap(r["tpr"]), _gap(r["fpr"])) if g is not None)


def disparate_impact(y_pred, sensitive, threshold=0.8):
    rates = group_rates(y_pred, y_pred, sensitive)["selection_rate"].tolist()
    ratio = min(rates) / max(rates) if max(rates) > 0 else 1.0
    return ratio, bool(ratio >= threshold)
