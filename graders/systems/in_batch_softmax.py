"""Hidden graders of systems/in_batch_softmax: logits and losses against a float64 oracle built on
F.cross_entropy (rows, and columns for the symmetric loss), the logQ correction and accidental-hit
mask, gradients of both towers, and the stability tier (temperature 1e-3, huge embeddings, a zero
vector under normalisation)."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, describe, expect, expect_close, expect_tensor, probe, visible_module

V = visible_module("systems/in_batch_softmax")


@probe
def raises(sub, query, item, **kw):
    """Which exception ``in_batch_softmax_loss`` raises, if any (NotImplementedError propagates)."""
    try:
        sub.in_batch_softmax_loss(query, item, **kw)
    except NotImplementedError:
        raise
    except Exception as e:  # noqa: BLE001 - reported to the check
        return {"raised": type(e).__name__, "message": str(e)[:200]}
    return {"raised": None, "message": ""}


@probe
def logits_and_inputs(sub, query, item, temperature, **kw):
    out = sub.in_batch_logits(query, item, temperature, **kw)
    return {"logits": out, "query_after": query, "item_after": item}


# ---------------------------------------------------------------- oracle (float64, F.cross_entropy)

def oracle_logits(q, d, temperature=1.0, *, normalize=False, sampling_prob=None, item_ids=None):
    q, d = q.double(), d.double()
    if normalize:
        q, d = F.normalize(q, dim=-1), F.normalize(d, dim=-1)
    logits = q @ d.T / temperature
    if sampling_prob is not None:
        logits = logits - sampling_prob.double().log()[None, :]
    if item_ids is not None:
        hit = (item_ids[:, None] == item_ids[None, :]) & ~torch.eye(len(item_ids), dtype=torch.bool)
        logits = logits.masked_fill(hit, float("-inf"))
    return logits


def oracle_loss(q, d, temperature=1.0, *, symmetric=False, **kw):
    logits = oracle_logits(q, d, temperature, **kw)
    labels = torch.arange(logits.shape[0])
    loss = F.cross_entropy(logits, labels)
    return (loss + F.cross_entropy(logits.T, labels)) / 2 if symmetric else loss


def oracle_grads(q, d, temperature=1.0, **kw):
    q = q.double().clone().requires_grad_(True)
    d = d.double().clone().requires_grad_(True)
    oracle_loss(q, d, temperature, **kw).backward()
    return {"query": q.grad, "item": d.grad}


def towers(seed, B, D=8, dtype=torch.float32, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(B, D, generator=g, dtype=dtype) * scale
    d = (q + torch.randn(B, D, generator=g, dtype=dtype) * scale) / 2     # positives are similar
    p = torch.rand(B, generator=g, dtype=dtype) * 0.2 + 1e-4              # sampling probabilities
    return q, d, p


def scalar(got, rule, what):
    loss = got["loss"]
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        raise Fail(rule, f"{what}: expected a 0-dim tensor, your code returned {describe(loss)}")
    return loss


LOSS_RULE = "return the mean over the batch as a 0-dim tensor"
CASES = [(0, 4, 1.0, False), (1, 16, 0.07, True), (2, 9, 0.5, False), (3, 32, 0.05, True), (4, 1, 0.1, True)]


@check("the logit matrix agrees with the oracle on random batches (with and without normalisation)", points=2)
def logits_random(run):
    for seed, B, tau, norm in CASES:
        q, d, _ = towers(seed, B)
        got = run(V.logits, q, d, tau, normalize=norm)
        expect_tensor(got, "in_batch_logits returns a (B, B) tensor", shape=(B, B))
        expect_close(got, oracle_logits(q, d, tau, normalize=norm),
                     "logits = query @ item.T / temperature; normalize=True divides every row of BOTH towers by "
                     "its L2 norm first", what=f"logits (B={B}, temperature {tau}, normalize={norm})")


@check("the loss agrees with F.cross_entropy(logits, arange(B)) on random batches", points=2)
def loss_random(run):
    for seed, B, tau, norm in CASES:
        q, d, _ = towers(seed + 10, B)
        got = scalar(run(V.loss, q, d, tau, normalize=norm), LOSS_RULE, f"loss (B={B})")
        expect_close(got, oracle_loss(q, d, tau, normalize=norm), "loss = mean over rows i of "
                     "logsumexp_j logits[i, j] - logits[i, i] (cross-entropy with the diagonal as targets)",
                     what=f"loss (B={B}, temperature {tau}, normalize={norm})")


@check("symmetric=True agrees with CLIP's (CE over rows + CE over columns) / 2 on random batches", points=2)
def symmetric_random(run):
    for seed, B, tau, norm in CASES:
        q, d, _ = towers(seed + 20, B)
        got = scalar(run(V.loss, q, d, tau, normalize=norm, symmetric=True), LOSS_RULE, f"symmetric loss (B={B})")
        expect_close(got, oracle_loss(q, d, tau, normalize=norm, symmetric=True), "the symmetric loss averages "
                     "the row (query->item) and column (item->query) cross-entropies: (CE(L) + CE(L^T)) / 2",
                     what=f"symmetric loss (B={B}, temperature {tau}, normalize={norm})")


@check("the logQ-corrected loss subtracts log p_j from column j after the temperature, diagonal included",
       points=2)
def logq_random(run):
    for seed, B, tau, norm in CASES:
        q, d, p = towers(seed + 30, B)
        rule = ("with sampling_prob, logits[i, j] = <q_i, d_j> / temperature - log(sampling_prob[j]) for every "
                "entry, the positive on the diagonal included")
        expect_close(run(V.logits, q, d, tau, normalize=norm, sampling_prob=p),
                     oracle_logits(q, d, tau, normalize=norm, sampling_prob=p), rule,
                     what=f"corrected logits (B={B}, temperature {tau})")
        got = scalar(run(V.loss, q, d, tau, normalize=norm, sampling_prob=p), LOSS_RULE, f"loss (B={B})")
        expect_close(got, oracle_loss(q, d, tau, normalize=norm, sampling_prob=p), rule,
                     what=f"logQ-corrected loss (B={B}, temperature {tau})")


@check("accidental hits: a repeated item is -inf off the diagonal (never on it), and the loss skips it")
def accidental_hits(run):
    q, d, _ = towers(40, 6)
    ids = torch.tensor([7, 3, 7, 5, 3, 7])
    d[2], d[5], d[4] = d[0], d[0], d[1]                                      # same item, same embedding
    rule = ("where item_ids[i] == item_ids[j] and i != j the logit is -inf (a copy of the positive is not a "
            "negative); the diagonal keeps its value")
    expect_close(run(V.logits, q, d, 0.2, item_ids=ids), oracle_logits(q, d, 0.2, item_ids=ids), rule,
                 what="logits with item_ids [7, 3, 7, 5, 3, 7]")
    for sym in (False, True):
        got = scalar(run(V.loss, q, d, 0.2, symmetric=sym, item_ids=ids), LOSS_RULE, "loss with item_ids")
        expect_close(got, oracle_loss(q, d, 0.2, symmetric=sym, item_ids=ids), rule,
                     what=f"loss with repeated items (symmetric={sym})")


@check("gradients w.r.t. both towers agree with autograd through the oracle (float64)", points=2)
def gradients(run):
    settings = [dict(), dict(normalize=True), dict(symmetric=True, normalize=True),
                dict(sampling_prob="p"), dict(item_ids=torch.tensor([0, 1, 0, 2, 3]))]
    for i, kw in enumerate(settings):
        q, d, p = towers(50 + i, 5, dtype=torch.float64)
        kw = {k: (p if v == "p" else v) for k, v in kw.items()}
        got = run(V.loss, q, d, 0.3, **kw)
        want = oracle_grads(q, d, 0.3, **kw)
        shown = ", ".join(k for k in kw) or "defaults"
        for tower in ("query", "item"):
            if got["grads"][tower] is None:
                raise Fail("the loss must be differentiable w.r.t. query and item (no .detach(), .item() or "
                           "in-place writes on tensors autograd needs)",
                           f"after loss.backward() the {tower} tensor has no gradient ({shown})")
            expect_close(got["grads"][tower], want[tower], "the gradient of the loss flows through the logits "
                         "(and the normalisation) to both towers", rtol=1e-7, atol=1e-10,
                         what=f"d loss / d {tower} ({shown})")


@check("stable at temperature 1e-3 with normalised float32 embeddings (logits near +-1000)")
def small_temperature(run):
    for sym in (False, True):
        q, d, _ = towers(60, 12)
        got = scalar(run(V.loss, q, d, 1e-3, normalize=True, symmetric=sym), LOSS_RULE, "loss")
        want = oracle_loss(q, d, 1e-3, normalize=True, symmetric=sym)
        rule = ("at small temperatures exp(logits) overflows: compute logsumexp stably (torch.logsumexp, or "
                "subtract the row max before exp)")
        expect(bool(torch.isfinite(got)), rule, f"loss (temperature 1e-3, symmetric={sym}) is {got.item()}")
        expect_close(got, want, rule, rtol=1e-4, atol=1e-3, what=f"loss (temperature 1e-3, symmetric={sym})")


@check("stable for huge unnormalised embeddings (norms around 300, temperature 0.05) and a logQ correction")
def huge_embeddings(run):
    q, d, p = towers(61, 10, scale=100.0)
    got = scalar(run(V.loss, q, d, 0.05, sampling_prob=p), LOSS_RULE, "loss")
    want = oracle_loss(q, d, 0.05, sampling_prob=p)
    rule = "logits in the hundreds of thousands still give a finite loss: use a stable log-sum-exp"
    expect(bool(torch.isfinite(got)), rule, f"loss is {got.item()}")
    expect_close(got, want, rule, rtol=1e-4, atol=1e-2, what="loss with huge embeddings")


@check("normalize=True with an all-zero embedding stays finite (divide by max(norm, 1e-12), as F.normalize)")
def zero_vector(run):
    q, d, _ = towers(62, 4)
    q[1] = 0.0
    d[3] = 0.0
    got = run(V.logits, q, d, 0.1, normalize=True)
    rule = "normalise x / max(||x||, 1e-12): a zero vector stays zero, its logits are 0, never NaN"
    expect_tensor(got, "in_batch_logits returns a (B, B) tensor", shape=(4, 4))
    expect(bool(torch.isfinite(got).all()), rule, f"logits with a zero query and a zero item: {got.tolist()}")
    expect_close(got, oracle_logits(q, d, 0.1, normalize=True), rule, what="logits with zero vectors")
    loss = scalar(run(V.loss, q, d, 0.1, normalize=True), LOSS_RULE, "loss")
    expect_close(loss, oracle_loss(q, d, 0.1, normalize=True), rule, what="loss with zero vectors")


@check("symmetric=True together with sampling_prob raises ValueError")
def symmetric_logq_raises(run):
    q, d, p = towers(63, 3)
    got = run(raises, q, d, temperature=0.1, symmetric=True, sampling_prob=p)
    expect(got["raised"] == "ValueError", "the logQ correction is defined for the query->item direction only: "
           "symmetric=True with sampling_prob raises ValueError",
           f"your code raised {got['raised']}: {got['message']}" if got["raised"] else "your code raised nothing")


@check("float64 in, float64 out; a batch of one has loss 0; query and item are not modified")
def dtype_and_inputs(run):
    q, d, p = towers(64, 5, dtype=torch.float64)
    got = run(logits_and_inputs, q, d, 0.2, normalize=True, sampling_prob=p)
    expect_tensor(got["logits"], "logits keep the inputs' dtype (float64 here)", dtype=torch.float64)
    expect_close(got["logits"], oracle_logits(q, d, 0.2, normalize=True, sampling_prob=p),
                 "logits = cos(q_i, d_j) / temperature - log(sampling_prob_j)", rtol=1e-10, atol=1e-12,
                 what="logits (float64)")
    expect_close(got["query_after"], q, "in_batch_logits must not modify query (normalise out of place)",
                 rtol=0, atol=0, what="query afterwards")
    expect_close(got["item_after"], d, "in_batch_logits must not modify item (normalise out of place)",
                 rtol=0, atol=0, what="item afterwards")
    loss = scalar(run(V.loss, q, d, 0.2, normalize=True, symmetric=True), LOSS_RULE, "loss")
    expect_close(loss, oracle_loss(q, d, 0.2, normalize=True, symmetric=True), "the symmetric in-batch softmax loss",
                 rtol=1e-10, atol=1e-12, what="loss (float64)")
    expect(loss.dtype == torch.float64, "the loss keeps the inputs' dtype (float64 here)", f"got {loss.dtype}")
    one = scalar(run(V.loss, q[:1], d[:1], 0.2), LOSS_RULE, "loss of a batch of one")
    expect_close(one, 0.0, "with B = 1 the only logit is the positive: the loss is log(1) = 0",
                 what="loss of a batch of one")
