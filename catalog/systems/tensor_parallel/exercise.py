"""Tensor parallelism: Megatron-LM's column- and row-parallel linear layers, forward and backward.

When one layer's weights no longer fit one GPU, split the matrices themselves.  Megatron-LM
(Shoeybi et al., 2019) splits a transformer MLP ``Z = GeLU(X W1^T + b1) W2^T + b2`` (weights in
``torch.nn.Linear``'s ``(out, in)`` layout) over ``N`` ranks so that it needs ONE all-reduce in
the forward pass and ONE in the backward pass:

* **column-parallel** first layer: rank ``r`` holds the ``r``-th of ``N`` equal blocks of ``W1``'s
  rows (output features) and of ``b1``, and computes its own slice of the hidden layer,
  ``H_r = GeLU(X W1_r^T + b1_r)`` -- GeLU is elementwise, so no communication is needed;
* **row-parallel** second layer: rank ``r`` holds the block of ``W2``'s COLUMNS (input features)
  matching its hidden slice and computes a partial output ``H_r W2_r^T``; the partial outputs are
  summed by an **all-reduce**, and the bias ``b2`` (replicated) is added ONCE, after it.

Backward, given ``dZ`` (replicated on every rank): ``db2 = sum_rows dZ`` on every rank;
``dW2_r = dZ^T H_r``; ``dH_r = dZ W2_r``; ``dA_r = dH_r * GeLU'(A_r)`` with ``A_r`` the
pre-activation; ``dW1_r = dA_r^T X``, ``db1_r = sum_rows dA_r``; and each rank's ``dA_r W1_r`` is
only a partial input gradient: ``dX`` needs the backward **all-reduce**.  (Exact GeLU:
``GeLU(a) = a * Phi(a)``, ``GeLU'(a) = Phi(a) + a * phi(a)``, ``Phi`` and ``phi`` the standard
normal CDF and density.)

Simulate the ranks: a list index is a rank, an all-reduce is a sum over the list.  Autograd is
not allowed in the backward pass (you derive it).
"""
import math
from typing import Dict, List, Tuple

import torch

Shard = Tuple[torch.Tensor, torch.Tensor]       # (weight block, bias block) of one rank


def shard_linear(weight: torch.Tensor, bias: torch.Tensor, world: int, mode: str) -> List[Shard]:
    """Split one ``nn.Linear`` (``weight (out, in)``, ``bias (out,)``) over ``world`` ranks.

    ``mode="column"``: rank ``r`` gets rows ``[r*out/N, (r+1)*out/N)`` of the weight and the same
    block of the bias.  ``mode="row"``: rank ``r`` gets columns ``[r*in/N, (r+1)*in/N)`` of the
    weight and the WHOLE bias (replicated; added once, after the all-reduce).

    Returns:
        ``world`` pairs ``(weight_r, bias_r)`` of new tensors (the inputs are not modified).

    Raises:
        ValueError: if the split dimension is not divisible by ``world``, or for another ``mode``.
    """
    ### BEGIN SOLUTION
    out_f, in_f = weight.shape
    if mode == "column":
        if out_f % world:
            raise ValueError(f"{out_f} output features do not split over {world} ranks")
        return [(w.clone(), b.clone()) for w, b in zip(weight.chunk(world, dim=0), bias.chunk(world, dim=0))]
    if mode == "row":
        if in_f % world:
            raise ValueError(f"{in_f} input features do not split over {world} ranks")
        return [(w.clone(), bias.clone()) for w in weight.chunk(world, dim=1)]
    raise ValueError(f"unknown mode {mode!r}: 'column' or 'row'")
    ### END SOLUTION


def column_parallel_forward(x: torch.Tensor, shards: List[Shard], gather_output: bool = False
                            ) -> List[torch.Tensor]:
    """Every rank applies its column shard to the same input ``x (B, in)``.

    Returns:
        one tensor per rank: ``x W_r^T + b_r``, ``(B, out/N)``; with ``gather_output`` every rank
        instead holds the all-gathered ``(B, out)`` (the ranks' blocks concatenated in rank order).
    """
    ### BEGIN SOLUTION
    local = [x @ w.T + b for w, b in shards]                          # (B, out/N) per rank
    if not gather_output:
        return local
    full = torch.cat(local, dim=-1)                                   # all-gather: (B, out)
    return [full.clone() for _ in shards]
    ### END SOLUTION


