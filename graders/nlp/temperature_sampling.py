"""Hidden graders of nlp/temperature_sampling: temperature_probs against torch.softmax(logits / T)
in float64 (tests/test_twins_nlp_temperature_sampling.py shows it equals transformers'
TemperatureLogitsWarper + softmax) on random inputs of rank 1 to 4, T = 0 as greedy, -inf
entries, huge logits and tiny temperatures, gradients; sample_next_token by the observed rate of
every token over many draws (bounds a correct sampler misses less than once in 10^6 runs),
greedy T = 0, shapes, and reproducibility through the generator."""
import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, expect_rate, expect_tensor, \
    probe, visible_module

V = visible_module("nlp/temperature_sampling")
NEG_INF = float("-inf")


def oracle_probs(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """softmax(logits / T) in float64 (one-hot on the first argmax for T = 0), cast back."""
    x = logits.double()
    if temperature == 0:
        return torch.nn.functional.one_hot(x.argmax(-1), x.size(-1)).to(logits.dtype)
    return torch.softmax(x / temperature, dim=-1).to(logits.dtype)


def rand_logits(seed: int, shape, scale: float = 2.0, dtype=torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(dtype)


def out_of(got, x, rule, what):
    """The tensor a ``probs`` probe reported, with the input's shape and dtype."""
    out = got["out"]
    expect_tensor(out, rule + " (return a tensor)")
    if tuple(out.shape) != tuple(x.shape):
        raise Fail(rule, f"{what}: expected shape {list(x.shape)}, your code produced shape {list(out.shape)}")
    if out.dtype != x.dtype:
        raise Fail(rule, f"{what}: expected dtype {x.dtype} (the dtype of logits), your code produced {out.dtype}")
    return out


def expect_rates(ids: torch.Tensor, p: torch.Tensor, rule: str, what: str) -> None:
    """``ids`` (any shape) are draws from the distribution ``p`` over V tokens: ids in range, no
    draw of a probability-0 token, and every token's rate within the strict bounds."""
    flat = ids.reshape(-1)
    n, vocab = flat.numel(), p.numel()
    bad = flat[(flat < 0) | (flat >= vocab)]
    if bad.numel():
        raise Fail("token ids lie in [0, V)", f"{what}: your code drew id {int(bad[0])} with V = {vocab}")
    counts = torch.bincount(flat, minlength=vocab)
    for v in range(vocab):
        pv = float(p[v])
        if pv == 0.0:
            expect(int(counts[v]) == 0, "a token of probability 0 (logit -inf) is never drawn",
                   f"{what}: token {v} has logit -inf, your code drew it {int(counts[v])} times out of {n}")
        else:
            assert n * min(pv, 1 - pv) >= 1000 or pv == 1.0, "grader bug: too few draws for a strict rate"
            expect_rate(int(counts[v]), n, pv, rule, what=f"{what}: rate of token {v}")


def sampled(run, logits, temperature, seed, what):
    got = run(V.sample, logits, temperature, seed=seed)
    return V.ids_of(got, logits.shape[:-1], what)


# --------------------------------------------------------------------------------------------
# temperature_probs
# --------------------------------------------------------------------------------------------

@check("temperature_probs agrees with softmax(logits / T) on random logits of rank 1 to 4", points=2)
def probs_random(run):
    temps = (0.05, 0.3, 0.7, 1.0, 1.5, 4.0, 25.0, 1)
    cases = []
    for i, t in enumerate(temps):
        g = torch.Generator().manual_seed(10 + i)
        rank = 1 + i % 4
        shape = [int(s) for s in torch.randint(1, 4, (rank - 1,), generator=g)] + [int(torch.randint(2, 12, (1,), generator=g))]
        dtype = torch.float64 if i % 3 == 2 else torch.float32
        cases.append((rand_logits(20 + i, shape, scale=float(torch.empty(1).uniform_(0.5, 4, generator=g)), dtype=dtype), t))
    got = run(V.probs_many, cases)
    for (x, t), r in zip(cases, got):
        what = f"temperature_probs(shape {list(x.shape)}, {str(x.dtype).replace('torch.', '')}, T={t})"
        rule = "the distribution is softmax(logits / T) along the last dimension"
        out = out_of(r, x, rule, what)
        tol = dict(atol=1e-12, rtol=1e-9) if x.dtype == torch.float64 else dict(atol=1e-6, rtol=1e-4)
        expect_close(out, oracle_probs(x, t), rule, what=what, **tol)


@check("T=0 gives one-hot rows on the first index of each row's maximum (ties, -inf, any rank)")
def probs_greedy(run):
    cases = [(torch.tensor([[0.0, 2.0, 2.0, 1.0], [5.0, 5.0, 5.0, 5.0]]), 0.0),
             (torch.tensor([NEG_INF, -3.0, NEG_INF, -3.5]), 0.0),
             (torch.randint(0, 3, (2, 3, 5), generator=torch.Generator().manual_seed(3)).float(), 0),
             (rand_logits(4, (3, 6), dtype=torch.float64), 0.0)]
    got = run(V.probs_many, cases)
    for (x, t), r in zip(cases, got):
        what = f"temperature_probs({x.tolist() if x.numel() <= 8 else 'shape ' + str(list(x.shape))}, T={t!r})"
        rule = ("T=0 is greedy decoding, not a division by 0 and not a tiny epsilon: one-hot on the first "
                "index of each row's maximum (torch.argmax), so ties go to the first")
        expect_close(out_of(r, x, rule, what), oracle_probs(x, 0), rule, atol=0.0, rtol=0.0, what=what)


@check("-inf logits get probability exactly 0 at every temperature; rows sum to 1; T -> inf tends to uniform")
def probs_neg_inf_and_limits(run):
    x = rand_logits(30, (4, 8))
    x = x.masked_fill(torch.rand(4, 8, generator=torch.Generator().manual_seed(31)) < 0.4, NEG_INF)
    x[:, 5] = 0.3                                                 # every row keeps a finite entry
    temps = (0.1, 1.0, 10.0, 1e6)
    got = run(V.probs_many, [(x, t) for t in temps])
    finite = torch.isfinite(x)
    for t, r in zip(temps, got):
        what = f"temperature_probs(rows with -inf, T={t})"
        out = out_of(r, x, "temperature_probs returns a tensor of the input's shape and dtype", what)
        expect(bool(torch.isfinite(out).all()), "-inf logits give probability 0, never NaN",
               f"{what}: your code produced {out.tolist()}")
        zeros = out[~finite]
        expect(bool((zeros == 0).all()), "a -inf logit has probability exactly 0 at every temperature",
               f"{what}: expected 0 at the -inf entries, your code produced {zeros.tolist()}")
        expect_close(out.double().sum(-1), torch.ones(4, dtype=torch.float64),
                     "each row of the distribution sums to 1", what=f"row sums of {what}")
        rule = ("a high temperature flattens the distribution towards uniform over the finite entries"
                if t == 1e6 else "the distribution is softmax(logits / T); -inf entries get 0")
        expect_close(out, oracle_probs(x, t), rule, atol=1e-6, what=what)


STABLE = ("compute the softmax stably (torch.softmax, or subtract the row maximum before exp): exp(logits / T) "
          "overflows to inf once logits / T passes ~88 in float32, and inf / inf is NaN")


@check("huge logits and tiny temperatures give finite, correct probabilities")
def probs_stable(run):
    huge = torch.tensor([[1e4, 1e4 - 1.0, -1e4, 1e4 - 3.0], [-1e4, -1e4 + 2.0, -5e3, -1e4 + 0.5]])
    small = rand_logits(40, (3, 7), scale=1.0)
    cases = [(huge, 1.0), (huge, 2.0), (huge.double(), 1.0), (small, 1e-4), (small, 1e-6), (huge, 1e-3)]
    got = run(V.probs_many, cases)
    for (x, t), r in zip(cases, got):
        what = f"temperature_probs({'logits around +-1e4' if x.abs().max() > 100 else 'N(0, 1) logits'}, " \
               f"{str(x.dtype).replace('torch.', '')}, T={t})"
        out = out_of(r, x, "temperature_probs returns a tensor of the input's shape and dtype", what)
        if not bool(torch.isfinite(out).all()):
            raise Fail(STABLE, f"{what}: your code produced {out.tolist()}")
        expect_close(out, oracle_probs(x, t), STABLE, atol=1e-6, what=what)


@check("temperature_probs leaves its input unchanged and keeps its dtype (float32 and float64)")
def probs_no_mutation(run):
    for dtype in (torch.float32, torch.float64):
        x = rand_logits(50, (2, 3, 6), dtype=dtype)
        for t in (0.5, 3.0):
            got = run(V.probs, x.clone(), t)
            expect_close(got["input_after"], x, "temperature_probs must not modify the logits: divide out of place "
                         "(logits / T), not logits /= T or logits.div_(T)", atol=0.0, rtol=0.0,
                         what=f"the input after temperature_probs(T={t}, {dtype})")
            out = out_of(got, x, f"temperature_probs returns a tensor of the logits' dtype ({dtype})",
                         f"temperature_probs(T={t}, {dtype})")
            expect_close(out, oracle_probs(x, t), "the distribution is softmax(logits / T)", what=f"temperature_probs(T={t}, {dtype})")


@probe
def raises(sub, fn, *args, **kwargs):
    """The name of the exception ``fn(*args, **kwargs)`` raised, or None."""
    try:
        getattr(sub, fn)(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - the check looks at which one
        return type(e).__name__
    return None


@check("a negative temperature raises ValueError in both functions")
def negative_temperature(run):
    x = torch.tensor([[0.5, 1.0, -1.0]])
    for fn in ("temperature_probs", "sample_next_token"):
        for t in (-1.0, -1e-3):
            name = run(raises, fn, x, t)
            expect(name == "ValueError", f"{fn} raises ValueError for a negative temperature (it would turn "
                   "the most likely token into the least likely)",
                   f"{fn}(logits, {t}) {'raised ' + name if name else 'returned without raising'}")


@probe
def probs_grad(sub, logits, temperature, weights):
    """d/dlogits of sum(weights * temperature_probs(logits, T)), or None when there is no graph."""
    x = logits.clone().requires_grad_(True)
    out = sub.temperature_probs(x, temperature)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        return {"grad": None}
    (out * weights).sum().backward()
    return {"grad": x.grad}


@check("temperature_probs is differentiable: its gradient matches torch's (float64)")
def probs_gradient(run):
    x = rand_logits(60, (3, 5), dtype=torch.float64)
    x[1, 2] = NEG_INF
    w = rand_logits(61, (3, 5), dtype=torch.float64)
    for t in (0.7, 2.5):
        got = run(probs_grad, x, t, w)
        rule = "the distribution stays a differentiable function of the logits (no .detach(), no .item(), no numpy)"
        expect(got["grad"] is not None, rule, f"temperature_probs(T={t}) returned a tensor that does not "
               "require grad for logits that do")
        xr = x.clone().requires_grad_(True)
        (torch.softmax(xr / t, -1) * w).sum().backward()
        expect_close(got["grad"], xr.grad, "the gradient of softmax(logits / T) is that of softmax, divided by T",
                     atol=1e-10, rtol=1e-7, what=f"d sum(w * p) / d logits (T={t})")


# --------------------------------------------------------------------------------------------
# sample_next_token
# --------------------------------------------------------------------------------------------

ROW = torch.tensor([1.0, 0.5, 0.0, -0.3])


@check("at T=1, the default, every token is drawn at its softmax probability (10000 draws)", points=2)
def sample_rates_t1(run):
    x = ROW.repeat(10000, 1)                                      # (10000, 4)
    ids = sampled(run, x, None, 1, "sample_next_token(10000 equal rows) with the default temperature")
    expect_rates(ids, oracle_probs(ROW.double(), 1.0), "the default temperature is 1: each token is drawn with "
                 "probability softmax(logits)", "T=1 (default)")
    # a default near 1 (0.9, 1.1) hides inside the rates' bounds, but not from the same generator seed
    explicit = sampled(run, x, 1.0, 1, "sample_next_token(10000 equal rows, T=1.0)")
    expect_equal(ids, explicit, "the default temperature is exactly 1.0: leaving it out draws the same ids as "
                 "temperature=1.0 with a generator of the same seed", what="ids with the default temperature vs "
                 "with temperature=1.0 (generator seed 1)")


@check("at T=0.5 and T=2 every token is drawn at its probability softmax(logits / T)", points=2)
def sample_rates_other_t(run):
    row = torch.tensor([0.5, 0.0, -0.25, 0.25])
    for t, seed in ((0.5, 2), (2.0, 3)):
        x = row.repeat(10000, 1)
        ids = sampled(run, x, t, seed, f"sample_next_token(10000 equal rows, T={t})")
        expect_rates(ids, oracle_probs(row.double(), t), f"sample from softmax(logits / T): at T={t} the "
                     f"distribution is {'sharper' if t < 1 else 'flatter'} than softmax(logits)", f"T={t}")


@check("tokens with logit -inf are never drawn; the others keep their relative rates")
def sample_neg_inf(run):
    row = torch.tensor([0.0, NEG_INF, 0.5, NEG_INF, -0.3, NEG_INF])
    for t, seed in ((0.7, 4), (3.0, 5)):
        ids = sampled(run, row.repeat(8000, 1), t, seed, f"sample_next_token(rows with -inf, T={t})")
        expect_rates(ids, oracle_probs(row.double(), t), "the filtered tokens (-inf) get probability 0; the "
                     "others share the mass as softmax over the finite logits", f"T={t}")


@check("T=0 returns the argmax (first index on ties); a tiny T draws the argmax every time")
def sample_greedy(run):
    x = torch.randint(0, 3, (4, 3, 6), generator=torch.Generator().manual_seed(6)).float()   # ties everywhere
    x[0, 0] = torch.tensor([NEG_INF, 1.0, 1.0, NEG_INF, 0.0, 1.0])
    for t in (0.0, 0):
        ids = sampled(run, x, t, 7, f"sample_next_token(logits with ties, T={t!r})")
        expect_equal(ids, x.argmax(-1), "T=0 is greedy decoding: each row's argmax, the first index on ties "
                     "(no sampling, no epsilon temperature)", what=f"ids at T={t!r}")
    y = torch.tensor([0.0, 0.3, 0.25, -1.0, 0.2]).repeat(5000, 1)   # gap 0.05 at T=1e-3: odds e^-50
    ids = sampled(run, y, 1e-3, 8, "sample_next_token(5000 rows, T=1e-3)")
    n_arg = int((ids == 1).sum())
    expect(n_arg == 5000, "as T -> 0 the distribution concentrates on the largest logit",
           f"at T=1e-3 the argmax (id 1) has probability 1 - 1e-21; your code drew it {n_arg} times out of 5000 "
           f"(ids drawn: {sorted(set(ids.tolist()))})")


@check("any number of leading dimensions: [V] gives a 0-dim id, [B, T, V] gives [B, T], rows independent")
def sample_shapes(run):
    one = torch.full((6,), NEG_INF)
    one[4] = 0.0
    ids = sampled(run, one, 1.0, 9, "sample_next_token(1-D logits of length 6)")
    expect_equal(int(ids), 4, "the only finite logit is drawn", what="id from a 1-D row")
    g = torch.Generator().manual_seed(10)
    x = torch.full((2, 3, 4, 7), NEG_INF)
    where = torch.randint(0, 7, (2, 3, 4), generator=g)
    x.scatter_(-1, where[..., None], 1.5)                          # one finite entry per row
    ids = sampled(run, x, 0.8, 11, "sample_next_token(shape [2, 3, 4, 7])")
    expect_equal(ids, where, "each row (along the last dimension) draws its own token: here the only finite "
                 "one", what="ids of a rank-4 input")
    rows = torch.tensor([[1.0, 0.0, 0.0, -0.5], [-0.5, 0.0, 0.8, 0.4]])          # two different rows
    x = rows.repeat(10000, 1, 1)                                    # (10000, 2, 4)
    ids = sampled(run, x, 1.0, 12, "sample_next_token(shape [10000, 2, 4])")
    for r in range(2):
        expect_rates(ids[:, r], oracle_probs(rows[r].double(), 1.0), "rows of a [B, T, V] input are sampled "
                     "independently, each from its own softmax (flatten the leading dims, keep V last)",
                     f"row {r} of [10000, 2, 4]")


@check("the generator decides every draw: same seed, same ids; another seed, other ids; None uses torch's global RNG")
def sample_generator(run):
    x = rand_logits(70, (200, 12))
    a = V.ids_of(run(V.sample, x, 1.3, seed=21, global_seed=1), (200,), "seed 21")
    b = V.ids_of(run(V.sample, x, 1.3, seed=21, global_seed=2), (200,), "seed 21 again")
    expect_equal(b, a, "take every random draw from `generator`, not from torch's global generator",
                 what="ids of a second call with a generator of the same seed (another global seed)")
    c = V.ids_of(run(V.sample, x, 1.3, seed=22, global_seed=1), (200,), "seed 22")
    expect(not torch.equal(a, c), "the draws depend on the generator's state",
           "generators seeded 21 and 22 gave the same 200 ids")
    d = V.ids_of(run(V.sample, x, 1.3, use_generator=False, global_seed=5), (200,), "no generator, global seed 5")
    e = V.ids_of(run(V.sample, x, 1.3, use_generator=False, global_seed=5), (200,), "no generator, global seed 5")
    f = V.ids_of(run(V.sample, x, 1.3, use_generator=False, global_seed=6), (200,), "no generator, global seed 6")
    expect(torch.equal(d, e) and not torch.equal(d, f), "with generator=None the draws come from torch's global "
           "generator (torch.manual_seed reproduces them)",
           f"global seed 5 twice: {'same' if torch.equal(d, e) else 'different'} ids; "
           f"global seeds 5 and 6: {'same' if torch.equal(d, f) else 'different'} ids")


@check("sampling with huge logits (around 1e4) stays correct and leaves the logits unchanged")
def sample_stable(run):
    row = torch.tensor([1e4, 1e4 - 0.5, 1e4 - 1.0, -1e4])
    x = row.repeat(6000, 1)
    got = run(V.sample, x.clone(), 1.0, seed=13)
    ids = V.ids_of(got, (6000,), "sample_next_token(logits around 1e4)")
    expect_rates(ids, oracle_probs(row.double(), 1.0), STABLE, "logits around 1e4, T=1")
    got = run(V.sample, x.clone(), 0.5, seed=14)
    expect_close(got["input_after"], x, "sample_next_token must not modify the logits: divide out of place",
                 atol=0.0, rtol=0.0, what="the input after sample_next_token(T=0.5)")
