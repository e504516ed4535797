"""Hidden graders of nlp/sampling: agreement with an oracle that transcribes transformers'
TopKLogitsWarper / TopPLogitsWarper (tests/test_twins_nlp_sampling.py shows the two agree) on
random inputs of rank 1 to 4, ties, k and p at their extremes, min_tokens_to_keep, -inf inputs,
dtypes, huge logits and the temperature (in)variance of each rule."""
import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_tensor, visible_module

V = visible_module("nlp/sampling")
NEG_INF = float("-inf")


# --------------------------------------------------------------------------------------------
# The oracle: transformers' warpers, written out in torch, on the input flattened to (rows, V)
# --------------------------------------------------------------------------------------------

def oracle_top_k(logits: torch.Tensor, k: int) -> torch.Tensor:
    """TopKLogitsWarper(top_k=k): mask what is strictly below the k-th largest (k clamped to V)."""
    k = min(k, logits.size(-1))
    kth = torch.topk(logits, k, dim=-1)[0][..., -1, None]
    return logits.masked_fill(logits < kth, NEG_INF)


def oracle_top_p(logits: torch.Tensor, p: float, min_tokens_to_keep: int = 1) -> torch.Tensor:
    """TopPLogitsWarper(top_p=p, min_tokens_to_keep=m), applied to each row of the 2-D view."""
    scores = logits.reshape(-1, logits.size(-1))                  # (rows, V): the warper is 2-D only
    sorted_logits, sorted_indices = torch.sort(scores, descending=False)
    cumulative_probs = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    sorted_indices_to_remove = cumulative_probs <= (1 - p)
    sorted_indices_to_remove[..., -min_tokens_to_keep:] = 0
    indices_to_remove = sorted_indices_to_remove.scatter(1, sorted_indices, sorted_indices_to_remove)
    return scores.masked_fill(indices_to_remove, NEG_INF).reshape(logits.shape)


def clear_p(logits: torch.Tensor, candidates, margin: float = 1e-4) -> float:
    """The first candidate p that no row's partial sum comes within ``margin`` of, so that rounding
    (float32 vs float64, summing from either end) cannot change which entries a correct code keeps."""
    x = logits.detach().double().reshape(-1, logits.size(-1))
    s, _ = torch.sort(x, dim=-1, descending=True)
    probs = s.softmax(-1)
    above = probs.cumsum(-1) - probs                              # mass of the entries above each one
    above = above[torch.isfinite(s)]
    for p in candidates:
        if (above - p).abs().min() > margin:
            return float(p)
    raise RuntimeError("no candidate p is clear of the row sums")   # a fault of the grader itself


def rand_logits(seed: int, shape, scale: float = 2.0, dtype=torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(shape, generator=g, dtype=torch.float64) * scale).to(dtype)


def rand_shape(g: torch.Generator, rank: int):
    lead = [int(v) for v in torch.randint(1, 4, (rank - 1,), generator=g)]
    return tuple(lead + [int(torch.randint(2, 12, (1,), generator=g))])


def agree(got, want, rule, what):
    """``got`` is the probe's record; ``want`` the oracle's tensor. Same shape, dtype and entries."""
    out = got["out"]
    expect_tensor(out, rule + " (return a tensor)")
    expect_close(out, want, rule, atol=0.0, rtol=0.0, check_dtype=True, what=what)


def kept(t: torch.Tensor) -> torch.Tensor:
    return t != NEG_INF


# --------------------------------------------------------------------------------------------
# Top-k
# --------------------------------------------------------------------------------------------

@check("top_k_filter agrees with TopKLogitsWarper on random logits of rank 1, 2, 3 and 4", points=2)
def top_k_random_ranks(run):
    cases, meta = [], []
    for seed in range(12):
        g = torch.Generator().manual_seed(100 + seed)
        rank = 1 + seed % 4
        shape = rand_shape(g, rank)
        k = int(torch.randint(1, shape[-1] + 3, (1,), generator=g))
        cases.append((rand_logits(seed, shape), (k,), {}))
        meta.append((shape, k))
    got = run(V.filtered_many, "top_k_filter", cases)
    for (x, (k,), _), (shape, _), g in zip(cases, meta, got):
        agree(g, oracle_top_k(x, k), "keep the entries >= the k-th largest of each row (along the last "
              "dimension, for any number of leading dimensions); -inf elsewhere",
              f"top_k_filter output (shape {list(shape)}, k={k})")


