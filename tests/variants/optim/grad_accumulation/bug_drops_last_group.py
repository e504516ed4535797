# BUG: the classic "if (i + 1) % k == 0: step" loop: a shorter last group is never stepped.
import torch


def train_with_accumulation(model, loss_fn, optimizer, micro_batches, accumulation_steps, count_fn=None):
    count_fn = count_fn or (lambda y: y.shape[0])
    k = accumulation_steps
    losses, running = [], 0.0
    optimizer.zero_grad()
    for i, (x, y) in enumerate(micro_batches):
        group = micro_batches[i - i % k:i - i % k + k]
        total = sum(count_fn(b[1]) for b in group)
        loss = loss_fn(model(x), y) * (count_fn(y) / total)
        loss.backward()
        running += loss.item()
        if (i + 1) % k == 0:
            optimizer.step()
            optimizer.zero_grad()
            losses.append(running)
            running = 0.0
    return losses
