# CORRECT, written differently: all weights of a group computed first, the weighted micro-batch
# losses summed into one graph and backpropagated with a single backward() -- the same gradient,
# more memory; a micro-batch without units is left out. Gradients are cleared with model.zero_grad(set_to_none=True) instead of the optimizer.
import torch


def train_with_accumulation(model, loss_fn, optimizer, micro_batches, accumulation_steps, count_fn=None):
    batches = list(micro_batches)
    groups = [batches[i:i + accumulation_steps] for i in range(0, len(batches), accumulation_steps)]
    history = []
    for group in groups:
        units = torch.tensor([float(count_fn(y) if count_fn else len(y)) for _, y in group], dtype=torch.float64)
        weights = units / units.sum()
        model.zero_grad(set_to_none=True)
        total = sum(w * loss_fn(model(x), y) for w, (x, y) in zip(weights.tolist(), group) if w > 0)
        total.backward()
        optimizer.step()
        history.append(float(total))
    return history
