"""Reweighing: remove the dependence between group and label from a training set, by weights.

If the training labels depend on a sensitive group ``A`` (one group got the favourable label
more often in the historical data), a model learns that dependence.  Kamiran & Calders
("Data preprocessing techniques for classification without discrimination", Knowledge and
Information Systems, 2012) fix the *data* instead of the model: give every training example of
group g with label y the weight

    W(g, y) = P(A = g) * P(Y = y) / P(A = g, Y = y) = (n_g * n_y) / (n * n_gy),

the probability the cell would have if group and label were independent, divided by the
probability it has.  Over-represented cells (e.g. favourable labels in the advantaged group)
get weights below 1, under-represented cells above 1.  Under the weights the joint distribution
factorises: the weighted label distribution is the same in every group, ``P_w(Y = y | A = g) =
P(Y = y)`` -- equal weighted base rates -- and the total weight stays n.  The weights are then
passed as ``sample_weight`` to any learner.

This is ``aif360.algorithms.preprocessing.Reweighing``, generalised from (privileged,
unprivileged) x (favourable, unfavourable) to any number of groups and classes.  Write it with
torch, from counts.
"""
from typing import Dict

import torch


def reweighing_weights(sensitive: torch.Tensor, labels: torch.Tensor) -> Dict[str, torch.Tensor]:
    """Kamiran-Calders weights W(g, y) = n_g n_y / (n n_gy) for every (group, class) cell and sample.

    Args:
        sensitive: (n,) integer group id of each sample (any integers; the groups are the
            distinct ids).
        labels: (n,) integer class label of each sample (any integers, two or more classes or
            even one; the classes are the distinct labels).
        n >= 1.  The inputs are not modified.

    Returns:
        a dict:

        * ``"groups"``: (G,) the distinct ids of ``sensitive``, ascending (its dtype);
        * ``"classes"``: (C,) the distinct values of ``labels``, ascending (its dtype);
        * ``"table"``: (G, C) float64, ``table[i, j]`` = W(groups[i], classes[j]).  A cell with
          no samples (n_gy = 0) has no weight to give: its entry is 0.0 -- never inf or NaN;
        * ``"weights"``: (n,) float64, the weight of each sample, the table entry of its cell.
    """
    ### BEGIN SOLUTION
    groups, g = torch.unique(sensitive, sorted=True, return_inverse=True)   # (G,), (n,)
    classes, y = torch.unique(labels, sorted=True, return_inverse=True)     # (C,), (n,)
    G, C, n = groups.numel(), classes.numel(), labels.numel()
    cell = torch.bincount(g * C + y, minlength=G * C).view(G, C).double()   # (G, C) n_gy
    n_g, n_y = cell.sum(1, keepdim=True), cell.sum(0, keepdim=True)         # (G, 1), (1, C)
    expected = n_g * n_y / n                                                # (G, C) count under independence
    table = torch.where(cell > 0, expected / cell.clamp(min=1), torch.zeros_like(cell))
    return {"groups": groups, "classes": classes, "table": table, "weights": table[g, y]}
    ### END SOLUTION


def weighted_label_rates(sensitive: torch.Tensor, labels: torch.Tensor,
                         weights: torch.Tensor) -> Dict[str, torch.Tensor]:
    """The weighted label distribution within each group, P_w(Y = y | A = g).

    Args:
        sensitive, labels: as in :func:`reweighing_weights`.
        weights: (n,) non-negative float weights (any float dtype).

    Returns:
        a dict with ``"groups"`` (G,) and ``"classes"`` (C,) as in :func:`reweighing_weights`,
        and ``"rates"``: (G, C) float64, ``rates[i, j]`` = (total weight of the samples of group
        i with class j) / (total weight of group i), the sums accumulated in float64 whatever the
        dtype of ``weights``.  Each row sums to 1; a group whose total weight is 0 has a row of
        NaN.  With all weights 1 these are the plain base rates; with the reweighing weights
        every row equals the overall class distribution P(Y = y) (for the groups with no empty
        cell).
    """
    ### BEGIN SOLUTION
    groups, g = torch.unique(sensitive, sorted=True, return_inverse=True)   # (G,), (n,)
    classes, y = torch.unique(labels, sorted=True, return_inverse=True)     # (C,), (n,)
    G, C = groups.numel(), classes.numel()
    mass = torch.bincount(g * C + y, weights=weights.double(), minlength=G * C).view(G, C)   # (G, C)
    return {"groups": groups, "classes": classes, "rates": mass / mass.sum(1, keepdim=True)}
    ### END SOLUTION