@check("top_k_filter keeps every entry tied with the k-th largest (rows with many ties)")
def top_k_ties(run):
    g = torch.Generator().manual_seed(7)
    cases = []
    for shape, k in (((4, 8), 3), ((2, 3, 6), 2), ((9,), 4), ((3, 5), 1)):
        x = torch.randint(0, 4, shape, generator=g).float()       # integer logits: ties everywhere
        cases.append((x, (k,), {}))
    cases.append((torch.tensor([[1.0, 5.0, 5.0, 2.0, 5.0], [2.0, 2.0, 2.0, 2.0, 2.0]]), (1,), {}))
    got = run(V.filtered_many, "top_k_filter", cases)
    for (x, (k,), _), r in zip(cases, got):
        agree(r, oracle_top_k(x, k), "an entry equal to the k-th largest survives, however many such ties "
              "there are (compare values with the k-th, do not keep exactly k indices)",
              f"top_k_filter({x.tolist()}, k={k})")


@check("top_k_filter: k >= the row length keeps everything, k=1 keeps the maximum, a length-1 row is kept")
def top_k_extremes(run):
    x = rand_logits(11, (3, 5))
    cases = [(x, (5,), {}), (x, (6,), {}), (x, (1000,), {}), (x, (1,), {}),
             (rand_logits(12, (2, 1)), (1,), {}), (rand_logits(13, (4,)), (3,), {})]
    got = run(V.filtered_many, "top_k_filter", cases)
    rules = ["k equal to the row length keeps every entry",
             "k above the row length counts as the row length: every entry is kept",
             "k above the row length counts as the row length: every entry is kept",
             "k=1 keeps only each row's largest entry",
             "a row of length 1 keeps its only entry",
             "k=3 of 4 removes only the smallest entry"]
    for (xi, (k,), _), r, rule in zip(cases, got, rules):
        agree(r, oracle_top_k(xi, k), rule, f"top_k_filter(shape {list(xi.shape)}, k={k})")


@check("top_k_filter keeps the same entries when the logits are divided by a temperature")
def top_k_temperature_invariant(run):
    x = rand_logits(21, (3, 10))
    temps = (0.05, 0.7, 3.0, 100.0)
    got = run(V.filtered_many, "top_k_filter", [(x / t, (4,), {}) for t in temps])
    want = kept(oracle_top_k(x, 4))
    for t, r in zip(temps, got):
        expect_tensor(r["out"], "top_k_filter returns a tensor")
        expect(torch.equal(kept(r["out"]), want),
               "top-k compares logits only, so logits / T (T > 0) keep the same k entries per row",
               f"at temperature {t}: expected kept mask {want.int().tolist()}, "
               f"your code kept {kept(r['out']).int().tolist()}")


# --------------------------------------------------------------------------------------------
# Top-p
# --------------------------------------------------------------------------------------------

@check("top_p_filter agrees with TopPLogitsWarper on random logits of rank 1, 2, 3 and 4", points=2)
def top_p_random_ranks(run):
    cases, meta = [], []
    for seed in range(12):
        g = torch.Generator().manual_seed(200 + seed)
        rank = 1 + seed % 4
        shape = rand_shape(g, rank)
        x = rand_logits(300 + seed, shape, scale=float(torch.empty(1).uniform_(0.5, 4.0, generator=g)))
        p = clear_p(x, torch.empty(20).uniform_(0.05, 0.98, generator=g).tolist())
        cases.append((x, (p,), {}))
        meta.append(shape)
    got = run(V.filtered_many, "top_p_filter", cases)
    for (x, (p,), _), shape, r in zip(cases, meta, got):
        agree(r, oracle_top_p(x, p), "keep, per row along the last dimension, the most likely entries until "
              "their probabilities (softmax) reach p, the crossing entry included; -inf elsewhere",
              f"top_p_filter output (shape {list(shape)}, p={p:.4f})")


@check("top_p_filter keeps the entry that carries the sum across p, and no entry after it")
def top_p_crossing(run):
    rows = [(0.4, 0.35, 0.25), (0.05, 0.6, 0.1, 0.25), (0.15, 0.25, 0.6), (0.05, 0.3, 0.2, 0.25, 0.12, 0.08)]
    ps = [0.5, 0.8, 0.7, 0.72]
    cases = [(V.log_probs(*r), (p,), {}) for r, p in zip(rows, ps)]
    got = run(V.filtered_many, "top_p_filter", cases)
    for (x, (p,), _), r, probs in zip(cases, got, rows):
        n_kept = int(kept(oracle_top_p(x, p)).sum())
        agree(r, oracle_top_p(x, p), f"the entry whose probability carries the running sum across p is kept, "
              f"entries after it are removed (here {n_kept} entries)", f"top_p_filter(log{list(probs)}, p={p})")


