"""Hidden graders of transformer/positional_encoding: agreement with the closed-form table (an
independent float64 formula) over many sizes, odd widths and bases; the properties the paper
relies on (bounded, each pair on the unit circle, PE[pos + k] a fixed linear map of PE[pos]);
precision at large positions; the module's buffer, offsets, dtypes, gradient and dropout."""
import numpy as np
import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, expect_rate, expect_tensor, probe, \
    visible_module

V = visible_module("transformer/positional_encoding")


@probe
def table_each(sub, cases):
    return [V.table.fn(sub, *args, **kwargs) for args, kwargs in cases]


@probe
def encode_each(sub, cases):
    return [V.encode.fn(sub, **case) for case in cases]


@probe
def encode_error(sub, d_model, max_len, T, offset):
    """Apply the module to [1, T, d_model] zeros at ``offset``; report the exception, if any."""
    module = sub.PositionalEncoding(d_model, max_len=max_len)
    try:
        module(torch.zeros(1, T, d_model), offset=offset)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - the check decides which exception is right
        return {"raised": type(e).__name__, "message": str(e)[:200]}
    return {"raised": None}


# --------------------------------------------------------------------------------------------
# The oracle: the formula, column by column, in float64 numpy (no torch code shared with the
# reference).
# --------------------------------------------------------------------------------------------

def oracle_table(max_len, d_model, base=10000.0):
    pos = np.arange(max_len, dtype=np.float64)[:, None]
    j = np.arange(d_model)[None, :]
    angle = pos / np.power(float(base), (j - j % 2) / d_model)
    return torch.from_numpy(np.where(j % 2 == 0, np.sin(angle), np.cos(angle)))


def float32_atol(max_len):
    """A float32 angle pos * w carries a relative rounding error of ~6e-8, i.e. an absolute error
    growing with the position: a correct float32 table is off by up to ~5e-8 * max_len."""
    return 1e-6 + 2e-7 * max_len


RULE_FORMULA = ("PE[pos, 2i] = sin(pos / base ** (2i / d_model)) and PE[pos, 2i+1] = cos(the same angle): "
                "interleaved, one frequency per pair of columns")


def _agree(run, sizes, rule, dtype=torch.float32):
    cases = [((L, d), dict(base=base, dtype=dtype) if base != 10000.0 or dtype != torch.float32 else {})
             for L, d, base in sizes]
    gots = run(table_each, cases)
    for (L, d, base), got in zip(sizes, gots):
        label = f"max_len={L}, d_model={d}" + (f", base={base:g}" if base != 10000.0 else "")
        expect_tensor(got, f"the table is a tensor [max_len, d_model] ({label})", shape=(L, d))
        atol = 1e-10 if dtype == torch.float64 else float32_atol(L)
        expect_close(got, oracle_table(L, d, base).to(dtype), rule, atol=atol, rtol=0, check_dtype=True,
                     what=f"table ({label}, {str(dtype).replace('torch.', '')})")
    return gots


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------

@check("agrees with the closed-form formula for many sizes and bases (float32)", points=2)
def agrees_with_formula(run):
    _agree(run, [(16, 8, 10000.0), (50, 32, 10000.0), (7, 2, 10000.0), (128, 64, 10000.0), (33, 12, 100.0),
                 (20, 6, 1e5)], RULE_FORMULA)


@check("odd d_model (1, 3, 7, 33): the last column is a sine with no cosine partner")
def odd_widths(run):
    _agree(run, [(9, 1, 10000.0), (12, 3, 10000.0), (40, 7, 10000.0), (25, 33, 10000.0), (10, 5, 50.0)],
           "with odd d_model there are ceil(d/2) sine columns and floor(d/2) cosine columns; the exponent is "
           "still 2i / d_model with d_model itself (not d_model - 1 or d_model + 1)")


@check("dtype=float64 gives a float64 table exact to 1e-10, also at position 2000")
def float64_precise(run):
    _agree(run, [(2001, 8, 10000.0), (64, 9, 10000.0)],
           "compute the angles in the requested dtype: a float64 table must not be a float32 table cast up",
           dtype=torch.float64)


