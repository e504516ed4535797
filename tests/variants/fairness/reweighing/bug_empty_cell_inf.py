# BUG: divides by n_gy with no guard, so an empty cell gets weight inf in the table.
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
    table = n_g * n_y / (n * cell)
    return {"groups": groups, "classes": classes, "table": table, "weights": table[g, y]}


def weighted_label_rates(sensitive, labels, weights):
    groups, g, classes, y = _index(sensitive, labels)
    G, C = groups.numel(), classes.numel()
    mass = torch.bincount(g * C + y, weights=weights.double(), minlength=G * C).view(G, C)
    rates = mass / mass.sum(1, keepdim=True)
    return {"groups": groups, "classes": classes, "rates": rates}
