"""Hidden graders of rl/reinforce: log-probabilities and entropies against
torch.distributions.Categorical on random logits of any rank; stability for huge and -inf logits
(values and gradients); the loss against the formula with every option; the gradient against the
analytic score-function estimator and torch.autograd.gradcheck; no gradient into the returns or the
baseline; and, on a 4-armed bandit, the sampled gradient is an unbiased estimate of grad J with and
without a constant baseline (tolerance from the sample standard deviation)."""
import math

import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_tensor, probe, visible_module
from mlkata.checks import Z_STRICT

V = visible_module("rl/reinforce")
NEG_INF = float("-inf")


# --------------------------------------------------------------------------------------------
# Oracles (float64)
# --------------------------------------------------------------------------------------------

def oracle_log_probs(logits, actions):
    return torch.distributions.Categorical(logits=logits.double()).log_prob(actions.long())


def oracle_entropy(logits):
    return torch.distributions.Categorical(logits=logits.double()).entropy()


def oracle_advantages(returns, baseline, normalize, eps):
    adv = returns.double()
    if baseline is not None:
        adv = adv - torch.as_tensor(baseline).double()
    adv = adv.expand(returns.shape)
    if normalize:
        adv = adv - adv.mean()
        adv = adv / (adv.std() + eps) if adv.numel() > 1 else adv
    return adv


RULE_LOSS = ("loss = -mean(log pi(a|s) * A) - entropy_coef * mean(H), A = G - b (normalised after subtracting b "
             "when asked), a mean over every step")


def oracle_loss(logits, actions, returns, baseline=None, normalize=False, entropy_coef=0.0, eps=1e-8):
    adv = oracle_advantages(returns, baseline, normalize, eps)
    loss = -(oracle_log_probs(logits, actions) * adv).mean()
    return loss - entropy_coef * oracle_entropy(logits).mean()


def oracle_grad(logits, actions, returns, baseline=None, normalize=False, entropy_coef=0.0, eps=1e-8):
    """d loss / d logits written out: -(onehot(a) - p) A / N + c p (log p + H) / N; masked entries 0."""
    z = logits.double()
    N = actions.numel()
    p = torch.softmax(z, dim=-1)
    log_p = torch.log_softmax(z, dim=-1)
    onehot = torch.nn.functional.one_hot(actions.long(), z.shape[-1]).double()
    adv = oracle_advantages(returns, baseline, normalize, eps)
    H = -(p * log_p.masked_fill(torch.isneginf(log_p), 0.0)).sum(-1, keepdim=True)
    ent = torch.where(p > 0, p * (log_p + H), torch.zeros_like(p))
    return (-(onehot - p) * adv.unsqueeze(-1) + entropy_coef * ent) / N


