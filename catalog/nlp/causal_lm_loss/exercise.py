"""The causal (autoregressive) language-modelling loss: GPT's pre-training objective.

GPT (Radford et al., 2018, "Improving Language Understanding by Generative Pre-Training") is
trained to predict every token from the tokens before it.  A causal mask lets the model read
only leftwards, so one forward pass over a sequence of T tokens yields T predictions at once:
the logits at position t are the model's distribution for the token at position t + 1.  The
loss is the cross-entropy of those predictions against the tokens that actually follow,

    loss = mean over counted t of  -log softmax(logits[b, t])[labels[b, t + 1]],

averaged over every counted (sequence, position) pair of the batch together, so that a long
sequence weighs more than a short one.  Unlike BERT's masked-LM loss, every position is a
target -- except padding: batches of unequal sequences are padded, and a padded position is
no target (its label is ``-100``, or its attention-mask entry is 0).

Hugging Face transformers computes exactly this when a causal LM is called with ``labels``
(``GPT2LMHeadModel(input_ids, labels=input_ids).loss``, ``ForCausalLMLoss`` in
transformers/loss/loss_utils.py): the labels are shifted inside the loss, the logits are
upcast to float32, and ``-100`` is ignored.  Write it yourself -- without
``torch.nn.functional.cross_entropy`` / ``nll_loss``: take the log-softmax over the vocabulary
and pick out each target's log-probability.
"""
from typing import Optional

import torch


def causal_lm_loss(logits: torch.Tensor, labels: torch.Tensor, attention_mask: Optional[torch.Tensor] = None,
                   ignore_index: int = -100) -> torch.Tensor:
    """Mean next-token cross-entropy of a batch, with the shift done here.

    Args:
        logits: float tensor ``(B, T, V)``; ``logits[b, t]`` scores the token at position ``t + 1``.
            Any float dtype; float16 and bfloat16 are upcast to float32 before the softmax.
        labels: int64 tensor ``(B, T)``, usually the input ids themselves (NOT shifted by the
            caller).  ``labels[b, t] == ignore_index`` means position ``t`` is no target.
        attention_mask: optional ``(B, T)`` tensor of 0/1 (int or bool); when given, a position
            whose mask is 0 (padding, on either side) is no target either.
        ignore_index: the label value that marks "no target".

    The targets are ``labels[:, 1:]``, predicted by ``logits[:, :-1]``; position 0 is never a
    target and the last logits predict nothing.  At least one position must count.

    Returns:
        a 0-dim tensor: the mean of ``-log_softmax(logits[b, t])[labels[b, t + 1]]`` over the counted
        targets of the whole batch, of dtype float32 for float16/bfloat16/float32 logits and
        float64 for float64 logits (as ``F.cross_entropy`` keeps it; transformers would compute
        float64 logits in float32).  Differentiable with respect to ``logits``; finite for any
        finite logits (a stable log-softmax).  ``logits`` may also hold ``-inf`` (a banned token):
        the loss is then still finite as long as every counted target's own logit is finite --
        positions that are no target contribute nothing, not even a NaN.  Neither ``logits`` nor
        ``labels`` is modified.
    """
    ### BEGIN SOLUTION
    logits = logits[:, :-1]                                      # (B, T-1, V) predictions for 1..T-1
    targets = labels[:, 1:]                                      # (B, T-1)
    counted = targets != ignore_index                            # (B, T-1)
    if attention_mask is not None:
        counted = counted & attention_mask[:, 1:].bool()
    logp = torch.log_softmax(logits.float() if logits.dtype != torch.float64 else logits, dim=-1)
    safe = targets.masked_fill(~counted, 0)                      # any valid index where nothing counts
    picked = logp.gather(-1, safe.unsqueeze(-1)).squeeze(-1)     # (B, T-1) log-prob of each target
    picked = torch.where(counted, picked, torch.zeros_like(picked))  # not picked * counted: -inf * 0 is nan
    return -picked.sum() / counted.sum()
    ### END SOLUTION
