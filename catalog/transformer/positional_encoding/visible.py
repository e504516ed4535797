"""Visible checks: the sinusoidal table on tiny cases you can work out by hand, and the module
that adds it to a batch of embeddings."""
import math

import torch

from mlkata.checks import check, expect, expect_close, probe


@probe
def table(sub, max_len, d_model, **kwargs):
    """Call sinusoidal_positional_encoding(max_len, d_model, **kwargs)."""
    return sub.sinusoidal_positional_encoding(max_len, d_model, **kwargs)


@probe
def encode(sub, d_model, max_len, x, offset=None, dropout=None, train=False, seed=0, grad_out=None):
    """Build PositionalEncoding(d_model, max_len, dropout), put it in train or eval mode, apply it to
    ``x`` (with ``offset`` when given) and report its parameters, buffers, output (and d out / d x
    for loss = sum(out * grad_out) when ``grad_out`` is given).  ``max_len`` or ``dropout`` left at
    None is left out of the constructor call: its default is what is checked then."""
    torch.manual_seed(seed)
    options = {k: v for k, v in dict(max_len=max_len, dropout=dropout).items() if v is not None}
    module = sub.PositionalEncoding(d_model, **options)
    module.train(train)
    pe = getattr(module, "pe", None)
    report = {"parameters": {n: tuple(p.shape) for n, p in module.named_parameters()},
              "buffers": {n: tuple(b.shape) for n, b in module.named_buffers()},
              "state_dict": sorted(module.state_dict()),
              "pe": pe if isinstance(pe, torch.Tensor) else None}
    x_in = x.clone().requires_grad_(grad_out is not None)
    out = module(x_in) if offset is None else module(x_in, offset=offset)
    report["out"] = out
    report["x_unchanged"] = bool(torch.equal(x_in.detach(), x))
    if grad_out is not None:
        (out * grad_out).sum().backward()
        report["grad"] = x_in.grad
    return report


@check("row 0 is [0, 1, 0, 1]; row 1 is [sin 1, cos 1, sin 0.01, cos 0.01] for d_model = 4")
def tiny_table(run):
    got = run(table, 3, 4)
    w = 10000.0 ** (-2 / 4)              # frequency of the second pair: 0.01
    want = torch.tensor([[0.0, 1.0, 0.0, 1.0],
                         [math.sin(1), math.cos(1), math.sin(w), math.cos(w)],
                         [math.sin(2), math.cos(2), math.sin(2 * w), math.cos(2 * w)]])
    expect_close(got, want, "PE[pos, 2i] = sin(pos / 10000 ** (2i / d)), PE[pos, 2i+1] = cos(same angle), "
                 "interleaved", what="table (max_len=3, d_model=4)")


@check("odd d_model: the last column is a sine with no cosine partner")
def odd_width(run):
    got = run(table, 2, 3)
    w = 10000.0 ** (-2 / 3)
    want = torch.tensor([[0.0, 1.0, 0.0],
                         [math.sin(1), math.cos(1), math.sin(w)]])
    expect_close(got, want, "for odd d_model, column d-1 is sin(pos / 10000 ** ((d - 1) / d))",
                 what="table (max_len=2, d_model=3)")


@check("PositionalEncoding adds PE[offset + t] to token t of every batch element")
def module_adds_table(run):
    x = torch.zeros(2, 3, 4)
    x[1] = 1.0
    got = run(encode, 4, 10, x, offset=2)
    w = 0.01
    rows = torch.tensor([[math.sin(p), math.cos(p), math.sin(p * w), math.cos(p * w)] for p in (2, 3, 4)])
    expect_close(got["out"], torch.stack([rows, rows + 1]),
                 "out = x + pe[offset : offset + T]: x is [B, T, d], the same rows are added to every batch element",
                 what="output (B=2, T=3, offset=2)")


@check("the table is a buffer named pe [max_len, d_model], not a trainable parameter, and it is what is added")
def module_buffer(run):
    got = run(encode, 6, 8, torch.zeros(1, 2, 6))
    expect(got["parameters"] == {}, "PositionalEncoding has no trainable parameters (use register_buffer)",
           f"your module has parameters {got['parameters']}")
    expect(got["buffers"].get("pe") == (8, 6), "the table is the buffer `pe` of shape [max_len, d_model]",
           f"your module has buffers {got['buffers']}")
    angle = torch.arange(8.0)[:, None] / 10000.0 ** (torch.arange(0, 6, 2) / 6)      # (8, 3): one per pair
    want = torch.stack([angle.sin(), angle.cos()], dim=-1).reshape(8, 6)               # interleaved sin, cos
    expect_close(got["pe"], want, "pe holds the sinusoidal table of max_len rows", what="buffer pe (d_model=6)")
    expect_close(got["out"], want[:2].unsqueeze(0), "out = x + pe[:T]", what="output for zeros [1, 2, 6]")
