# BUG: uses the conditional n_gy / n_g where the joint P(g, y) = n_gy / n belongs.
import torch


def _index(sensitive, labels):
    groups, g = torch.unique(sensitive, sorted=True, return_inverse=True)
    classes, y = torch.unique(labels, sorted=True, return_inverse=True)
    return groups, g, classes, y


def reweighing_weights(sensitive, labels):
    groups, g, classes, y = _index(sensitive, labels)
    G, C, n = groups.numel(), classes.numel(), labels.numel()
    cell = torch.bincount(g * C + y, minlength=G * C).view(G, C).double()
    n_g, n_y = cell.sum(1, keepdim=True), cell.sum(0, keepdim=True)
    table = torch.where(cell > 0, (n_g / n) * (n_y / n) / (cell.clamp(min=1) / n_g), torch.zeros_like(cell))
    return {"groups": groups, "classes": classes, "table": table, "weights": table[g, y]}


def weighted_label_rates(sensitive, labels, weights):
    groups, g, classes, y = _index(sensitive, labels)
    G, C = groups.numel(), classes.numel()
    mass = torch.bincount(g * C + y, weights=weights.double(), minlength=G * C).view(G, C)
    rates = mass / mass.sum(1, keepdim=True)
    return {"groups": groups, "classes": classes, "rates": rates}