def row_parallel_forward(x_parts: List[torch.Tensor], shards: List[Shard]) -> List[torch.Tensor]:
    """Rank ``r`` multiplies its input slice ``x_parts[r] (B, in/N)`` by its weight block; the partial
    outputs are all-reduced (summed) and the replicated bias is added once.

    Returns:
        one ``(B, out)`` tensor per rank, all equal to ``concat(x_parts) W^T + bias``.
    """
    ### BEGIN SOLUTION
    partial = [xp @ w.T for xp, (w, _) in zip(x_parts, shards)]       # (B, out) per rank, partial sums
    reduced = torch.stack(partial).sum(dim=0) + shards[0][1]          # all-reduce, then the bias ONCE
    return [reduced.clone() for _ in shards]
    ### END SOLUTION


def _gelu(a: torch.Tensor) -> torch.Tensor:
    """Exact GeLU, ``a * Phi(a)`` (given)."""
    return 0.5 * a * (1.0 + torch.erf(a / math.sqrt(2.0)))


def _gelu_grad(a: torch.Tensor) -> torch.Tensor:
    """``GeLU'(a) = Phi(a) + a * phi(a)`` (given)."""
    return 0.5 * (1.0 + torch.erf(a / math.sqrt(2.0))) + a * torch.exp(-0.5 * a * a) / math.sqrt(2.0 * math.pi)


def tp_mlp_forward(x: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor,
                   world: int) -> Tuple[List[torch.Tensor], int]:
    """The Megatron MLP on ``world`` simulated ranks: ``w1 (hidden, in)`` column-parallel, GeLU,
    ``w2 (out, hidden)`` row-parallel.

    Returns:
        ``(outputs, allreduces)``: one ``(B, out)`` output per rank (all equal to the unsharded
        MLP's) and the number of all-reduces used (1).  No input is modified.
    """
    ### BEGIN SOLUTION
    col = shard_linear(w1, b1, world, "column")
    row = shard_linear(w2, b2, world, "row")
    hidden = [_gelu(a) for a in column_parallel_forward(x, col)]     # (B, hidden/N) per rank, no communication
    return row_parallel_forward(hidden, row), 1
    ### END SOLUTION


def tp_mlp_backward(x: torch.Tensor, w1: torch.Tensor, b1: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor,
                    grad_out: torch.Tensor, world: int) -> Tuple[Dict[str, List[torch.Tensor]], int]:
    """Gradients of ``sum(tp_mlp_forward(...) * grad_out)`` as the ranks hold them, without autograd.

    Args:
        grad_out: ``dZ (B, out)``, replicated on every rank.

    Returns:
        ``(grads, allreduces)``: ``grads`` maps ``"w1"``, ``"b1"`` (rank ``r``'s gradient of ITS
        shard: ``(hidden/N, in)``, ``(hidden/N,)``), ``"w2"`` (``(out, hidden/N)``), ``"b2"`` (the full
        ``(out,)`` gradient, on every rank) and ``"x"`` (the full ``(B, in)`` input gradient, on every
        rank, after the all-reduce) to lists of ``world`` tensors; ``allreduces`` = 1.  No input
        is modified.
    """
    ### BEGIN SOLUTION
    col = shard_linear(w1, b1, world, "column")
    row = shard_linear(w2, b2, world, "row")
    grads = {"w1": [], "b1": [], "w2": [], "b2": [], "x": []}
    partial_dx = []
    for (w1_r, b1_r), (w2_r, _) in zip(col, row):
        a = x @ w1_r.T + b1_r                                         # (B, hidden/N) pre-activation
        h = _gelu(a)
        grads["w2"].append(grad_out.T @ h)                            # (out, hidden/N)
        grads["b2"].append(grad_out.sum(dim=0))                       # (out,) the same on every rank
        da = (grad_out @ w2_r) * _gelu_grad(a)                        # (B, hidden/N)
        grads["w1"].append(da.T @ x)                                  # (hidden/N, in)
        grads["b1"].append(da.sum(dim=0))                             # (hidden/N,)
        partial_dx.append(da @ w1_r)                                  # (B, in) this rank's share of dX
    dx = torch.stack(partial_dx).sum(dim=0)                           # the backward all-reduce
    grads["x"] = [dx.clone() for _ in range(world)]
    return grads, 1
    ### END SOLUTION
