"""Hidden graders of transformer/rotary_embedding: the cos/sin table and the rotation against an
independent oracle that treats each pair (j, j + d/2) as a complex number and multiplies it by
e^{i p theta_j} in float64; offsets and per-sequence positions; grouped-query shapes; the
properties RoPE exists for (scores depend only on m - n, lengths preserved); dtypes; gradients."""
import numpy as np
import torch

from mlkata.checks import check, expect, expect_close, expect_equal, expect_tensor, probe, visible_module

V = visible_module("transformer/rotary_embedding")


@probe
def rope_each(sub, cases):
    return [V.rope.fn(sub, **case) for case in cases]


@probe
def cos_sin_each(sub, cases):
    return [V.cos_sin.fn(sub, *args, **kwargs) for args, kwargs in cases]


@probe
def cos_sin_error(sub, head_dim):
    try:
        sub.rope_cos_sin(torch.arange(4), head_dim)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - the check decides which exception is right
        return {"raised": type(e).__name__, "message": str(e)[:200]}
    return {"raised": None}


# --------------------------------------------------------------------------------------------
# The oracle: complex multiplication in float64 (numpy frequencies, torch.polar), no rotate_half
# --------------------------------------------------------------------------------------------

def oracle_angles(positions, d, base=10000.0):
    """[*P, d/2] float64: position * base ** (-2j / d)."""
    theta = torch.from_numpy(np.power(float(base), -np.arange(0, d, 2, dtype=np.float64) / d))
    return positions.to(torch.float64).unsqueeze(-1) * theta


def oracle_cos_sin(positions, d, base=10000.0):
    a = oracle_angles(positions, d, base)
    a = torch.cat([a, a], dim=-1)
    return a.cos(), a.sin()


def oracle_rope(x, angle):
    """Rotate x [B, H, T, d] by ``angle`` [T, d/2] or [B, T, d/2]: pair (j, j + d/2) is the complex
    number x[j] + i x[j + d/2], multiplied by e^{i angle_j}."""
    if angle.dim() == 3:
        angle = angle[:, None]                                           # (B, 1, T, d/2)
    half = x.size(-1) // 2
    z = torch.complex(x[..., :half].double(), x[..., half:].double())
    z = z * torch.polar(torch.ones_like(angle), angle)
    return torch.cat([z.real, z.imag], dim=-1)


def f32_atol(max_position, scale=1.0):
    """A float32 angle p * theta carries a rounding error of ~6e-8 * p radians."""
    return scale * (2e-6 + 2e-7 * max_position)


