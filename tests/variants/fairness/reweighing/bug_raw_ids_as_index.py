# BUG: indexes the table directly with the raw ids and labels, assuming both are 0..G-1 and 0..C-1;
# it crashes on negative ids and invents empty rows and columns for gaps in the ids.
import torch


def reweighing_weights(sensitive, labels):
    s, y = sensitive.long(), labels.long()
    n = s.numel()
    cell = torch.zeros(int(s.max()) + 1, int(y.max()) + 1, dtype=torch.float64)
    cell.index_put_((s, y), torch.ones(n, dtype=torch.float64), accumulate=True)
    n_g, n_y = cell.sum(1, keepdim=True), cell.sum(0, keepdim=True)
    table = torch.where(cell > 0, n_g * n_y / (n * cell.clamp(min=1)), torch.zeros_like(cell))
    return {"groups": torch.arange(cell.shape[0]), "classes": torch.arange(cell.shape[1]), "table": table,
            "weights": table[s, y]}


def weighted_label_rates(sensitive, labels, weights):
    s, y = sensitive.long(), labels.long()
    mass = torch.zeros(int(s.max()) + 1, int(y.max()) + 1, dtype=torch.float64)
    mass.index_put_((s, y), weights.double(), accumulate=True)
    return {"groups": torch.arange(mass.shape[0]), "classes": torch.arange(mass.shape[1]),
            "rates": mass / mass.sum(1, keepdim=True)}
