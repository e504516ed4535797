"""Hidden graders of fundamentals/lstm_gru: both cells against torch.nn.LSTMCell / GRUCell on random
sizes, with and without biases, in float64 with gradients; run_lstm against a one-layer
torch.nn.LSTM (given and zero initial states, gradients to every input); and the constant error
carousel: through T steps, d c_T / d c_0 is the product of the forget gates."""
import torch

from mlkata.checks import check, expect_close, probe, visible_module

V = visible_module("fundamentals/lstm_gru")


@probe
def cells_each(sub, kind, cases):
    """Each case: (x, h, c or None, params, grad_outs or None).  Reports the outputs and, with
    grad_outs, the gradients of sum(out * g) with respect to x, h (c) and the parameters."""
    out = []
    for x, h, c, p, gos in cases:
        leaves = [t.detach().clone().requires_grad_(gos is not None) if t is not None else None
                  for t in [x, h, c] + list(p)]
        x_, h_, c_ = leaves[:3]
        params = leaves[3:]
        res = sub.lstm_cell(x_, h_, c_, *params) if kind == "lstm" else [sub.gru_cell(x_, h_, *params)]
        report = {"out": list(res) if kind == "lstm" else res[0]}
        if gos is not None:
            sum((r * g).sum() for r, g in zip(res, gos)).backward()
            report["grads"] = [t.grad for t in leaves if t is not None]
        out.append(report)
    return out


@probe
def sequence(sub, x, p, state, grad_out):
    """run_lstm, and the gradients of sum(outputs * grad_out) + sum(c_T) w.r.t. x, the weights, h0, c0."""
    leaves = [t.detach().clone().requires_grad_(True) for t in [x] + list(p) + (list(state) if state else [])]
    x_, params = leaves[0], leaves[1:5]
    st = tuple(leaves[5:]) if state else None
    outputs, (h, c) = sub.run_lstm(x_, *params, state=st)
    ((outputs * grad_out).sum() + c.sum()).backward()
    return {"outputs": outputs, "h": h, "c": c, "grads": [t.grad for t in leaves]}


def torch_cell_grads(cell, kind, x, h, c, gos):
    leaves = [t.clone().requires_grad_(True) for t in (x, h) + ((c,) if kind == "lstm" else ())]
    res = cell(leaves[0], (leaves[1], leaves[2])) if kind == "lstm" else (cell(leaves[0], leaves[1]),)
    sum((r * g).sum() for r, g in zip(res, gos)).backward()
    params = [cell.weight_ih, cell.weight_hh] + ([cell.bias_ih, cell.bias_hh] if cell.bias else [])
    return [r.detach() for r in res], [t.grad for t in leaves] + [p.grad for p in params]


def cell_cases(kind, seeds, dtype=torch.float32, grads=False):
    cases, cells = [], []
    for s, (B, I, H, bias) in seeds:
        cell = (V.torch_lstm_cell if kind == "lstm" else V.torch_gru_cell)(I, H, s, bias=bias, dtype=dtype)
        x, h, c = (t.to(dtype) for t in V.inputs(s + 100, B, I, H))
        g = torch.Generator().manual_seed(s + 200)
        gos = [torch.randn(B, H, generator=g, dtype=dtype) for _ in range(2 if kind == "lstm" else 1)] if grads else None
        cases.append((x, h, c if kind == "lstm" else None, V.params(cell), gos))
        cells.append(cell)
    return cases, cells


SIZES = [(0, (3, 5, 4, True)), (1, (1, 2, 7, True)), (2, (4, 6, 3, False)), (3, (2, 1, 1, True))]


@check("lstm_cell agrees with torch.nn.LSTMCell on random sizes, with and without biases", points=2)
def lstm_random(run):
    cases, cells = cell_cases("lstm", SIZES)
    gots = run(cells_each, "lstm", cases)
    for (x, h, c, p, _), cell, got in zip(cases, cells, gots):
        want = [t.detach() for t in cell(x, (h, c))]
        expect_close(got["out"], want, "gates i, f, g, o from x W_ih^T + b_ih + h W_hh^T + b_hh; c' = sigmoid(f) c + "
                     "sigmoid(i) tanh(g); h' = sigmoid(o) tanh(c')", what=f"(h', c') (B={x.size(0)}, I={x.size(1)}, "
                     f"H={h.size(1)}, bias={cell.bias})")


@check("gru_cell agrees with torch.nn.GRUCell on random sizes, with and without biases", points=2)
def gru_random(run):
    cases, cells = cell_cases("gru", SIZES)
    gots = run(cells_each, "gru", cases)
    for (x, h, _, p, _), cell, got in zip(cases, cells, gots):
        expect_close(got["out"], cell(x, h).detach(), "blocks r, z, n; n = tanh(a_n + r * (h W_hn^T + b_hn)) -- the "
                     "reset gate scales the hidden product and its bias; h' = (1 - z) n + z h",
                     what=f"h' (B={x.size(0)}, I={x.size(1)}, H={h.size(1)}, bias={cell.bias})")