@check("stays accurate for a long table (max_len 10000): finite, within float32 rounding")
def long_table(run):
    [got] = run(table_each, [((10000, 12), {})])
    got = expect_tensor(got, "the table is a tensor [max_len, d_model]", shape=(10000, 12))
    expect(bool(got.isfinite().all()), "the table is finite at every position",
           f"{int((~got.isfinite()).sum())} entries are inf or NaN")
    expect_close(got, oracle_table(10000, 12).float(), RULE_FORMULA + " (float32 rounding of the angle allowed)",
                 atol=float32_atol(10000), rtol=0, what="table (max_len=10000, d_model=12)")


@check("every entry lies in [-1, 1] and every (sin, cos) pair lies on the unit circle")
def bounded_and_on_circle(run):
    [got] = run(table_each, [((200, 10), {})])
    got = expect_tensor(got, "the table is a tensor [max_len, d_model]", shape=(200, 10)).double()
    expect(bool((got.abs() <= 1 + 1e-6).all()), "sines and cosines lie in [-1, 1]",
           f"largest absolute entry {got.abs().max().item():.6g}")
    radius = got[:, 0::2] ** 2 + got[:, 1::2] ** 2                           # (max_len, d/2)
    expect_close(radius, torch.ones_like(radius),
                 "columns 2i and 2i+1 are sin and cos of the SAME angle, so sin^2 + cos^2 = 1 for each pair",
                 atol=1e-5, rtol=0, what="PE[pos, 2i]^2 + PE[pos, 2i+1]^2")


@check("rotation property: PE[pos + k] is one fixed linear map of PE[pos], the same for every pos", points=2)
def rotation_property(run):
    L, d = 160, 8
    [got] = run(table_each, [((L, d), {})])
    pe = expect_tensor(got, "the table is a tensor [max_len, d_model]", shape=(L, d)).double()
    expect_close(pe, oracle_table(L, d), RULE_FORMULA, atol=float32_atol(L), what=f"table (max_len={L}, d_model={d})")
    for k in (1, 7, 30):
        X, Y = pe[: L - k], pe[k:]                                           # (L - k, d) each
        M = torch.linalg.lstsq(X, Y).solution                                # the best linear map, (d, d)
        residual = (X @ M - Y).abs().max().item()
        expect(residual < 1e-4,
               "each pair (2i, 2i+1) turns by the same angle k * w_i when pos grows by k, so "
               "PE[pos + k] = PE[pos] @ M_k for one matrix M_k (this is what lets attention read relative "
               "positions); it fails if a column's sine and cosine partner have different frequencies",
               f"shift k={k}: the best linear map from PE[pos] to PE[pos + k] still misses by {residual:.3g} "
               f"(d_model={d}, max_len={L})")


@check("edge sizes: max_len = 1, d_model = 1 and 2")
def edge_sizes(run):
    _agree(run, [(1, 4, 10000.0), (5, 1, 10000.0), (1, 1, 10000.0), (6, 2, 10000.0)],
           "the formula holds for the smallest tables too (row 0 is [0, 1, 0, 1, ...])")


# --------------------------------------------------------------------------------------------
# The module
# --------------------------------------------------------------------------------------------

def _x(seed, B, T, d, dtype=torch.float32):
    return torch.randn(B, T, d, generator=torch.Generator().manual_seed(seed)).to(dtype)


def _want(x, offset, max_len):
    d = x.size(-1)
    return x + oracle_table(max_len, d)[offset: offset + x.size(1)].float().to(x.dtype)


@check("PositionalEncoding agrees with x + table on random batches, with and without offset", points=2)
def module_agrees(run):
    sizes = [(2, 5, 8, 16, None), (3, 4, 6, 20, 7), (1, 9, 5, 9, 0), (4, 1, 12, 64, 63), (2, 6, 16, 50, 30)]
    cases = [dict(d_model=d, max_len=L, x=_x(s, B, T, d), offset=off) for s, (B, T, d, L, off) in enumerate(sizes)]
    gots = run(encode_each, cases)
    for (B, T, d, L, off), c, got in zip(sizes, cases, gots):
        label = f"B={B}, T={T}, d_model={d}, max_len={L}, offset={off if off is not None else 'default'}"
        expect_close(got["out"], _want(c["x"], off or 0, L),
                     "out = x + pe[offset : offset + T] with x batch first [B, T, d]; offset defaults to 0",
                     atol=1e-5, what=f"output ({label})")
        expect(got["x_unchanged"], "forward returns a new tensor and leaves x unchanged",
               f"your forward modified x in place ({label})")