def random_batch(seed, lead, A, scale=2.0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    logits = (torch.randn(*lead, A, generator=g, dtype=torch.float64) * scale).to(dtype)
    actions = torch.randint(A, lead, generator=g)
    returns = (torch.randn(lead, generator=g, dtype=torch.float64) * 3 + 1).to(dtype)
    baseline = (torch.randn(lead, generator=g, dtype=torch.float64) + 1).to(dtype)
    return logits, actions, returns, baseline, g


def lead_shape(seed):
    g = torch.Generator().manual_seed(1000 + seed)
    rank = seed % 3                                                   # 0, 1 or 2 leading dimensions... plus one
    return tuple(int(v) for v in torch.randint(1, 6, (rank + 1,), generator=g))


@probe
def gradcheck_loss(sub, logits, actions, returns, baseline):
    """torch.autograd.gradcheck of the loss (all options on) in float64; True or the error text."""
    def f(z):
        return sub.reinforce_loss(z, actions, returns, baseline, normalize_advantages=True, entropy_coef=0.3)
    from torch.autograd.gradcheck import GradcheckError
    loss = f(logits.clone().requires_grad_(True))   # the learner's own errors propagate as such
    try:
        ok = torch.autograd.gradcheck(f, (logits.clone().requires_grad_(True),), eps=1e-6, atol=1e-6)
    except GradcheckError as e:                     # gradcheck's own failure report
        ok = f"{type(e).__name__}: {str(e)[:400]}"
    return {"ok": ok, "loss": loss}


@probe
def per_sample_gradients(sub, theta, actions, returns, baseline):
    """Each step gets its own copy of the shared logits theta: row i of the gradient is step i's
    share of d loss / d theta, so N * (minus) row i is step i's policy-gradient sample."""
    logits = theta.repeat(actions.shape[0], 1).requires_grad_(True)       # (N, A)
    loss = sub.reinforce_loss(logits, actions, returns, baseline)
    loss.backward()
    return logits.grad


# --------------------------------------------------------------------------------------------
# log-probabilities and entropy
# --------------------------------------------------------------------------------------------

@check("log_probs_from_logits agrees with Categorical(logits).log_prob on random logits of rank 1 to 3", points=2)
def log_probs_random(run):
    for seed in range(9):
        lead = lead_shape(seed)
        logits, actions, *_ = random_batch(seed, lead, 2 + seed % 5)
        if seed % 3 == 0:
            logits, actions = logits[0], actions[0]                   # a single state: (A,) and a 0-dim action
        got = run(V.logp, logits, actions)
        out = expect_tensor(got["out"], "return a tensor of the actions' shape", shape=tuple(actions.shape))
        expect_close(out, oracle_log_probs(logits, actions).float(), "log pi(a|s) = logits[..., a] - "
                     "logsumexp(logits, -1): normalise along the LAST dimension", what=f"log-probabilities "
                     f"(logits {list(logits.shape)}, seed {seed})")


@check("log-probabilities stay finite and exact for huge logits (1e4) and -inf (masked) actions")
def log_probs_extreme(run):
    logits = torch.tensor([[1e4, 0.0, -1e4], [NEG_INF, 3.0, 1.0], [5e3, 5e3, NEG_INF]])
    actions = torch.tensor([1, 2, 0])
    got = run(V.logp, logits, actions)
    out = expect_tensor(got["out"], "return a tensor", shape=(3,))
    expect(bool(torch.isfinite(out).all()), "compute log-probabilities with log_softmax (logits - logsumexp): "
           "log(softmax(x)) underflows to log 0 = -inf", f"your code produced {out.tolist()}")
    # float32 resolves a logit of 5e3 only to ~5e-4, so allow a few of those units
    expect_close(out, oracle_log_probs(logits, actions).float(), "log pi(a|s) = logits[a] - logsumexp(logits)",
                 rtol=1e-5, atol=2e-3, what="log-probabilities (extreme logits)")


@check("policy_entropy agrees with Categorical(logits).entropy on random logits")
def entropy_random(run):
    for seed in range(10, 16):
        logits, *_ = random_batch(seed, lead_shape(seed), 2 + seed % 4, scale=3.0)
        got = run(V.entropy, logits)
        expect_close(got["out"], oracle_entropy(logits).float(), "H = -sum_a p(a) log p(a) along the last "
                     "dimension", what=f"entropy (logits {list(logits.shape)}, seed {seed})")


@check("entropy is finite (0 log 0 = 0) with -inf logits and for a near one-hot distribution, gradient too")
def entropy_extreme(run):
    logits = torch.tensor([[NEG_INF, 0.0, 0.0], [1e4, 0.0, -1e4], [NEG_INF, NEG_INF, 2.0]])
    got = run(V.entropy, logits)
    out = expect_tensor(got["out"], "return a tensor", shape=(3,))
    expect(bool(torch.isfinite(out).all()), "actions of probability 0 add exactly 0 to the entropy (the limit of "
           "p log p), never NaN: do not multiply 0 by log 0 = -inf", f"your code produced {out.tolist()}")
    expect_close(out, torch.tensor([math.log(2.0), 0.0, 0.0]), "H = -sum p log p with 0 log 0 = 0",
                 what="entropy (masked / one-hot rows)")
    got = run(V.loss_and_grads, logits, torch.tensor([1, 0, 2]), torch.tensor([1.0, -1.0, 2.0]), None, False, 0.5)
    grad = got["grad"]
    expect(isinstance(grad, torch.Tensor) and bool(torch.isfinite(grad).all()),
           "the gradient of the entropy bonus is finite with -inf logits: replace log p by 0 where it is -inf "
           "BEFORE multiplying by p (masking the product afterwards still sends NaN backwards)",
           f"gradient w.r.t. logits: {grad.tolist() if isinstance(grad, torch.Tensor) else grad}")
    expect_close(grad, oracle_grad(logits, torch.tensor([1, 0, 2]), torch.tensor([1.0, -1.0, 2.0]),
                                   entropy_coef=0.5).float(),
                 "d loss / d logits = -(onehot(a) - p) A / N + c p (log p + H) / N, 0 for masked actions",
                 what="gradient w.r.t. logits (masked)")


# --------------------------------------------------------------------------------------------
# the loss
# --------------------------------------------------------------------------------------------

OPTIONS = [  # (baseline kind, normalize, entropy_coef)
    ("none", False, 0.0), ("tensor", False, 0.0), ("float", False, 0.0), ("tensor", True, 0.0),
    ("none", False, 0.1), ("tensor", True, 0.05), ("float", True, 0.0), ("tensor", False, 0.2),
]


def baseline_of(kind, baseline):
    return {"none": None, "tensor": baseline, "float": 0.75}[kind]


@check("the loss agrees with -mean(log pi * A) - c * mean(H) for every combination of options", points=2)
def loss_random(run):
    for seed, (kind, norm, coef) in enumerate(OPTIONS):
        lead = lead_shape(seed)
        logits, actions, returns, baseline, _ = random_batch(20 + seed, lead, 3 + seed % 3)
        b = baseline_of(kind, baseline)
        got = run(V.loss_and_grads, logits, actions, returns, b, norm, coef)
        loss = expect_tensor(got["loss"], "reinforce_loss returns a 0-dim tensor", shape=())
        want = oracle_loss(logits, actions, returns, b, norm, coef)
        rule = ("loss = -mean(log pi(a|s) * A) - entropy_coef * mean(H); A = G - b, normalised AFTER subtracting "
                "the baseline when normalize_advantages" if norm else
                "loss = -mean(log pi(a|s) * (G - b)) - entropy_coef * mean(H), a mean over every step")
        expect_close(loss, want.float(), rule, what=f"loss (batch {list(lead)}, baseline {kind}, normalize={norm}, "
                     f"entropy_coef={coef})")


@check("the defaults: no baseline, no normalisation, entropy_coef = 0, and eps = 1e-8 (returns 1e-7 apart)")
def defaults(run):
    logits, actions, returns, _, _ = random_batch(45, (6,), 4, dtype=torch.float64)
    got = run(V.loss_and_grads, logits, actions, returns)
    expect_close(got["loss"], oracle_loss(logits, actions, returns), "reinforce_loss(logits, actions, returns) is "
                 "-mean(log pi(a|s) * G): no baseline, no normalisation, no entropy bonus", rtol=1e-9, atol=1e-12,
                 what="loss with every option at its default")
    tiny = torch.arange(6, dtype=torch.float64) * 1e-7                  # std 1.7e-7: eps = 1e-8 is not negligible
    got = run(V.loss_and_grads, logits, actions, tiny, None, True)
    expect_close(got["loss"], oracle_loss(logits, actions, tiny, None, True), "normalised advantages divide by "
                 "std + eps with eps = 1e-8 by default", rtol=1e-9, atol=1e-12,
                 what="loss with normalize_advantages=True on returns 1e-7 apart")


@check("the gradient w.r.t. logits is the score-function estimator -(onehot(a) - p) * A / N (+ entropy term)",
       points=2)
def gradient_formula(run):
    for seed, (kind, norm, coef) in enumerate(OPTIONS[:6]):
        lead = lead_shape(seed + 3)
        logits, actions, returns, baseline, _ = random_batch(40 + seed, lead, 4)
        b = baseline_of(kind, baseline)
        got = run(V.loss_and_grads, logits, actions, returns, b, norm, coef)
        grad = got["grad"]
        if not isinstance(grad, torch.Tensor):
            raise Fail("the loss must be differentiable with respect to logits (do not detach the log-probabilities)",
                       f"logits.grad after loss.backward() is {grad!r}")
        expect_close(grad, oracle_grad(logits, actions, returns, b, norm, coef).float(),
                     "d loss / d logits = -(onehot(a) - softmax(logits)) * A / N  (+ entropy_coef * p (log p + H) / N)",
                     what=f"gradient w.r.t. logits (batch {list(lead)}, baseline {kind}, normalize={norm}, "
                     f"entropy_coef={coef})")


@check("torch.autograd.gradcheck passes on the loss in float64 (all options on)")
def gradcheck(run):
    logits, actions, returns, baseline, _ = random_batch(60, (3, 4), 3, dtype=torch.float64)
    got = run(gradcheck_loss, logits, actions, returns, baseline)
    expect_close(got["loss"], oracle_loss(logits, actions, returns, baseline, True, 0.3), RULE_LOSS,
                 what="loss (float64, normalize_advantages=True, entropy_coef=0.3)")
    ok = got["ok"]
    expect(ok is True, "the loss is a smooth function of the logits: its autograd gradient matches finite "
           "differences (gradcheck, float64)", f"gradcheck: {ok}")


@check("returns and baseline are constants: no gradient reaches them (a value head is not trained by this loss)")
def baseline_detached(run):
    logits, actions, returns, baseline, _ = random_batch(70, (6,), 3)
    for norm in (False, True):
        got = run(V.loss_and_grads, logits, actions, returns, baseline, norm, 0.0, 1e-8, True)
        expect_close(got["loss"], oracle_loss(logits, actions, returns, baseline, norm), RULE_LOSS,
                     what=f"loss (normalize_advantages={norm})")
        for name in ("baseline", "returns"):
            grad = got[f"{name}_grad"]
            expect(grad is None, f"detach the {name} inside the loss: backpropagating the policy loss must leave "
                   f"{name}.grad None (normalize_advantages={norm})",
                   f"{name}.grad after loss.backward(): {grad.tolist() if isinstance(grad, torch.Tensor) else grad}")


@check("normalised advantages: shift-invariant, and a single step gives advantage 0 (finite loss)")
def normalization_edges(run):
    logits, actions, returns, _, _ = random_batch(80, (7,), 3)
    a = run(V.loss_and_grads, logits, actions, returns, None, True)
    b = run(V.loss_and_grads, logits, actions, returns, 100.0, True)
    expect_close(b["loss"], a["loss"], "normalising the advantages removes any constant baseline: the loss with "
                 "baseline 100 equals the loss without", what="loss with baseline 100 (normalized)")
    got = run(V.loss_and_grads, logits[:1], actions[:1], returns[:1], None, True, 0.1)
    want = oracle_loss(logits[:1], actions[:1], returns[:1], None, True, 0.1)
    expect_close(got["loss"], want.float(), "with a single step the normalised advantage is 0 (std of one entry "
                 "is defined as 0 here, not NaN): only the entropy term remains", what="loss (one step, normalized)")


@check("float64 logits give a float64 loss; huge and -inf logits give a finite loss and gradient")
def dtype_and_stability(run):
    logits, actions, returns, baseline, _ = random_batch(90, (5,), 4, dtype=torch.float64)
    got = run(V.loss_and_grads, logits, actions, returns, baseline, True, 0.1)
    expect_tensor(got["loss"], "the loss has the logits' dtype (float64 here) and is 0-dim", shape=(),
                  dtype=torch.float64)
    expect_close(got["loss"], oracle_loss(logits, actions, returns, baseline, True, 0.1), "loss = -mean(log pi * A) - entropy_coef * mean(H), computed in float64",
                 rtol=1e-10, atol=1e-12, what="loss (float64)")
    logits = torch.tensor([[1e4, 0.0, NEG_INF], [NEG_INF, -3e3, 3e3], [0.0, 0.0, 0.0]])
    actions, returns = torch.tensor([1, 2, 0]), torch.tensor([1.0, 2.0, -1.0])
    got = run(V.loss_and_grads, logits, actions, returns, 0.5, False, 0.01)
    loss, grad = got["loss"], got["grad"]
    expect(isinstance(loss, torch.Tensor) and bool(torch.isfinite(loss).all()) and isinstance(grad, torch.Tensor)
           and bool(torch.isfinite(grad).all()), "huge and -inf logits give a finite loss and a finite gradient",
           f"loss {loss}, gradient {grad.tolist() if isinstance(grad, torch.Tensor) else grad}")
    expect_close(loss, oracle_loss(logits, actions, returns, 0.5, False, 0.01).float(),
                 "loss with extreme logits", what="loss (extreme logits)")


# --------------------------------------------------------------------------------------------
# statistics: the policy gradient on a bandit
# --------------------------------------------------------------------------------------------

THETA = torch.tensor([0.5, -0.2, 1.0, 0.0], dtype=torch.float64)
MEAN_REWARD = torch.tensor([6.0, 8.0, 4.0, 7.0], dtype=torch.float64)


def bandit_batch(seed, n):
    g = torch.Generator().manual_seed(seed)
    p = torch.softmax(THETA, 0)
    actions = torch.multinomial(p, n, replacement=True, generator=g)
    returns = MEAN_REWARD[actions] + torch.randn(n, generator=g, dtype=torch.float64)
    return actions, returns


def true_gradient():
    """grad_theta J with J = sum_a pi(a) r(a):  pi * (r - J)."""
    p = torch.softmax(THETA, 0)
    return p * (MEAN_REWARD - (p * MEAN_REWARD).sum())


@check("on a 4-armed bandit the sampled gradient is unbiased with and without a constant baseline, "
       "and a good baseline lowers its variance", points=2)
def unbiased_with_baseline(run):
    n = 4000
    actions, returns = bandit_batch(7, n)
    want = true_gradient()
    spread = {}
    for name, b in (("no baseline", None), ("baseline 5", torch.full((n,), 5.0, dtype=torch.float64)),
                    ("baseline J", torch.full((n,), float((torch.softmax(THETA, 0) * MEAN_REWARD).sum()),
                                              dtype=torch.float64))):
        grad = run(per_sample_gradients, THETA, actions, returns, b)
        grad = expect_tensor(grad, "the loss is differentiable w.r.t. logits", shape=(n, 4))
        samples = -n * grad.double()                                  # (n, 4) one ascent direction per step
        est, sd = samples.mean(0), samples.std(0)
        se = sd / math.sqrt(n)
        spread[name] = float(sd.pow(2).sum())
        worst = int(((est - want).abs() / se).argmax())
        expect(bool(((est - want).abs() <= Z_STRICT * se + 1e-9).all()),
               "minimising the loss follows the policy gradient: -n * d loss / d logits_i averages to grad J = "
               "E[grad log pi(a) (G - b)] (a constant baseline changes nothing in expectation)",
               f"{name}: component {worst} of the mean gradient is {float(est[worst]):.4f}, grad J is "
               f"{float(want[worst]):.4f} (a correct loss lands within {Z_STRICT * float(se[worst]):.4f} of it, "
               f"{Z_STRICT} standard errors over {n} samples)")
    expect(spread["baseline J"] < 0.5 * spread["no baseline"],
           "subtracting the baseline from the returns reduces the variance of the gradient samples",
           f"total variance of the per-step gradients: {spread['no baseline']:.3f} without a baseline, "
           f"{spread['baseline J']:.3f} with b = J")