@check("top_p_filter: p=1 keeps every entry of nonzero probability, a tiny p keeps only the most likely")
def top_p_extremes(run):
    x = rand_logits(31, (4, 7), scale=1.0)
    x_masked = x.masked_fill(torch.rand(4, 7, generator=torch.Generator().manual_seed(32)) < 0.3, NEG_INF)
    x_masked[:, 0] = 0.5                                           # no row is all -inf
    cases = [(x, (1.0,), {}), (x_masked, (1.0,), {}), (x, (1e-6,), {}), (x, (0.0,), {}),
             (rand_logits(33, (6,)), (1e-9,), {})]
    rules = ["p=1 keeps every entry (all have nonzero probability)",
             "p=1 keeps every entry of nonzero probability; -inf entries stay -inf",
             "a tiny p is reached by the most likely entry alone: only it is kept",
             "p=0 keeps only the most likely entry (min_tokens_to_keep=1)",
             "a tiny p keeps only the most likely entry"]
    got = run(V.filtered_many, "top_p_filter", cases)
    for (xi, (p,), _), r, rule in zip(cases, got, rules):
        agree(r, oracle_top_p(xi, p), rule, f"top_p_filter(shape {list(xi.shape)}, p={p})")


@check("top_p_filter never keeps fewer than min_tokens_to_keep entries per row")
def top_p_min_tokens(run):
    cases = []
    for i, (shape, m, ps) in enumerate((((3, 8), 2, (1e-6, 0.3)), ((2, 2, 9), 4, (0.2, 0.6)),
                                        ((10,), 3, (0.1,)), ((2, 5), 7, (0.5,)), ((5, 6), 1, (0.4, 0.9)))):
        x = rand_logits(40 + i, shape, scale=2.5)
        for p in ps:
            cases.append((x, (clear_p(x, [p, p + 0.013, p + 0.029]),), {"min_tokens_to_keep": m}))
    got = run(V.filtered_many, "top_p_filter", cases)
    for (x, (p,), kw), r in zip(cases, got):
        m = kw["min_tokens_to_keep"]
        agree(r, oracle_top_p(x, p, m), f"the {m} most likely entries of every row are kept even when fewer "
              "reach p (and a row shorter than that keeps everything)",
              f"top_p_filter(shape {list(x.shape)}, p={p:.4f}, min_tokens_to_keep={m})")


@check("top_p_filter: dividing logits by a temperature changes the nucleus as the probabilities change")
def top_p_temperatures(run):
    x = rand_logits(51, (4, 12), scale=1.5)
    cases = []
    for t in (0.2, 0.5, 2.0, 10.0):
        xt = x / t
        cases.append((xt, (clear_p(xt, [0.6, 0.63, 0.57, 0.66]),), {}))
    got = run(V.filtered_many, "top_p_filter", cases)
    for (xt, (p,), _), r, t in zip(cases, got, (0.2, 0.5, 2.0, 10.0)):
        agree(r, oracle_top_p(xt, p), "top-p sums probabilities softmax(logits / T), not logits: a low "
              "temperature shrinks the nucleus, a high one widens it", f"top_p_filter(logits / {t}, p={p})")


@check("top_p_filter keeps tied entries together when the tie is clear of p")
def top_p_ties(run):
    cases = [(torch.tensor([2.0, 0.0, 2.0, -1.0]), (0.5,), {}),
             (torch.tensor([[1.0, 1.0, 1.0, 4.0], [0.0, 3.0, 3.0, 3.0]]), (0.99,), {}),
             (torch.tensor([[0.0, 0.0, 0.0, 0.0, 0.0]]), (0.5,), {"min_tokens_to_keep": 5})]
    got = run(V.filtered_many, "top_p_filter", cases)
    for (x, (p,), kw), r in zip(cases, got):
        agree(r, oracle_top_p(x, p, **kw), "entries with equal logits share one probability; when the "
              "tie sits wholly inside the nucleus, all of them are kept",
              f"top_p_filter({x.tolist()}, p={p}{', ' + str(kw) if kw else ''})")


# --------------------------------------------------------------------------------------------
# Both
# --------------------------------------------------------------------------------------------

