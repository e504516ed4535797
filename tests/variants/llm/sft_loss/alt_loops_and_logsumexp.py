# CORRECT, written differently: labels row by row from the first real index; the loss as logsumexp - target logit, per row.
import torch


def completion_labels(input_ids, prompt_lengths, attention_mask, ignore_index=-100):
    labels = []
    for ids, n_prompt, mask in zip(input_ids, prompt_lengths.tolist(), attention_mask.bool()):
        real = mask.nonzero().flatten()
        keep = torch.zeros_like(mask)
        keep[real[n_prompt:]] = True
        labels.append(ids.masked_fill(~keep, ignore_index))
    return torch.stack(labels)


def sft_loss(logits, labels, normalize="tokens", ignore_index=-100):
    if normalize not in {"tokens", "sequences"}:
        raise ValueError("unknown normalize " + repr(normalize))
    if logits.dtype in (torch.float16, torch.bfloat16):
        logits = logits.float()
    sums, counts = [], []
    for row_logits, row_labels in zip(logits, labels):
        keep = row_labels[1:] != ignore_index
        x = row_logits[:-1][keep]                                   # (n, V)
        y = row_labels[1:][keep]                                    # (n,)
        nll = torch.logsumexp(x, dim=-1) - x[torch.arange(len(y)), y]
        sums.append(nll.sum())
        counts.append(len(y))
    if normalize == "tokens":
        return torch.stack(sums).sum() / sum(counts)
    return torch.stack([s / c for s, c in zip(sums, counts) if c > 0]).mean()
