# BUG: a micro-batch with no labelled token is not skipped: its mean loss is NaN and NaN * 0 = NaN poisons
# the gradients of its whole group.
"""Gradient accumulation: a large batch's update from several small ones.

When the batch you want does not fit in memory, split it into *micro-batches*, run forward and
backward on each one, let the gradients add up in ``.grad`` (autograd accumulates; it never
overwrites), and take a single optimizer step at the end.  Done right, the step is exactly the
step you would have taken on the whole batch at once -- the same parameters, to rounding.

Done right means scaling.  The loss of a batch is a *mean*, so the full-batch gradient is

    grad mean_{all N units}(l)  =  sum_i (n_i / N) * grad mean_{n_i units of micro-batch i}(l)

i.e. each micro-batch's mean loss is weighted by its share ``n_i / N`` of the units in the
accumulation group.  With ``k`` equal micro-batches that weight is ``1 / k``; with unequal ones
(the last batch of an epoch, or sequences with different numbers of real tokens) ``1 / k`` is
wrong.  For language models the unit is the *token that carries a label*, not the sequence: this
exact bug -- averaging per-micro-batch token means with ``1 / k`` -- was in Hugging Face's Trainer
until late 2024.

Write the training loop.  It mirrors what ``transformers.Trainer`` and Karpathy's nanoGPT do
with ``gradient_accumulation_steps``.
"""
from typing import Callable, Optional, Sequence

import torch


def train_with_accumulation(model: torch.nn.Module,
                            loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                            optimizer,
                            micro_batches: Sequence[tuple[torch.Tensor, torch.Tensor]],
                            accumulation_steps: int,
                            count_fn: Optional[Callable[[torch.Tensor], int]] = None) -> list[float]:
    """Train ``model`` over ``micro_batches``, one optimizer step per group of ``accumulation_steps``.

    Args:
        model: maps inputs ``x`` to outputs; its parameters are what ``optimizer`` updates.  It has
            no batch-dependent layers (no batch norm), so a micro-batch's gradient does not depend
            on the other micro-batches.
        loss_fn: ``loss_fn(model(x), y)`` is a 0-dim tensor: the *mean* loss over the units of
            that micro-batch.
        optimizer: any object with ``zero_grad()`` and ``step()`` (a ``torch.optim`` optimizer).
        micro_batches: a list of ``(x, y)`` pairs.  Consecutive runs of ``accumulation_steps``
            pairs form one group; the last group may be shorter and still gets its own step.
        accumulation_steps: ``k >= 1``.
        count_fn: ``count_fn(y)`` is the number of units ``n_i`` that ``loss_fn`` averages over in
            a micro-batch (e.g. the tokens whose label is not ignored).  Default: the number of
            samples, ``y.shape[0]`` (not ``y.numel()``: ``y`` may have more dimensions, of another
            size in each micro-batch).  Every group has at least one unit, but a micro-batch may
            have none (``n_i = 0``, every label ignored): it contributes nothing -- skip it, its
            mean loss is undefined (NaN) and NaN times 0 is still NaN.

    For each group: discard any gradient already in the parameters (zero them before the group's
    first backward -- including the gradients that were there when this function was called),
    backpropagate each micro-batch's loss times ``n_i / N`` (``N`` = total units of the group),
    then call ``optimizer.step()`` once.  The parameters end up exactly where training on each
    group concatenated into one batch would put them.

    Returns:
        one float per optimizer step: the group's full-batch mean loss, ``sum_i n_i / N * loss_i``,
        measured before that step.
    """
    count_fn = count_fn or (lambda y: y.shape[0])
    losses = []
    for start in range(0, len(micro_batches), accumulation_steps):
        group = micro_batches[start:start + accumulation_steps]
        counts = [count_fn(y) for _, y in group]
        total = sum(counts)
        optimizer.zero_grad()
        group_loss = 0.0
        for (x, y), n in zip(group, counts):
            loss = loss_fn(model(x), y) * (n / total)      # this micro-batch's share of the mean
            loss.backward()                                # .grad accumulates across micro-batches
            group_loss += loss.item()
        optimizer.step()
        losses.append(group_loss)
    return losses
