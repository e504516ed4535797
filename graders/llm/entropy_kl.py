"""Hidden graders of llm/entropy_kl.

Oracles: ``torch.distributions.Categorical(logits=...).entropy()`` and
``torch.distributions.kl_divergence`` (values and, through autograd, gradients), and the exact KL
for the statistical checks of the estimators, which draw tokens from p with a seeded generator
here in the judge.  tests/test_twins_llm_entropy_kl.py ties the reference and these oracles to
scipy and to TRL's formulas.  Checks: random agreement, -inf logits (values and finite
gradients), huge logits, zero-probability conventions, asymmetry, gradients, unbiasedness of k1
and k3 (sample means within 5.6 standard errors of the exact KL), k3 >= 0 and accurate for tiny
log-ratios, dtypes and shapes, inputs untouched.
"""
import math

import torch
from torch.distributions import Categorical, kl_divergence

from mlkata.checks import Z_STRICT, Fail, check, expect, expect_close, expect_tensor, visible_module

V = visible_module("llm/entropy_kl")
INF = float("inf")

ENT_RULE = "H = -sum_i p_i log p_i over the last dimension, p = softmax(logits), 0 log 0 = 0"
KL_RULE = ("KL(p || q) = sum_i p_i (log p_i - log q_i) over the last dimension; 0 for tokens with p_i = 0, "
           "inf where q_i = 0 < p_i")


def fmt(t):
    """A short rendering of a tensor (or None) for messages."""
    if t is None:
        return "None"
    flat = t.reshape(-1).tolist()
    return "[" + ", ".join(f"{v:.4g}" for v in flat[:8]) + (", ...]" if len(flat) > 8 else "]")


def oracle_entropy(logits):
    # (torch normalises the logits in their own dtype: pass float64 where float32 would round)
    return Categorical(logits=logits).entropy()


def oracle_kl(p_logits, q_logits):
    return kl_divergence(Categorical(logits=p_logits), Categorical(logits=q_logits))


