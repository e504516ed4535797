"""Hidden graders of nlp/causal_lm_loss: agreement with torch.nn.functional.cross_entropy on the
shifted logits and labels (what transformers' ForCausalLMLoss computes --
tests/test_twins_nlp_causal_lm_loss.py shows the two agree with a GPT-2's own loss) on random
batches, -100 labels, attention masks on either side, other ignore_index values, the batch-wide
mean, dtypes (float16/bfloat16 upcast), huge and -inf logits, gradients, and untouched inputs."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, visible_module

V = visible_module("nlp/causal_lm_loss")


# --------------------------------------------------------------------------------------------
# The oracle: F.cross_entropy on the shifted, flattened batch (float64 unless told otherwise)
# --------------------------------------------------------------------------------------------

def oracle(logits, labels, attention_mask=None, ignore_index=-100, dtype=torch.float64):
    targets = labels[:, 1:].clone()                                   # (B, T-1)
    if attention_mask is not None:
        targets[attention_mask[:, 1:] == 0] = ignore_index
    x = logits[:, :-1].to(dtype)                                      # (B, T-1, V)
    return F.cross_entropy(x.reshape(-1, x.size(-1)), targets.reshape(-1), ignore_index=ignore_index)


def oracle_grad(logits, labels, attention_mask=None, ignore_index=-100):
    x = logits.detach().double().requires_grad_(True)
    oracle(x, labels, attention_mask, ignore_index).backward()
    return x.grad


def batch(seed, B=None, T=None, vocab=None, scale=3.0, p_ignore=0.0, dtype=torch.float32):
    """Random (logits, labels); about p_ignore of the labels (never all of a row's targets) are -100."""
    g = torch.Generator().manual_seed(seed)
    B = B or int(torch.randint(1, 6, (), generator=g))
    T = T or int(torch.randint(2, 12, (), generator=g))
    vocab = vocab or int(torch.randint(2, 40, (), generator=g))
    logits = (torch.randn(B, T, vocab, generator=g, dtype=torch.float64) * scale).to(dtype)
    labels = torch.randint(vocab, (B, T), generator=g)
    if p_ignore:
        drop = torch.rand(B, T, generator=g) < p_ignore
        drop[:, 1] = False                                             # every row keeps a target
        labels[drop] = -100
    return logits, labels


def padded(seed, side, B=5, T=10, vocab=23, pad_id=0):
    """(logits, input_ids, attention_mask): sequences of random lengths >= 2 padded with pad_id."""
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(B, T, vocab, generator=g) * 2
    ids = torch.randint(1, vocab, (B, T), generator=g)
    lengths = torch.randint(2, T + 1, (B,), generator=g)
    lengths[0] = T                                                     # one row without padding
    pos = torch.arange(T)
    real = pos[None, :] < lengths[:, None] if side == "right" else pos[None, :] >= (T - lengths)[:, None]
    ids[~real] = pad_id
    return logits, ids, real.long()


def expect_loss(got, want, rule, what, rtol=1e-5, atol=1e-6):
    out = V.scalar(got, what)
    expect_close(out.item(), float(want), rule, rtol=rtol, atol=atol, what=what)
    return out


# --------------------------------------------------------------------------------------------
# Agreement
# --------------------------------------------------------------------------------------------

@check("agrees with F.cross_entropy on the shifted logits and labels for random batches", points=2)
def agrees_random(run):
    cases = [batch(seed) for seed in range(12)]
    got = run(V.losses, [(x, y, None, None) for x, y in cases])
    for k, ((x, y), r) in enumerate(zip(cases, got)):
        expect_loss(r, oracle(x, y), "loss = mean over t of -log_softmax(logits[:, t])[labels[:, t + 1]]",
                    f"loss of random batch {k} (B={x.size(0)}, T={x.size(1)}, V={x.size(2)})")


@check("agrees with F.cross_entropy(ignore_index=-100) when random labels are -100", points=2)
def agrees_with_ignored(run):
    cases = [batch(100 + seed, p_ignore=0.4) for seed in range(12)]
    got = run(V.losses, [(x, y, None, None) for x, y in cases])
    for k, ((x, y), r) in enumerate(zip(cases, got)):
        n = int((y[:, 1:] != -100).sum())
        expect_loss(r, oracle(x, y), f"targets labelled -100 are skipped and the mean divides by the number of "
                    f"counted targets ({n} of {y[:, 1:].numel()} here)",
                    f"loss of random batch {k} with -100 labels (B={x.size(0)}, T={x.size(1)})")


@check("attention_mask: right- and left-padded batches, int or bool masks, equal the -100 labelling", points=2)
def attention_mask_sides(run):
    cases, names = [], []
    for k, side in enumerate(("right", "left", "right", "left")):
        x, ids, mask = padded(200 + k, side)
        cases.append((x, ids, mask if k < 2 else mask.bool(), None))
        names.append(f"{side}-padded batch, {'int' if k < 2 else 'bool'} attention_mask")
    got = run(V.losses, cases)
    for (x, ids, mask, _), name, r in zip(cases, names, got):
        expect_loss(r, oracle(x, ids, mask), "a target whose attention_mask entry is 0 does not count -- use the "
                    "mask of the TARGET position (attention_mask[:, 1:]), whichever side the padding is on", name)


@check("attention_mask and -100 labels together; ignore_index other than -100")
def mask_and_ignore_index(run):
    x, ids, mask = padded(210, "right")
    labels = ids.clone()
    labels[:, 3] = -100
    x2, ids2, mask2 = padded(211, "left")
    cases = [(x, labels, mask, None), (x2, ids2, None, 0), (x2, ids2.masked_fill(ids2 == 5, -1), mask2, -1)]
    rules = ["a target counts only when its label is not ignore_index AND its attention_mask is 1",
             "ignore_index=0 makes the padding id 0 the ignored label (use the argument, not a hard-coded -100)",
             "ignore_index=-1: labels equal to -1 are skipped, and the attention mask still applies"]
    for (xi, yi, mi, ii), rule in zip(cases, rules):
        r = run(V.loss, xi, yi, mi, ii)
        expect_loss(r, oracle(xi, yi, mi, -100 if ii is None else ii), rule,
                    f"loss (ignore_index={-100 if ii is None else ii}, attention_mask "
                    f"{'given' if mi is not None else 'None'})")


@check("each counted token weighs the same: batches mixing long and short sequences")
def token_weighted_mean(run):
    x, ids, mask = padded(220, "right", B=6, T=16)
    mask[1:, 3:] = 0                                     # one long row, five with only 2 targets each
    ids[mask == 0] = 0
    got = run(V.loss, x, ids, mask)
    expect_loss(got, oracle(x, ids, mask), "divide the total over the batch by the number of counted targets "
                "(not B * (T - 1), not the mean of per-sequence means)", "loss of 1 long + 5 short sequences")


@check("edge cases: T = 2 (a single target per row), batch size 1, a vocabulary of 1")
def small_edges(run):
    g = torch.Generator().manual_seed(230)
    cases = [(torch.randn(3, 2, 7, generator=g), torch.randint(7, (3, 2), generator=g), None, None),
             (torch.randn(1, 9, 5, generator=g), torch.randint(5, (1, 9), generator=g), None, None),
             (torch.randn(2, 4, 1, generator=g), torch.zeros(2, 4, dtype=torch.long), None, None)]
    names = ["T = 2", "B = 1", "V = 1 (every loss is 0)"]
    for (x, y, _, _), name, r in zip(cases, names, run(V.losses, cases)):
        expect_loss(r, oracle(x, y), "the shift leaves T - 1 targets per row; it works for any B >= 1, T >= 2, "
                    "V >= 1", f"loss ({name}, shape {list(x.shape)})")


# --------------------------------------------------------------------------------------------
# Dtypes and stability
# --------------------------------------------------------------------------------------------

@check("float64 logits give a float64 loss, float32 a float32 one")
def float_dtypes(run):
    for dtype, rtol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
        x, y = batch(240, B=3, T=7, vocab=11, p_ignore=0.2, dtype=dtype)
        out = expect_loss(run(V.loss, x, y), oracle(x, y), f"compute in the logits' precision ({dtype})",
                          f"loss ({dtype})", rtol=rtol, atol=0.0)
        expect(out.dtype == dtype, f"the loss of {dtype} logits is {dtype}", f"your loss has dtype {out.dtype}")


@check("float16 / bfloat16 logits are upcast: the loss is float32 and as accurate as the float32 computation")
def half_precision_upcast(run):
    for dtype in (torch.bfloat16, torch.float16):
        x, y = batch(250, B=4, T=16, vocab=300, scale=4.0, p_ignore=0.1, dtype=dtype)
        want = oracle(x.float(), y, dtype=torch.float32)
        got = run(V.loss, x, y)
        out = V.scalar(got, f"loss of {dtype} logits")
        rule = (f"upcast {dtype} logits to float32 before the log-softmax (as transformers does): a softmax "
                f"summed in {dtype} loses about 3 significant digits")
        expect(out.dtype == torch.float32, rule, f"your loss has dtype {out.dtype}, expected torch.float32")
        expect_close(out.item(), float(want), rule, rtol=1e-5, atol=1e-6, what=f"loss of {dtype} logits")


@check("huge logits (around +-1e4) give the right, finite loss", points=2)
def huge_logits(run):
    x, y = batch(260, B=3, T=8, vocab=17, scale=1.0, p_ignore=0.2)
    cases = [(x * 1e4, y, None, None), ((x * 1e4).double(), y, None, None), (x + 3e4, y, None, None)]
    names = ["logits * 1e4 (float32)", "logits * 1e4 (float64)", "logits + 3e4 (float32)"]
    rule = ("use a stable log-softmax (torch.log_softmax, or subtract the row maximum / use logsumexp): "
            "exp(1e4) overflows to inf and inf / inf is nan")
    for (xi, yi, _, _), name, r in zip(cases, names, run(V.losses, cases)):
        out = V.scalar(r, name)
        if not torch.isfinite(out):
            raise Fail(rule, f"{name}: your loss is {out.item()}")
        expect_close(out.item(), float(oracle(xi, yi)), rule, rtol=1e-5, atol=1e-3, what=f"loss ({name})")


@check("-inf logits (banned vocabulary entries) at ignored positions and non-target tokens keep the loss finite")
def neg_inf_logits(run):
    x, y = batch(270, B=3, T=9, vocab=12, p_ignore=0.3)
    x[..., 0] = float("-inf")                            # token 0 is banned everywhere ...
    y[y == 0] = 1                                        # ... and never a target
    x2, ids, mask = padded(271, "right", vocab=12)
    x2[..., 0] = float("-inf")                           # padding id 0 banned; padded targets masked out
    rule = ("an entry of -inf has probability 0: terms at ignored positions must be dropped (torch.where), "
            "not multiplied by a 0/1 mask -- -inf * 0 is nan")
    for (xi, yi, mi), name, r in zip(((x, y, None), (x2, ids, mask)), ("-100 labels", "attention_mask"),
                                     run(V.losses, [(x, y, None, None), (x2, ids, mask, None)])):
        out = V.scalar(r, f"loss with -inf logits for token 0 ({name})")
        if not torch.isfinite(out):
            raise Fail(rule, f"logits -inf for token 0, ignored targets via {name}: your loss is {out.item()}")
        expect_close(out.item(), float(oracle(xi, yi, mi)), rule, what=f"loss with -inf logits for token 0 ({name})")


# --------------------------------------------------------------------------------------------
# Gradients and side effects
# --------------------------------------------------------------------------------------------

@check("d loss / d logits agrees with autograd through F.cross_entropy (ignored and last positions get 0)",
       points=2)
def gradients(run):
    x, y = batch(280, B=3, T=8, vocab=9, p_ignore=0.3)
    x2, ids, mask = padded(281, "left", B=3, T=7, vocab=9)
    for xi, yi, mi, name in ((x, y, None, "-100 labels"), (x2, ids, mask, "left padding + attention_mask")):
        got = run(V.loss, xi, yi, mi, grad=True)
        V.scalar(got, f"loss ({name})")
        expect(got["grad"] is not None, "the loss must be differentiable with respect to logits (torch operations "
               "only: no .item(), .detach(), .tolist() or numpy)", f"{name}: backward() gave logits no gradient")
        expect_close(got["grad"], oracle_grad(xi, yi, mi).float(), "d loss / d logits[b, t] = (softmax - one_hot("
                     "target)) / count for counted targets, 0 for ignored positions and for the last position",
                     rtol=1e-4, atol=1e-6, what=f"d loss / d logits ({name})")


@check("float64 finite differences agree with the gradient autograd computes (a gradcheck)")
def finite_differences(run):
    x, y = batch(290, B=2, T=6, vocab=7, p_ignore=0.3, dtype=torch.float64)
    g = torch.Generator().manual_seed(291)
    directions = [torch.randn(x.shape, generator=g, dtype=torch.float64) for _ in range(4)]
    got = run(V.finite_differences, x, y, directions)
    rule = ("the loss is differentiable with respect to logits and its autograd gradient is the true one "
            "(build it from torch operations; no detach, no custom backward that disagrees)")
    expect(None not in got["autograd"], rule, "the loss of float64 logits has no gradient")
    expect_close(got["autograd"], got["numeric"], rule, rtol=1e-5, atol=1e-7,
                 what="directional derivatives <grad, v>: autograd vs central differences")


@check("logits, labels and attention_mask are left unchanged")
def inputs_unchanged(run):
    x, ids, mask = padded(300, "right")
    labels = ids.clone()
    labels[:, 2] = -100
    got = run(V.loss, x, labels, mask)
    expect_close(V.scalar(got, "loss"), oracle(x, labels, mask),
                 "the mean cross-entropy of next-token predictions over positions that count", what="loss")
    rule = ("causal_lm_loss must not modify its inputs: build new tensors (masked_fill, torch.where, slicing "
            "followed by clone) instead of writing into labels or logits")
    expect(torch.equal(got["labels_after"], labels), rule, "labels changed during the call: "
           f"{int((got['labels_after'] != labels).sum())} entries differ")
    expect(torch.equal(got["logits_after"], x), rule, "logits changed during the call")
    expect(torch.equal(got["mask_after"], mask), rule, "attention_mask changed during the call")