@check("removed entries are exactly -inf, never a large negative number")
def fills_with_neg_inf(run):
    x = torch.tensor([[4.0, -2.0, 1.0, 0.0]])
    for fn, args in (("top_k_filter", (1,)), ("top_p_filter", (0.5,))):
        out = run(V.filtered, fn, x.clone(), *args)["out"]
        expect_tensor(out, f"{fn} returns a tensor", shape=x.shape)
        bad = out[:, 1:]
        expect(bool((bad == NEG_INF).all()), f"{fn} sets excluded entries to float('-inf'), so that softmax "
               "gives them probability exactly 0", f"excluded entries of {x.tolist()}: expected -inf, "
               f"your code produced {bad.tolist()}")


@check("inputs that already contain -inf are handled: -inf stays -inf, nothing becomes NaN")
def inputs_with_neg_inf(run):
    g = torch.Generator().manual_seed(61)
    x = rand_logits(62, (3, 2, 8), scale=2.0)
    x = x.masked_fill(torch.rand(3, 2, 8, generator=g) < 0.4, NEG_INF)
    x[..., 3] = 1.0                                               # every row has a finite entry
    x1 = torch.tensor([NEG_INF, 2.0, NEG_INF, 1.0, NEG_INF])
    got_k = run(V.filtered_many, "top_k_filter", [(x, (3,), {}), (x, (8,), {}), (x1, (4,), {})])
    for (xi, k), r in zip(((x, 3), (x, 8), (x1, 4)), got_k):
        agree(r, oracle_top_k(xi, k), "-inf entries count as the smallest values; a k larger than the "
              "number of finite entries keeps all of them", f"top_k_filter(shape {list(xi.shape)} with -inf, k={k})")
    p = clear_p(x, [0.7, 0.73, 0.77])
    got_p = run(V.filtered_many, "top_p_filter", [(x, (p,), {}), (x1, (0.9,), {}), (x1, (0.5,), {"min_tokens_to_keep": 4})])
    for (xi, pi, m), r in zip(((x, p, 1), (x1, 0.9, 1), (x1, 0.5, 4)), got_p):
        agree(r, oracle_top_p(xi, pi, m), "-inf entries have probability 0 and stay -inf; the others are "
              "filtered as usual, with no NaN", f"top_p_filter(shape {list(xi.shape)} with -inf, p={pi}, "
              f"min_tokens_to_keep={m})")


@check("both filters leave their input unchanged and keep its shape and dtype (float32 and float64)")
def dtypes_and_no_mutation(run):
    for dtype in (torch.float32, torch.float64):
        x = rand_logits(71, (2, 3, 9), dtype=dtype)
        p = clear_p(x, [0.8, 0.83])
        for fn, args, want in (("top_k_filter", (3,), oracle_top_k(x, 3)), ("top_p_filter", (p,), oracle_top_p(x, p))):
            got = run(V.filtered, fn, x.clone(), *args)
            expect_close(got["input_after"], x, f"{fn} must not modify its input: build a new tensor "
                         "(masked_fill, torch.where), not an in-place masked_fill_ or item assignment",
                         atol=0.0, rtol=0.0, what=f"the input after {fn} ({dtype})")
            agree(got, want, f"{fn} returns a tensor of the input's shape and dtype ({dtype})",
                  f"{fn} output ({dtype}, shape [2, 3, 9])")


STABLE = ("with logits around +-1e4 the probabilities must come from a stable softmax (torch.softmax, or "
          "subtract the row maximum before exp): exp(1e4) overflows to inf, and inf / inf is NaN")


@check("huge logits (around +-1e4) give the right, finite result")
def huge_logits(run):
    x = torch.tensor([[1e4, -1e4, 9999.0, 0.0, 9998.5, -9999.0], [-1e4, -1e4 + 1.5, -1e4 + 0.5, 1e4, 0.0, -5e3]])
    for dtype in (torch.float32, torch.float64):
        xd = x.to(dtype)
        got_k = run(V.filtered, "top_k_filter", xd, 2)
        agree(got_k, oracle_top_k(xd, 2), "top-k only compares logits, so logits around +-1e4 "
              "filter exactly like small ones", f"top_k_filter(huge logits, k=2, {dtype})")
        got_p = run(V.filtered_many, "top_p_filter", [(xd, (0.9,), {}), (xd, (0.5,), {"min_tokens_to_keep": 2})])
        for (p, m), r in zip(((0.9, 1), (0.5, 2)), got_p):
            out = r["out"]
            expect_tensor(out, "top_p_filter returns a tensor")
            if torch.isnan(out).any():
                raise Fail(STABLE, f"top_p_filter(huge logits, p={p}, {dtype}) produced NaN: {out.tolist()}")
            agree(r, oracle_top_p(xd, p, m), STABLE,
                  f"top_p_filter(huge logits, p={p}, min_tokens_to_keep={m}, {dtype})")
