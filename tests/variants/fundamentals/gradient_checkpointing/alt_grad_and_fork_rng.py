# CORRECT, written differently: the RNG is replayed inside torch.random.fork_rng (which restores the outer state itself), inputs are detached in a helper, the recomputed output is backpropagated with out.backward(grad), and checkpoint_sequential builds its segments as lists first.
import torch


def _fresh(t):
    return t.detach().requires_grad_(t.requires_grad) if isinstance(t, torch.Tensor) else t


class CheckpointFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, run_function, *inputs):
        ctx.fn = run_function
        ctx.state = torch.random.get_rng_state()
        ctx.save_for_backward(*inputs)
        with torch.no_grad():
            out = run_function(*inputs)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        detached = [_fresh(t) for t in ctx.saved_tensors]
        with torch.random.fork_rng(devices=[]):
            torch.random.set_rng_state(ctx.state)
            with torch.enable_grad():
                out = ctx.fn(*detached)
        out.backward(grad_output)
        return (None,) + tuple(t.grad if t.requires_grad else None for t in detached)


def checkpoint(run_function, *inputs):
    return CheckpointFunction.apply(run_function, *inputs)


def checkpoint_sequential(functions, segments, x):
    size = len(functions) // segments
    chunks = [list(functions[i * size:(i + 1) * size]) for i in range(segments - 1)]
    last = list(functions[size * (segments - 1):])

    def chain(fs):
        def go(inp):
            for f in fs:
                inp = f(inp)
            return inp
        return go

    for fs in chunks:
        x = checkpoint(chain(fs), x)
    return chain(last)(x)
