# BUG: 'tokens' divides by B * (T - 1), every position, instead of the number of counted targets.
import torch


def completion_labels(input_ids: torch.Tensor, prompt_lengths: torch.Tensor, attention_mask: torch.Tensor,
                      ignore_index: int = -100) -> torch.Tensor:
    """The labels of an SFT batch: the input ids on response tokens, ``ignore_index`` elsewhere.

    Args:
        input_ids: int64 ``(B, T)``, each row ``prompt + response`` padded on either side.
        prompt_lengths: int64 ``(B,)``; row ``b``'s prompt is its first ``prompt_lengths[b]`` *real*
            tokens (counted from its first position whose mask is 1), ``0 <= prompt_lengths[b]``.
        attention_mask: ``(B, T)`` of 0/1 (int or bool): 1 on real tokens, 0 on padding.  The real
            tokens of a row are contiguous.
        ignore_index: the label of positions that are no target.

    Returns:
        int64 ``(B, T)``: ``input_ids[b, t]`` where position ``t`` is a real token of the response
        (neither prompt nor padding), ``ignore_index`` everywhere else.  ``input_ids`` is not modified.
    """
    real = attention_mask.bool()                                    # (B, T)
    rank = real.long().cumsum(dim=1) - 1                            # (B, T) index among the row's real tokens
    response = real & (rank >= prompt_lengths[:, None])             # (B, T)
    return torch.where(response, input_ids, torch.full_like(input_ids, ignore_index))


def sft_loss(logits: torch.Tensor, labels: torch.Tensor, normalize: str = "tokens",
             ignore_index: int = -100) -> torch.Tensor:
    """The shifted next-token cross-entropy over the response tokens, averaged as ``normalize`` says.

    Args:
        logits: float ``(B, T, V)``; ``logits[b, t]`` predicts the token at ``t + 1``.  float16 and
            bfloat16 are upcast to float32 before the softmax.
        labels: int64 ``(B, T)`` from ``completion_labels`` (NOT shifted by the caller); the targets
            are ``labels[:, 1:]``, predicted by ``logits[:, :-1]``.
        normalize: ``"tokens"`` -- sum of the counted token losses / their number in the batch;
            ``"sequences"`` -- each sequence's mean over its own counted targets, then the mean over
            the sequences that have at least one counted target (a sequence with none is left out).
        ignore_index: the label of positions that are no target.

    At least one target of the batch counts.

    Returns:
        a 0-dim tensor, float32 for float16/bfloat16/float32 logits and float64 for float64
        logits, differentiable w.r.t. ``logits``, finite for any finite logits (stable
        log-softmax).  An unknown ``normalize`` raises ``ValueError``.
    """
    if normalize not in ("tokens", "sequences"):
        raise ValueError(f"normalize must be 'tokens' or 'sequences', not {normalize!r}")
    logits = logits[:, :-1]                                          # (B, T-1, V)
    targets = labels[:, 1:]                                          # (B, T-1)
    counted = targets != ignore_index                                # (B, T-1)
    logp = torch.log_softmax(logits if logits.dtype == torch.float64 else logits.float(), dim=-1)
    picked = logp.gather(-1, targets.masked_fill(~counted, 0).unsqueeze(-1)).squeeze(-1)   # (B, T-1)
    token_loss = torch.where(counted, -picked, torch.zeros_like(picked))
    if normalize == "tokens":
        return token_loss.sum() / counted.numel()
    per_row = counted.sum(dim=1)                                     # (B,)
    has_targets = per_row > 0
    row_mean = token_loss.sum(dim=1)[has_targets] / per_row[has_targets]
    return row_mean.mean()