@check("the buffer pe holds the float32 table and is saved in state_dict; no parameters")
def module_buffer_values(run):
    [got] = run(encode_each, [dict(d_model=7, max_len=30, x=torch.zeros(1, 2, 7))])
    expect(got["parameters"] == {}, "PositionalEncoding has no trainable parameters (use register_buffer)",
           f"your module has parameters {got['parameters']}")
    expect("pe" in got["state_dict"], "register the table as a persistent buffer: it appears in state_dict",
           f"state_dict keys: {got['state_dict']}")
    expect_close(got["pe"], oracle_table(30, 7).float(), "the buffer pe is the float32 table [max_len, d_model]",
                 check_dtype=True, what="module.pe")


@check("PositionalEncoding(d_model)'s defaults: max_len 5000 rows, no dropout (training mode adds pe exactly)")
def module_defaults(run):
    x = _x(120, 2, 7, 6)
    [got] = run(encode_each, [dict(d_model=6, max_len=None, x=x, offset=4990, train=True)])
    expect(got["buffers"].get("pe") == (5000, 6), "max_len defaults to 5000 (the PyTorch tutorial's value)",
           f"your module's buffers: {got['buffers']}")
    expect_close(got["out"], _want(x, 4990, 5000), "dropout defaults to 0: in training mode the output is x + pe "
                 "exactly", atol=float32_atol(5000), what="output in training mode at offset 4990, with the defaults")


@check("offset + T > max_len raises ValueError; offset + T == max_len is fine")
def module_max_len(run):
    got = run(encode_error, 4, 10, 4, 7)
    expect_equal(got["raised"], "ValueError", "positions past max_len have no encoding: raise ValueError",
                 what="exception for offset=7, T=4, max_len=10")
    got = run(encode_error, 4, 10, 4, 6)
    expect(got["raised"] is None, "the last position max_len - 1 is valid",
           f"offset=6, T=4, max_len=10 raised {got['raised']}: {got.get('message', '')}")


@check("keeps x's dtype: float64 in gives float64 out, bfloat16 in gives bfloat16 out")
def module_dtype(run):
    cases = [dict(d_model=6, max_len=12, x=_x(40, 2, 5, 6, torch.float64), offset=3),
             dict(d_model=6, max_len=12, x=_x(41, 2, 5, 6, torch.bfloat16), offset=3)]
    gots = run(encode_each, cases)
    for c, got, tol in zip(cases, gots, (1e-6, 2e-2)):
        want = _want(c["x"], 3, 12)
        expect_close(got["out"], want, "cast the table to x.dtype before adding (the output has x's dtype)",
                     atol=tol, rtol=tol, check_dtype=True, what=f"output for {str(want.dtype).replace('torch.', '')} x")


@check("the output is differentiable in x: d out / d x is the identity in eval mode")
def module_gradient(run):
    x = _x(50, 2, 4, 8)
    go = _x(51, 2, 4, 8)
    [got] = run(encode_each, [dict(d_model=8, max_len=10, x=x, dropout=0.3, train=False, grad_out=go)])
    expect_close(got["out"], _want(x, 0, 10), "in eval mode dropout does nothing: out = x + pe",
                 what="output (eval mode, dropout=0.3)")
    expect_close(got["grad"], go, "the encoding is a constant: gradients pass to x unchanged (eval mode)",
                 what="d loss / d x")


@check("dropout in training mode: zeroes a fraction p of the SUM x + pe and scales the rest by 1/(1-p)", points=2)
def module_dropout(run):
    p, B, T, d = 0.25, 8, 64, 16
    x = _x(60, B, T, d)
    [got] = run(encode_each, [dict(d_model=d, max_len=T, x=x, dropout=p, train=True, seed=61)])
    out = expect_tensor(got["out"], "the output is [B, T, d_model]", shape=(B, T, d))
    zero = out == 0
    expect_rate(int(zero.sum()), zero.numel(), p,
                "dropout(p) zeroes each entry of x + pe with probability p (in training mode, applied to the sum)",
                what="fraction of zero outputs")
    want = _want(x, 0, T) / (1 - p)
    expect_close(out[~zero], want[~zero], "kept entries are (x + pe) / (1 - p): dropout acts on the sum, "
                 "after adding the encoding", what="kept outputs")