@check("both cells' gradients (inputs, states, weights, biases) agree with torch's in float64")
def cell_gradients(run):
    for kind in ("lstm", "gru"):
        cases, cells = cell_cases(kind, SIZES[:3], dtype=torch.float64, grads=True)
        gots = run(cells_each, kind, cases)
        for (x, h, c, p, gos), cell, got in zip(cases, cells, gots):
            want_out, want_grads = torch_cell_grads(cell, kind, x, h, c, gos)
            expect_close(got["grads"], want_grads, "the cell is built from differentiable torch operations (no "
                         "in-place updates of values autograd needs)", rtol=1e-7, atol=1e-10,
                         what=f"{kind} gradients of [x, h{', c' if kind == 'lstm' else ''}, weights, biases] "
                              f"(bias={cell.bias})")


def torch_lstm(I, H, seed, dtype=torch.float64):
    torch.random.default_generator.manual_seed(seed)
    lstm = torch.nn.LSTM(I, H, dtype=dtype)
    with torch.no_grad():
        lstm.bias_ih_l0.normal_(generator=torch.Generator().manual_seed(seed))
    return lstm, [lstm.weight_ih_l0.detach(), lstm.weight_hh_l0.detach(), lstm.bias_ih_l0.detach(),
                  lstm.bias_hh_l0.detach()]


@check("run_lstm agrees with torch.nn.LSTM: outputs, final states and every gradient, with and without an initial "
       "state", points=2)
def sequence_random(run):
    for s, (T, B, I, H, with_state) in enumerate([(6, 2, 3, 4, False), (3, 3, 2, 5, True), (1, 1, 4, 2, True)]):
        lstm, p = torch_lstm(I, H, 10 + s)
        g = torch.Generator().manual_seed(20 + s)
        x = torch.randn(T, B, I, generator=g, dtype=torch.float64)
        state = (torch.randn(B, H, generator=g, dtype=torch.float64),
                 torch.randn(B, H, generator=g, dtype=torch.float64)) if with_state else None
        go = torch.randn(T, B, H, generator=g, dtype=torch.float64)
        got = run(sequence, x, p, state, go)
        leaves = [x.clone().requires_grad_(True)] + ([t.clone().requires_grad_(True) for t in state] if state else [])
        out, (h, c) = lstm(leaves[0], None if state is None else (leaves[1][None], leaves[2][None]))
        lstm.zero_grad()
        ((out * go).sum() + c.sum()).backward()
        label = f"T={T}, B={B}, I={I}, H={H}, {'given state' if state else 'zero state'}"
        expect_close([got["outputs"], got["h"], got["c"]], [out.detach(), h[0].detach(), c[0].detach()],
                     "unroll lstm_cell over dim 0, starting from (h0, c0) or zeros, carrying both h and c",
                     rtol=1e-8, atol=1e-10, what=f"(outputs, h_T, c_T) ({label})")
        want = [leaves[0].grad, lstm.weight_ih_l0.grad, lstm.weight_hh_l0.grad, lstm.bias_ih_l0.grad,
                lstm.bias_hh_l0.grad] + [t.grad for t in leaves[1:]]
        expect_close(got["grads"], want, "backpropagation through time reaches every step's input, the shared "
                     "weights and the initial state", rtol=1e-7, atol=1e-10, what=f"gradients ({label})")


@check("the constant error carousel: over 30 steps with forget gates near 1, d(c_T)/d(c_0) survives, as in torch")
def error_carousel(run):
    T, B, I, H = 30, 2, 3, 4
    lstm, p = torch_lstm(I, H, 40)
    p[2] = p[2].clone()
    p[2][H:2 * H] += 4.0                              # forget gates near 1: the carousel carries the gradient
    x = torch.randn(T, B, I, generator=torch.Generator().manual_seed(41), dtype=torch.float64)
    h0 = torch.zeros(B, H, dtype=torch.float64)
    c0 = torch.zeros(B, H, dtype=torch.float64)
    got = run(sequence, x, p, (h0, c0), torch.zeros(T, B, H, dtype=torch.float64))
    # the oracle: with h_{t-1} held, dc_t/dc_{t-1} = f_t; summed over paths through h too, autograd on torch's LSTM
    leaves = [t.clone().requires_grad_(True) for t in (h0, c0)]
    with torch.no_grad():
        for name, t in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), p):
            getattr(lstm, name).copy_(t)
    _, (h, c) = lstm(x, (leaves[0][None], leaves[1][None]))
    c.sum().backward()
    expect_close(got["grads"][-1], leaves[1].grad, "c_T = f_T c_{T-1} + ...: the gradient reaching c_0 after 30 "
                 "steps is (mostly) the product of the forget gates, far from vanishing when they are near 1",
                 rtol=1e-7, atol=1e-12, what="d(sum c_T)/d(c_0) after 30 steps")
