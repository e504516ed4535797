"""LSTM and GRU cells: gated recurrences that let gradients survive long sequences.

A plain RNN multiplies its state by the same matrix at every step, so gradients through T steps
shrink (or blow up) like a T-th power: the vanishing-gradient problem.  The LSTM (Hochreiter &
Schmidhuber, 1997) adds a *cell state* updated additively, ``c_t = f_t * c_{t-1} + i_t * g_t``:
the gradient from ``c_t`` to ``c_{t-1}`` is just the forget gate ``f_t``, so with ``f_t`` near 1
information (and gradient) flows through many steps -- the "constant error carousel".  The GRU
(Cho et al., 2014) keeps a single state and interpolates, ``h_t = (1 - z_t) * n_t + z_t * h_{t-1}``.

Implement both cells with the exact contracts (gate order, bias placement) of ``torch.nn.LSTMCell``
and ``torch.nn.GRUCell`` -- without calling them -- and unroll the LSTM over a sequence like a
one-layer ``torch.nn.LSTM``.
"""
from typing import Optional

import torch


def lstm_cell(x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, weight_ih: torch.Tensor,
              weight_hh: torch.Tensor, bias_ih: Optional[torch.Tensor] = None,
              bias_hh: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step (``torch.nn.LSTMCell``'s parameters and equations).

    Args:
        x: ``[B, I]`` input; h, c: ``[B, H]`` previous hidden and cell state.
        weight_ih: ``[4H, I]``; weight_hh: ``[4H, H]``; bias_ih, bias_hh: ``[4H]`` or None (no bias).

    ``gates = x W_ih^T + b_ih + h W_hh^T + b_hh`` splits along the last dim into four ``[B, H]``
    blocks in the order **i, f, g, o** (input, forget, cell candidate, output);
    ``i, f, o = sigmoid(...)``, ``g = tanh(...)``; ``c' = f * c + i * g``; ``h' = o * tanh(c')``.

    Returns:
        ``(h', c')``, each ``[B, H]`` in the dtype of x; differentiable.
    """
    ### BEGIN SOLUTION
    gates = x @ weight_ih.T + h @ weight_hh.T                                 # (B, 4H)
    if bias_ih is not None:
        gates = gates + bias_ih + bias_hh
    i, f, g, o = gates.chunk(4, dim=-1)                                        # each (B, H)
    c_next = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h_next = torch.sigmoid(o) * torch.tanh(c_next)
    return h_next, c_next
    ### END SOLUTION


def gru_cell(x: torch.Tensor, h: torch.Tensor, weight_ih: torch.Tensor, weight_hh: torch.Tensor,
             bias_ih: Optional[torch.Tensor] = None, bias_hh: Optional[torch.Tensor] = None) -> torch.Tensor:
    """One GRU step (``torch.nn.GRUCell``'s parameters and equations).

    Args:
        x: ``[B, I]``; h: ``[B, H]``.
        weight_ih: ``[3H, I]``; weight_hh: ``[3H, H]``; bias_ih, bias_hh: ``[3H]`` or None.

    ``a = x W_ih^T + b_ih`` and ``b = h W_hh^T + b_hh`` each split into three ``[B, H]`` blocks in the
    order **r, z, n** (reset, update, new).  ``r = sigmoid(a_r + b_r)``, ``z = sigmoid(a_z + b_z)``,
    ``n = tanh(a_n + r * b_n)`` -- the reset gate multiplies the hidden part INCLUDING its bias
    ``b_hn`` (PyTorch's and cuDNN's form, not the paper's ``W (r * h)``) -- and
    ``h' = (1 - z) * n + z * h``.

    Returns:
        ``h'``, ``[B, H]`` in the dtype of x; differentiable.
    """
    ### BEGIN SOLUTION
    a = x @ weight_ih.T                                                        # (B, 3H)
    b = h @ weight_hh.T                                                        # (B, 3H)
    if bias_ih is not None:
        a, b = a + bias_ih, b + bias_hh
    a_r, a_z, a_n = a.chunk(3, dim=-1)
    b_r, b_z, b_n = b.chunk(3, dim=-1)
    r = torch.sigmoid(a_r + b_r)
    z = torch.sigmoid(a_z + b_z)
    n = torch.tanh(a_n + r * b_n)
    return (1 - z) * n + z * h
    ### END SOLUTION


def run_lstm(x: torch.Tensor, weight_ih: torch.Tensor, weight_hh: torch.Tensor,
             bias_ih: Optional[torch.Tensor] = None, bias_hh: Optional[torch.Tensor] = None,
             state: Optional[tuple[torch.Tensor, torch.Tensor]] = None
             ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """Unroll ``lstm_cell`` over a sequence, as a one-layer ``torch.nn.LSTM`` (batch_first=False).

    Args:
        x: ``[T, B, I]``; the weights as in ``lstm_cell``.
        state: ``(h0, c0)``, each ``[B, H]``, or None for zeros.

    Returns:
        ``(outputs, (h_T, c_T))``: outputs ``[T, B, H]`` (row t is h after step t), and the final
        states ``[B, H]``.  Differentiable through every step (gradients reach ``h0``, ``c0``, the
        weights and every input).
    """
    ### BEGIN SOLUTION
    T, B, _ = x.shape
    H = weight_hh.size(1)
    if state is None:
        h = torch.zeros(B, H, dtype=x.dtype, device=x.device)
        c = torch.zeros(B, H, dtype=x.dtype, device=x.device)
    else:
        h, c = state
    outputs = []
    for t in range(T):
        h, c = lstm_cell(x[t], h, c, weight_ih, weight_hh, bias_ih, bias_hh)
        outputs.append(h)
    return torch.stack(outputs), (h, c)                                        # (T, B, H)
    ### END SOLUTION