def logits_of(seed, shape, dtype=torch.float32, scale=2.0, p_masked=0.0):
    """Random logits; with ``p_masked`` > 0 some entries are -inf (never a whole row)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g, dtype=torch.float64) * scale
    if p_masked:
        masked = torch.rand(shape, generator=g) < p_masked
        masked[..., 0] = False                                   # every row keeps a finite entry
        x = x.masked_fill(masked, -INF)
    return x.to(dtype)


def restricted_grad(fn, *logits):
    """Gradients of fn(*logits).sum() computed with the -inf entries replaced by -1e4 in float64
    (probability exp(-1e4) = 0 exactly): the gradient a correct implementation gives, 0 there."""
    leaves = [torch.where(torch.isinf(t), torch.full_like(t, -1e4), t).double().requires_grad_(True)
              for t in logits]
    fn(*leaves).sum().backward()
    return [leaf.grad for leaf in leaves]


# --------------------------------------------------------------------------------------------
# entropy
# --------------------------------------------------------------------------------------------

@check("entropy agrees with Categorical(logits).entropy() on random logits of several shapes", points=2)
def entropy_random(run):
    for seed, shape in ((0, (5, 7)), (1, (2, 3, 11)), (2, (13,)), (3, (4, 1000))):
        logits = logits_of(seed, shape)
        got = run(V.ent, logits)["h"]
        expect_tensor(got, "entropy reduces the last dimension: (..., V) -> (...)", shape=shape[:-1])
        expect_close(got, oracle_entropy(logits), ENT_RULE, what=f"entropy (logits {list(shape)})")


@check("entropy with -inf logits: 0 log 0 = 0 in the value AND in the gradient (finite, 0 at the -inf entries)",
       points=2)
def entropy_neg_inf(run):
    logits = logits_of(4, (6, 9), p_masked=0.4)
    got = run(V.ent, logits, grad=True)
    h = expect_tensor(got["h"], "entropy returns one value per row", shape=(6,))
    expect(bool(torch.isfinite(h).all()), "tokens with logit -inf have p = 0 and contribute 0: p * log p is 0 * -inf "
           "= NaN unless you replace log p by 0 where p = 0", f"your entropies: {fmt(h)}")
    expect_close(h, oracle_entropy(logits), ENT_RULE, what="entropy (40% of the logits are -inf)")
    expect(got["differentiable"], "entropy is differentiable with respect to the logits",
           "your entropy does not require grad")
    grad = got["grad"]
    expect(isinstance(grad, torch.Tensor) and bool(torch.isfinite(grad).all()),
           "the gradient must be finite too: torch.where(p > 0, p * log p, 0) still backpropagates 0 * -inf = NaN "
           "through the branch it did not pick -- replace log p by 0 BEFORE multiplying by p",
           f"your gradient w.r.t. the logits: {fmt(grad)}")
    expect_close(grad, restricted_grad(oracle_entropy, logits)[0], "dH/dlogit_j = -p_j (log p_j + H), and 0 where "
                 "p_j = 0", what="gradient w.r.t. the logits")


@check("entropy gradients agree with autograd through Categorical.entropy (float64)")
def entropy_gradient(run):
    logits = logits_of(5, (3, 8), torch.float64)
    got = run(V.ent, logits, grad=True)
    expect(got["differentiable"], "entropy is differentiable with respect to the logits",
           "your entropy does not require grad")
    expect_close(got["grad"], restricted_grad(oracle_entropy, logits)[0], "dH/dlogit_j = -p_j (log p_j + H)",
                 rtol=1e-8, atol=1e-12, what="gradient w.r.t. the logits")


@check("entropy of huge logits (|logit| up to 1e30): finite and right -- log_softmax, never log(softmax)")
def entropy_huge(run):
    logits = torch.tensor([[1e30, 0.0, -1e30], [1e4, 1e4, -1e4], [500.0, 499.0, 0.0], [-1e4, -1e4 + 1.0, -1e4]])
    got = run(V.ent, logits)["h"]
    h = expect_tensor(got, "entropy returns one value per row", shape=(4,))
    expect(bool(torch.isfinite(h).all()), "compute log p with log_softmax (it subtracts the max): softmax underflows "
           "to exactly 0 and its log is -inf", f"your entropies: {fmt(h)}")
    expect_close(h, oracle_entropy(logits.double()), ENT_RULE, rtol=1e-3, atol=1e-3, what="entropy (huge logits)")


@check("entropy keeps the dtype (float64 in, float64 out, to float64 accuracy) and does not modify the logits")
def entropy_dtype(run):
    logits = logits_of(6, (4, 6), torch.float64)
    got = run(V.ent, logits)
    expect_close(got["h"], oracle_entropy(logits), ENT_RULE + " (float64)", rtol=1e-12, atol=1e-12,
                 check_dtype=True, what="entropy")
    expect(got["unchanged"], "entropy must not modify its input in place", "the logits were changed by the call")


# --------------------------------------------------------------------------------------------
# kl_divergence
# --------------------------------------------------------------------------------------------

@check("kl_divergence agrees with torch.distributions.kl_divergence in both directions (it is asymmetric)",
       points=2)
def kl_random(run):
    for seed, shape in ((10, (5, 7)), (11, (2, 3, 11)), (12, (13,)), (13, (3, 500))):
        p, q = logits_of(seed, shape), logits_of(100 + seed, shape)
        for a, b, name in ((p, q, "KL(p || q)"), (q, p, "KL(q || p), the reverse")):
            got = run(V.kl, a, b)["kl"]
            expect_tensor(got, "kl_divergence reduces the last dimension: (..., V) -> (...)", shape=shape[:-1])
            expect_close(got, oracle_kl(a, b), KL_RULE + " -- kl_divergence(p_logits, q_logits) is KL(p || q): "
                         "weighted by p, not by q", what=f"{name} (logits {list(shape)})")


@check("zero probabilities: tokens with p = 0 add 0 (even where q = 0), q = 0 < p gives inf", points=2)
def kl_zero_support(run):
    p = logits_of(20, (8, 10), p_masked=0.3)
    q = logits_of(21, (8, 10))
    q = torch.where(torch.isinf(p) & (torch.arange(10) % 2 == 0), torch.full_like(q, -INF), q)  # q = 0 only where p = 0
    got = run(V.kl, p, q)["kl"]
    d = expect_tensor(got, "kl_divergence returns one value per row", shape=(8,))
    expect(bool(torch.isfinite(d).all()), "a token with p_i = 0 contributes 0 -- also where q_i = 0: "
           "0 * (-inf - -inf) is NaN unless you select before multiplying", f"your KL: {fmt(d)}")
    expect_close(d, oracle_kl(p, q), KL_RULE, what="KL (p and q share their zeros)")
    # p_1 underflows to exactly 0 in float32 (e^-200, e^-120) while its logit is finite, and q_1 = 0
    p_under = torch.tensor([[0.0, -200.0, 1.0], [0.0, -120.0, 0.5]])
    q_under = torch.tensor([[0.0, -INF, 1.0], [0.0, -INF, 0.0]])
    got = run(V.kl, p_under, q_under)["kl"]
    expect_close(got, oracle_kl(p_under, q_under), "a token whose probability underflows to 0 (a finite logit far "
                 "below the rest) has p_i = 0 and contributes 0, also where q_i = 0: test p > 0, not a finite logit",
                 what="KL with p_1 = exp(-200) = 0 in float32 and q_1 = 0")
    q_bad = q.clone()
    q_bad[2, 0] = -INF                                         # p_0 > 0 in every row
    q_bad[5, 0] = -INF
    want = oracle_kl(p, q_bad)
    got = run(V.kl, p, q_bad)["kl"]
    V.expect_close_inf(got, want, "KL(p || q) = +inf for a row where q gives probability 0 to a token p can "
                       "produce (and stays finite for the other rows)", what="KL (rows 2 and 5 have q_0 = 0 < p_0)")


@check("kl_divergence gradients w.r.t. both logits agree with autograd through torch's KL (float64)", points=2)
def kl_gradients(run):
    p, q = logits_of(30, (4, 9), torch.float64), logits_of(31, (4, 9), torch.float64)
    got = run(V.kl, p, q, grad=True)
    expect(got["differentiable"], "kl_divergence is differentiable with respect to both logits",
           "your KL does not require grad")
    want_p, want_q = restricted_grad(oracle_kl, p, q)
    expect_close(got["p_grad"], want_p, "dKL/dp_logit_j = p_j (log p_j - log q_j - KL)", rtol=1e-8, atol=1e-12,
                 what="gradient w.r.t. p_logits")
    expect_close(got["q_grad"], want_q, "dKL/dq_logit_j = q_j - p_j", rtol=1e-8, atol=1e-12,
                 what="gradient w.r.t. q_logits")


@check("with -inf logits (zeros shared by p and q) the KL gradients stay finite: 0 at the -inf entries")
def kl_gradients_neg_inf(run):
    p = logits_of(32, (5, 8), p_masked=0.4)
    q = torch.where(torch.isinf(p) & (torch.arange(8) % 2 == 1), torch.full_like(p, -INF), logits_of(33, (5, 8)))
    got = run(V.kl, p, q, grad=True)
    expect(got["differentiable"], "kl_divergence is differentiable with respect to both logits",
           "your KL does not require grad")
    for name, g, want in (("p_logits", got["p_grad"], None), ("q_logits", got["q_grad"], None)):
        expect(isinstance(g, torch.Tensor) and bool(torch.isfinite(g).all()),
               "where the KL is finite its gradient is finite: replace the log-ratio by 0 where p = 0 BEFORE "
               "multiplying by p (a torch.where after the product still backpropagates NaN)",
               f"your gradient w.r.t. {name}: {fmt(g)}")
    want_p, want_q = restricted_grad(oracle_kl, p, q)
    expect_close(got["p_grad"], want_p, "dKL/dp_logit_j = p_j (log p_j - log q_j - KL), 0 where p_j = 0",
                 what="gradient w.r.t. p_logits")
    expect_close(got["q_grad"], want_q, "dKL/dq_logit_j = q_j - p_j, 0 where both are 0", what="gradient w.r.t. q_logits")


@check("KL of huge logits stays finite and right; KL(p || p) = 0 and shifting logits changes nothing")
def kl_huge_and_invariances(run):
    # the last row: p_1 = e^-90 is a float32 subnormal, q_1 = e^-120 underflows to 0 -- yet log q_1 = -120
    p = torch.tensor([[1e4, 0.0, -1e4], [300.0, 299.0, 0.0], [-1e4, -1e4 + 2.0, -1e4 + 1.0], [0.0, -90.0, 0.0]])
    q = torch.tensor([[1e4 - 1.0, 1e4, 0.0], [0.0, 1.0, 2.0], [-1e4 + 2.0, -1e4, -1e4 + 1.0], [0.0, -120.0, 0.0]])
    got = run(V.kl, p, q)["kl"]
    d = expect_tensor(got, "kl_divergence returns one value per row", shape=(4,))
    expect(bool(torch.isfinite(d).all()), "compute log p and log q with log_softmax: log(softmax(.)) turns a "
           "probability that underflows (e^-120 in float32) into log 0 = -inf, and the KL into inf",
           f"your KL: {fmt(d)}")
    expect_close(d, oracle_kl(p.double(), q.double()), KL_RULE, rtol=1e-3, atol=1e-3, what="KL (logits around +-1e4)")
    x = logits_of(34, (3, 6))
    got = run(V.kl, x, x + 7.5)["kl"]
    expect_close(got, torch.zeros(3), "softmax ignores a constant shift, so KL(p || p) = 0 for q_logits = p_logits + 7.5",
                 what="KL(p || p)")


@check("kl_divergence keeps float64 (to float64 accuracy) and does not modify its inputs")
def kl_dtype(run):
    p, q = logits_of(35, (4, 6), torch.float64), logits_of(36, (4, 6), torch.float64)
    got = run(V.kl, p, q)
    expect_close(got["kl"], oracle_kl(p, q), KL_RULE + " (float64)", rtol=1e-12, atol=1e-12, check_dtype=True,
                 what="KL")
    expect(got["unchanged"], "kl_divergence must not modify its inputs in place", "an input was changed by the call")


# --------------------------------------------------------------------------------------------
# estimators
# --------------------------------------------------------------------------------------------

def oracle_estimator(logp, logq, kind):
    log_r = logq.double() - logp.double()
    return {"k1": -log_r, "k2": 0.5 * log_r ** 2, "k3": torch.expm1(log_r) - log_r}[kind]


EST_RULE = "with log r = logq - logp: k1 = -log r, k2 = (log r)^2 / 2, k3 = (r - 1) - log r"


@check("k1, k2, k3 agree with their formulas elementwise on random log-probabilities of any shape", points=2)
def estimators_random(run):
    g = torch.Generator().manual_seed(40)
    for shape in ((6,), (3, 5), (2, 2, 4)):
        logp = -3 * torch.rand(shape, generator=g)
        logq = logp + 0.8 * torch.randn(shape, generator=g)
        for kind in ("k1", "k2", "k3"):
            got = run(V.estimate, logp, logq, kind)["k"]
            expect_tensor(got, "one estimate per sample: the output has the inputs' shape", shape=shape)
            expect_close(got, oracle_estimator(logp, logq, kind), EST_RULE, what=f"{kind} (shape {list(shape)})")
        got = run(V.estimate, logp, logq)["k"]
        expect_close(got, oracle_estimator(logp, logq, "k3"), "kind defaults to 'k3'",
                     what=f"kl_estimator without kind (shape {list(shape)})")


def sample_tokens(seed, p_logits, q_logits, n):
    """n tokens drawn from p in the judge, with their log-probabilities under p and q (float64)."""
    logp_all = torch.log_softmax(p_logits.double(), -1)
    logq_all = torch.log_softmax(q_logits.double(), -1)
    x = torch.multinomial(logp_all.exp(), n, replacement=True, generator=torch.Generator().manual_seed(seed))
    return logp_all[x], logq_all[x], float(oracle_kl(p_logits.double(), q_logits.double()))


@check("the sample means of k1 and k3 over tokens drawn from p estimate KL(p || q) without bias", points=2)
def estimators_unbiased(run):
    n = 20000
    pairs = [(torch.tensor([2.0, 1.0, 0.0, -1.0, 0.5]), torch.tensor([1.5, 1.2, 0.3, -0.5, 0.0]), "q close to p"),
             (torch.tensor([3.0, 0.0, -1.0, 1.0]), torch.tensor([0.0, 2.0, 1.0, -2.0]), "q far from p")]
    for seed, (p, q, label) in enumerate(pairs):
        logp, logq, exact = sample_tokens(50 + seed, p, q, n)
        for kind in ("k1", "k3"):
            got = expect_tensor(run(V.estimate, logp, logq, kind)["k"], "one estimate per sample", shape=(n,))
            ref = oracle_estimator(logp, logq, kind)
            se = float(ref.std()) / math.sqrt(n)
            mean = float(got.double().mean())
            if not abs(mean - exact) <= Z_STRICT * se + 1e-9:
                raise Fail(f"{kind} is an unbiased estimator of KL(p || q) for tokens x ~ p: its mean over samples "
                           f"converges to the exact KL ({EST_RULE}; r = q(x) / p(x), not p(x) / q(x))",
                           f"{label}: mean of your {kind} over {n} samples is {mean:.5f}, exact KL(p || q) = "
                           f"{exact:.5f} (a correct {kind} lands within {Z_STRICT * se:.5f} of it)")


@check("k3 is >= 0 and accurate for tiny log-ratios in float32 (use expm1: exp(x) - 1 cancels)")
def k3_tiny(run):
    g = torch.Generator().manual_seed(60)
    logp = -2 * torch.rand(4000, generator=g) - 0.5
    logq = logp + 1e-3 * torch.randn(4000, generator=g)          # a policy close to its reference
    got = expect_tensor(run(V.estimate, logp, logq, "k3")["k"], "one estimate per sample", shape=(4000,))
    want = oracle_estimator(logp, logq, "k3")                      # float64, from the same float32 inputs
    n_neg = int((got < 0).sum())
    expect(n_neg == 0, "k3 = (r - 1) - log r is never negative: compute r - 1 as torch.expm1(log r), or the "
           "rounding of exp(log r) (about 6e-8 in float32) swamps k3 (about (log r)^2 / 2 = 5e-7 here)",
           f"{n_neg} of 4000 of your k3 values are negative, e.g. {got[got < 0][:3].tolist()}")
    expect_close(got, want, "k3 = (r - 1) - log r, accurate to about 1e-3 relative for log-ratios near 1e-3 "
                 "(torch.expm1(log r) - log r)", rtol=1e-2, atol=1e-9, what="k3 (log-ratios around 1e-3, float32)")


@check("k3 >= 0 for any log-ratio, k1 changes sign with it; estimators keep the dtype and leave inputs untouched")
def estimators_properties(run):
    logp = torch.tensor([-1.0, -2.0, -0.5, -3.0, -1.0], dtype=torch.float64)
    logq = torch.tensor([-3.0, -1.0, -0.5, -0.2, -9.0], dtype=torch.float64)
    k3 = run(V.estimate, logp, logq, "k3")
    expect_close(k3["k"], oracle_estimator(logp, logq, "k3"), EST_RULE + " (float64)", rtol=1e-12, atol=1e-12,
                 check_dtype=True, what="k3")
    expect(bool((k3["k"] >= 0).all()), "k3 = (r - 1) - log r >= 0 for every r > 0", f"your k3: {k3['k'].tolist()}")
    k1 = run(V.estimate, logp, logq, "k1")
    expect_close(k1["k"], logp - logq, "k1 = -log r = logp - logq: positive where p(x) > q(x), negative where "
                 "p(x) < q(x)", rtol=1e-12, atol=1e-12, check_dtype=True, what="k1")
    expect(k1["unchanged"] and k3["unchanged"], "kl_estimator must not modify its inputs in place",
           "logp or logq was changed by the call")
