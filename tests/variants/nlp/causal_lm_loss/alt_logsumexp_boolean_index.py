# CORRECT, written differently: flatten the shifted batch, keep only the counted rows by boolean
# indexing, and write the cross-entropy as logsumexp(row) - row[target].
import torch


def causal_lm_loss(logits, labels, attention_mask=None, ignore_index=-100):
    B, T, V = logits.shape
    work = torch.float64 if logits.dtype == torch.float64 else torch.float32
    pred = logits[:, :-1].reshape(-1, V).to(work)                # ((T-1) * B, V)
    tgt = labels[:, 1:].reshape(-1)
    keep = tgt.ne(ignore_index)
    if attention_mask is not None:
        keep = keep.logical_and(attention_mask[:, 1:].reshape(-1) != 0)
    pred, tgt = pred[keep], tgt[keep]                            # (N, V), (N,)
    rows = torch.arange(tgt.numel())
    return (torch.logsumexp(pred, dim=1) - pred[rows, tgt]).mean()