def qk(seed, B, Hq, Hk, T, d, dtype=torch.float32, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(B, Hq, T, d, generator=g, dtype=torch.float64) * scale
    k = torch.randn(B, Hk, T, d, generator=g, dtype=torch.float64) * scale
    return q.to(dtype), k.to(dtype)


RULE_ROTATION = ("pair (j, j + d/2) of the vector at position p is rotated by p * theta_j: "
                 "q * cos + rotate_half(q) * sin (rotate-half layout, not adjacent pairs)")


def expect_rotated(got, q, k, angle, rule, label, atol, rtol=1e-5, check_dtype=False):
    expect_close(got["q"], oracle_rope(q, angle).to(q.dtype), rule, atol=atol, rtol=rtol, check_dtype=check_dtype,
                 what=f"rotated q ({label})")
    expect_close(got["k"], oracle_rope(k, angle).to(k.dtype), rule, atol=atol, rtol=rtol, check_dtype=check_dtype,
                 what=f"rotated k ({label})")
    expect(got["unchanged"], "apply_rotary_pos_emb returns new tensors and leaves q and k unchanged",
           f"q or k was modified in place ({label})")


# --------------------------------------------------------------------------------------------
# rope_cos_sin and rotate_half
# --------------------------------------------------------------------------------------------

@check("rope_cos_sin agrees with the formula: offsets, [B, T] position ids, head_dim 2..128, base 500000",
       points=2)
def cos_sin_agrees(run):
    g = torch.Generator().manual_seed(10)
    cases = [(torch.arange(16), 8, 10000.0), (torch.arange(100, 132), 64, 10000.0),
             (torch.randint(0, 2000, (3, 5), generator=g), 16, 10000.0), (torch.arange(7), 2, 10000.0),
             (torch.arange(50), 128, 500000.0)]
    gots = run(cos_sin_each, [((p, d), {} if base == 10000.0 else {"base": base}) for p, d, base in cases])
    for (p, d, base), got in zip(cases, gots):
        label = f"positions of shape {list(p.shape)} up to {int(p.max())}, head_dim={d}, base={base:g}"
        want_cos, want_sin = oracle_cos_sin(p, d, base)
        for name, want in (("cos", want_cos), ("sin", want_sin)):
            expect_tensor(got[name], f"{name} is [*positions.shape, head_dim] ({label})", shape=want.shape)
            expect_close(got[name], want.float(), "angle = position * base ** (-2j / d) for j < d/2, written at dims "
                         "j and j + d/2 (cat((angle, angle), -1)); use the position values, not their indices",
                         atol=f32_atol(int(p.max())), rtol=0, check_dtype=True, what=f"{name} ({label})")


@check("dtype=float64 gives float64 cos/sin exact to 1e-10 (computed in float64, not cast up)")
def cos_sin_float64(run):
    p = torch.arange(0, 3000, 7)
    [got] = run(cos_sin_each, [((p, 32), {"dtype": torch.float64})])
    want_cos, want_sin = oracle_cos_sin(p, 32)
    for name, want in (("cos", want_cos), ("sin", want_sin)):
        expect_close(got[name], want, "compute the angles in the requested dtype", atol=1e-10, rtol=0,
                     check_dtype=True, what=f"{name} (float64, positions up to 2996)")


@check("an odd head_dim raises ValueError (the dims must form pairs)")
def odd_head_dim(run):
    got = run(cos_sin_error, 7)
    expect_equal(got["raised"], "ValueError", "RoPE rotates pairs of dims: an odd head_dim is an error",
                 what="exception for head_dim=7")


@check("rotate_half on random [..., d] tensors: cat(-x2, x1), same shape and dtype")
def rotate_half_random(run):
    g = torch.Generator().manual_seed(20)
    xs = [torch.randn(3, 8, generator=g), torch.randn(2, 3, 4, 6, generator=g, dtype=torch.float64)]
    for x in xs:
        got = run("rotate_half", x)
        half = x.size(-1) // 2
        expect_close(got, torch.cat([-x[..., half:], x[..., :half]], -1), "rotate_half(x) = cat(-x[..., d/2:], "
                     "x[..., :d/2]) along the last dim", check_dtype=True, what=f"rotate_half of shape {list(x.shape)}")


# --------------------------------------------------------------------------------------------
# apply_rotary_pos_emb
# --------------------------------------------------------------------------------------------

@check("apply_rotary_pos_emb agrees with complex rotation, given exact cos/sin; Hq != Hk allowed", points=2)
def apply_agrees(run):
    shapes = [(2, 4, 2, 6, 8), (1, 3, 3, 3, 16), (3, 8, 1, 5, 4), (2, 2, 2, 1, 32)]     # B, Hq, Hk, T, d
    cases, labels = [], []
    for seed, (B, Hq, Hk, T, d) in enumerate(shapes):
        q, k = qk(30 + seed, B, Hq, Hk, T, d)
        p = torch.arange(3, 3 + T) * (seed + 1)
        cos, sin = oracle_cos_sin(p, d)
        cases.append(dict(q=q, k=k, cos=cos.float(), sin=sin.float()))
        labels.append((p, f"B={B}, Hq={Hq}, Hk={Hk}, T={T}, d={d}, cos/sin [T, d]"))
    for c, (p, label), got in zip(cases, labels, run(rope_each, cases)):
        expect_rotated(got, c["q"], c["k"], oracle_angles(p, c["q"].size(-1)), RULE_ROTATION + "; a [T, d] cos/sin "
                       "broadcasts over batch and heads as it is", label, atol=1e-5)


@check("cos/sin of shape [B, T, d] (per-sequence position ids, e.g. left padding) broadcast over the heads")
def apply_per_sequence(run):
    B, Hq, Hk, T, d = 3, 4, 2, 5, 8
    q, k = qk(40, B, Hq, Hk, T, d)
    pads = torch.tensor([0, 2, 4])
    p = (torch.arange(T)[None, :] - pads[:, None]).clamp(min=0)              # (B, T) position ids
    cos, sin = oracle_cos_sin(p, d)
    [got] = run(rope_each, [dict(q=q, k=k, cos=cos.float(), sin=sin.float())])
    expect_rotated(got, q, k, oracle_angles(p, d), "cos/sin [B, T, d] hold one row of positions per sequence: "
                   "unsqueeze(1) so they line up with [B, H, T, d]", "left-padded batch, cos/sin [B, T, d]", atol=1e-5)


@check("end to end with offsets: rope_cos_sin(arange(offset, offset + T)) then apply, incl. one decoding step",
       points=2)
def end_to_end_offsets(run):
    setups = [(0, 2, 4, 2, 6, 16), (5, 1, 2, 2, 4, 8), (1000, 2, 2, 1, 3, 32), (37, 2, 4, 4, 1, 64)]
    cases, labels = [], []
    for seed, (off, B, Hq, Hk, T, d) in enumerate(setups):
        q, k = qk(50 + seed, B, Hq, Hk, T, d)
        cases.append(dict(q=q, k=k, positions=torch.arange(off, off + T)))
        labels.append(f"offset={off}, B={B}, Hq={Hq}, Hk={Hk}, T={T}, d={d}")
    for c, label, got in zip(cases, labels, run(rope_each, cases)):
        p = c["positions"]
        expect_rotated(got, c["q"], c["k"], oracle_angles(p, c["q"].size(-1)), RULE_ROTATION + "; token t of a "
                       "chunk that starts at `offset` sits at position offset + t", label,
                       atol=f32_atol(int(p.max()), scale=4.0))


@check("relative position: with the same q and k at every position, score(m, n) depends only on m - n", points=2)
def relative_property(run):
    T, d = 12, 16
    g = torch.Generator().manual_seed(60)
    q = torch.randn(1, 2, 1, d, generator=g).expand(1, 2, T, d).contiguous()
    k = torch.randn(1, 2, 1, d, generator=g).expand(1, 2, T, d).contiguous()
    cases = [dict(q=q, k=k, positions=torch.arange(s, s + T)) for s in (0, 40)]
    gots = run(rope_each, cases)
    for s, got in zip((0, 40), gots):
        q_rot = expect_tensor(got["q"], "rotated q keeps the shape of q", shape=q.shape).double()
        k_rot = expect_tensor(got["k"], "rotated k keeps the shape of k", shape=k.shape).double()
        angle = oracle_angles(torch.arange(s, s + T), d)
        expect_close([q_rot, k_rot], [oracle_rope(q, angle), oracle_rope(k, angle)],
                     "pair (j, j + d/2) turns by position * base ** (-2j / d)", atol=1e-4,
                     what=f"[rotated q, rotated k] at positions {s}..{s + T - 1}")
        scores = q_rot @ k_rot.transpose(-2, -1)                               # (1, 2, T, T)
        expect_close(scores[..., 1:, 1:], scores[..., :-1, :-1], "<R(m) q, R(n) k> = <q, R(n - m) k>: shifting both "
                     "positions by one leaves every score unchanged (each pair must be a true rotation, with the "
                     "same angle for its two dims)", atol=1e-4, what=f"score(m + 1, n + 1) vs score(m, n), start {s}")
        if s == 40:
            expect_close(scores, base_scores, "scores depend only on m - n: shifting every position by 40 changes "
                         "nothing", atol=2e-4, what="scores at positions 40.. vs at positions 0..")
        base_scores = scores


@check("rotations preserve length, also at positions up to 100000 (finite, norms kept)")
def norm_preserved(run):
    q, k = qk(70, 2, 3, 1, 6, 32, scale=3.0)
    cases = [dict(q=q, k=k, positions=torch.arange(6)),
             dict(q=q, k=k, positions=torch.tensor([0, 1, 999, 4096, 65535, 100000]))]
    for c, got in zip(cases, run(rope_each, cases)):
        label = f"positions up to {int(c['positions'].max())}"
        for name, x in (("q", q), ("k", k)):
            r = expect_tensor(got[name], f"rotated {name} keeps the shape of {name}", shape=x.shape)
            expect(bool(r.isfinite().all()), "cos and sin are bounded: the result is finite at any position",
                   f"rotated {name} has {int((~r.isfinite()).sum())} inf/NaN entries ({label})")
            expect_close(r.double().norm(dim=-1), x.double().norm(dim=-1), "a rotation preserves the length of every "
                         "query and key vector", atol=1e-4, rtol=1e-5, what=f"norms of rotated {name} ({label})")


@check("dtypes: bfloat16 q/k with float32 cos/sin stay bfloat16; float64 end to end is exact to 1e-10")
def dtypes(run):
    q16, k16 = qk(80, 2, 2, 2, 4, 8, dtype=torch.bfloat16)
    q64, k64 = qk(81, 2, 2, 1, 5, 16, dtype=torch.float64)
    cos, sin = oracle_cos_sin(torch.arange(4), 8)
    cases = [dict(q=q16, k=k16, cos=cos.float(), sin=sin.float()),
             dict(q=q64, k=k64, positions=torch.arange(200, 205), dtype=torch.float64)]
    got16, got64 = run(rope_each, cases)
    expect_rotated(got16, q16, k16, oracle_angles(torch.arange(4), 8), "the result has the dtype of q and k "
                   "(cast cos/sin to it)", "bfloat16 q/k", atol=5e-2, rtol=2e-2, check_dtype=True)
    expect_rotated(got64, q64, k64, oracle_angles(torch.arange(200, 205), 16), "float64 in, float64 out, computed "
                   "in float64", "float64 end to end", atol=1e-10, rtol=1e-10, check_dtype=True)


@check("gradients with respect to q and k agree with the oracle's (float64): the inverse rotation")
def gradients(run):
    B, Hq, Hk, T, d = 2, 2, 1, 4, 8
    q, k = qk(90, B, Hq, Hk, T, d, dtype=torch.float64)
    gq, gk = qk(91, B, Hq, Hk, T, d, dtype=torch.float64)
    p = torch.arange(7, 7 + T)
    cos, sin = oracle_cos_sin(p, d)
    [got] = run(rope_each, [dict(q=q, k=k, cos=cos, sin=sin, grad_out=(gq, gk))])
    leaves = [q.clone().requires_grad_(True), k.clone().requires_grad_(True)]
    angle = oracle_angles(p, d)
    loss = (oracle_rope(leaves[0], angle) * gq).sum() + (oracle_rope(leaves[1], angle) * gk).sum()
    want = torch.autograd.grad(loss, leaves)
    expect(isinstance(got.get("grads"), (list, tuple)) and all(isinstance(t, torch.Tensor) for t in got["grads"]),
           "the rotation is differentiable in q and k", f"gradients came back as {got.get('grads')!r:.100}")
    for name, gt, wt in zip("qk", got["grads"], want):
        expect_close(gt, wt, "backpropagating through a rotation rotates the gradient back by -angle",
                     atol=1e-10, rtol=1e-10, what=f"d loss / d {name}")
