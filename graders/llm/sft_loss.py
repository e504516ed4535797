"""Hidden graders of llm/sft_loss: the labels against a position-by-position oracle on random
batches padded on either side (prompt lengths from 0 to the whole sequence, other ignore_index
values), the loss against torch.nn.functional.cross_entropy on the shifted batch for both
normalisations (tests/test_twins_llm_sft_loss.py checks both oracles against TRL's SFT label
building and transformers' causal-LM loss), dtypes, gradients, huge logits and the error for an
unknown normalisation."""
import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, expect_tensor, probe, visible_module

V = visible_module("llm/sft_loss")


# --------------------------------------------------------------------------------------------
# Oracles
# --------------------------------------------------------------------------------------------

def oracle_labels(input_ids, prompt_lengths, attention_mask, ignore_index=-100):
    """Row by row: the real positions, in order; the ones after the first prompt_lengths[b] keep their id."""
    out = torch.full_like(input_ids, ignore_index)
    for b in range(input_ids.shape[0]):
        real = torch.nonzero(attention_mask[b]).flatten().tolist()
        for t in real[int(prompt_lengths[b]):]:
            out[b, t] = input_ids[b, t]
    return out


def token_losses(logits, labels, ignore_index=-100):
    """(B, T-1) float64: each shifted target's cross-entropy (0 where ignored), and the counted mask."""
    x = logits[:, :-1].double()
    targets = labels[:, 1:]
    per = F.cross_entropy(x.reshape(-1, x.size(-1)), targets.reshape(-1), ignore_index=ignore_index,
                          reduction="none").reshape(targets.shape)
    return per, targets != ignore_index


def oracle_loss(logits, labels, normalize="tokens", ignore_index=-100):
    per, counted = token_losses(logits, labels, ignore_index)
    if normalize == "tokens":
        return per.sum() / counted.sum()
    rows = [per[b].sum() / counted[b].sum() for b in range(per.shape[0]) if counted[b].any()]
    return torch.stack(rows).mean()


def oracle_grad(logits, labels, normalize="tokens", ignore_index=-100):
    x = logits.detach().double().requires_grad_(True)
    oracle_loss(x, labels, normalize, ignore_index).backward()
    return x.grad


def sft_batch(seed, side, B=5, T=12, vocab=17, pad_id=0):
    """(input_ids, prompt_lengths, attention_mask): random lengths >= 2, padded on ``side`` ('mixed':
    each row either way); prompt lengths from 0 to the row's length, row 0 unpadded."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, vocab, (B, T), generator=g)
    lengths = torch.randint(2, T + 1, (B,), generator=g)
    lengths[0] = T
    left = torch.rand(B, generator=g) < 0.5 if side == "mixed" else torch.full((B,), side == "left")
    pos = torch.arange(T)[None, :]
    real = torch.where(left[:, None], pos >= (T - lengths)[:, None], pos < lengths[:, None])
    ids[~real] = pad_id
    prompt = (torch.rand(B, generator=g) * lengths).long()
    prompt[-1] = 0                                                   # a row that is all response
    return ids, prompt, real.long()


def loss_batch(seed, side="mixed", B=5, T=12, vocab=17, scale=3.0, dtype=torch.float32):
    """(logits, labels) for the loss checks, labels built by the oracle; every batch has a target."""
    ids, prompt, mask = sft_batch(seed, side, B, T, vocab)
    prompt[0] = 1                                                    # row 0 keeps targets
    g = torch.Generator().manual_seed(seed + 7)
    logits = (torch.randn(B, T, vocab, generator=g, dtype=torch.float64) * scale).to(dtype)
    return logits, oracle_labels(ids, prompt, mask)


def the_loss(got, what):
    return V.scalar(got, what)


# --------------------------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------------------------

@check("completion_labels agrees with a position-by-position oracle on random batches, either padding side",
       points=2)
def labels_random(run):
    for seed, side in [(0, "right"), (1, "left"), (2, "mixed"), (3, "mixed"), (4, "left")]:
        ids, prompt, mask = sft_batch(seed, side)
        got = run(V.labels, ids, prompt, mask)["labels"]
        expect_equal(got, oracle_labels(ids, prompt, mask),
                     "a position keeps its id only if it is a real token (mask 1) after the row's first "
                     "prompt_lengths[b] real tokens; with left padding the count starts at the first real token",
                     what=f"labels ({side} padding, seed {seed}, prompt_lengths {prompt.tolist()})")


@check("completion_labels: int64 result, any ignore_index, boolean masks, and input_ids left unchanged")
def labels_contract(run):
    ids, prompt, mask = sft_batch(10, "mixed")
    got = run(V.labels, ids, prompt, mask.bool(), -1)
    expect_tensor(got["labels"], "completion_labels returns int64 labels of the input's shape", shape=tuple(ids.shape),
                  dtype=torch.int64)
    expect_equal(got["labels"], oracle_labels(ids, prompt, mask, -1), "positions that are no target get "
                 "ignore_index (-1 here), whatever it is; a bool attention_mask works like a 0/1 one",
                 what="labels with ignore_index=-1 and a bool mask")
    expect_equal(got["ids_after"], ids, "completion_labels must not modify input_ids (build a new tensor)",
                 what="input_ids after the call")


@check("a prompt as long as the row leaves no target in it; prompt length 0 makes every real token a target")
def labels_extremes(run):
    ids = torch.tensor([[0, 3, 4, 5], [6, 7, 8, 0], [2, 2, 2, 2]])
    mask = torch.tensor([[0, 1, 1, 1], [1, 1, 1, 0], [1, 1, 1, 1]])
    got = run(V.labels, ids, torch.tensor([3, 0, 4]), mask)["labels"]
    expect_equal(got, torch.tensor([[-100] * 4, [6, 7, 8, -100], [-100] * 4]),
                 "row 0 and row 2: the prompt covers every real token, so nothing is a target; row 1: prompt "
                 "length 0, every real token is a target, padding is not", what="labels")


# --------------------------------------------------------------------------------------------
# The loss
# --------------------------------------------------------------------------------------------

@check("normalize='tokens' agrees with F.cross_entropy over the shifted batch's counted targets", points=2)
def tokens_random(run):
    for seed in range(20, 25):
        logits, labels = loss_batch(seed)
        got = the_loss(run(V.loss, logits, labels), f"random batch, seed {seed}")
        expect_close(got, oracle_loss(logits, labels), "'tokens': the shifted token losses of every response "
                     "token in the batch, summed, divided by how many there are", rtol=1e-5, atol=1e-6,
                     what=f"loss (seed {seed}, {int((labels[:, 1:] != -100).sum())} targets)")


@check("normalize='sequences' agrees with the mean of per-sequence means (rows without a target left out)",
       points=2)
def sequences_random(run):
    for seed in range(30, 35):
        logits, labels = loss_batch(seed)
        labels[1] = -100                                             # a row with no target at all
        got = the_loss(run(V.loss, logits, labels, "sequences"), f"random batch, seed {seed}")
        expect(bool(torch.isfinite(got)), "'sequences' leaves out rows without a target (their own mean would be "
               "0/0 = nan)", f"seed {seed}, row 1 has no target: your loss is {got.item()}")
        expect_close(got, oracle_loss(logits, labels, "sequences"), "'sequences': each row's summed token loss / "
                     "that row's number of targets, then the mean over the rows that have targets",
                     rtol=1e-5, atol=1e-6, what=f"loss (seed {seed})")


@check("ignore_index other than -100 is honoured by the loss")
def loss_ignore_index(run):
    logits, labels = loss_batch(40)
    labels[labels == -100] = -1
    for normalize in ("tokens", "sequences"):
        got = the_loss(run(V.loss, logits, labels, normalize, -1), f"ignore_index=-1, normalize={normalize!r}")
        expect_close(got, oracle_loss(logits, labels, normalize, -1), "targets equal to ignore_index (-1 here) are "
                     "skipped", rtol=1e-5, atol=1e-6, what=f"loss ({normalize})")


@check("gradients w.r.t. the logits agree with the oracle's, for both normalisations (float64)", points=2)
def gradients(run):
    for seed, normalize in [(50, "tokens"), (51, "sequences"), (52, "sequences")]:
        logits, labels = loss_batch(seed, dtype=torch.float64)
        got = run(V.loss, logits, labels, normalize, grad=True)
        the_loss(got, f"seed {seed}")
        if got["grad"] is None:
            raise Fail("the loss must be differentiable w.r.t. the logits (stay in torch: no .item(), no numpy)",
                       f"normalize={normalize!r}: no gradient came back")
        expect_close(got["grad"], oracle_grad(logits, labels, normalize), "d loss / d logits: softmax - one_hot at "
                     "each counted target, scaled by 1 / (number of batch targets) for 'tokens' or by "
                     "1 / (rows with targets * that row's targets) for 'sequences'; zero on prompt and padding",
                     rtol=1e-7, atol=1e-10, what=f"d loss / d logits ({normalize}, seed {seed})")


@check("dtypes: float16 and bfloat16 logits give a float32 loss, float64 stays float64")
def dtypes(run):
    for dtype, out in [(torch.float16, torch.float32), (torch.bfloat16, torch.float32), (torch.float64, torch.float64)]:
        logits, labels = loss_batch(60, dtype=dtype)
        got = the_loss(run(V.loss, logits, labels), f"{dtype} logits")
        expect(got.dtype == out, "half-precision logits are upcast to float32 before the softmax; float64 stays "
               "float64", f"{dtype} logits: expected a {out} loss, your code produced {got.dtype}")
        expect_close(got, oracle_loss(logits.double(), labels), "the loss of the (upcast) logits",
                     rtol=1e-4, atol=1e-5, what=f"loss ({dtype})")


@check("stability: logits of +-1e4 give the exact finite loss")
def huge_logits(run):
    logits, labels = loss_batch(70, scale=1e4)
    for normalize in ("tokens", "sequences"):
        got = the_loss(run(V.loss, logits, labels, normalize), f"logits of size 1e4, {normalize}")
        expect(bool(torch.isfinite(got)), "use a stable log-softmax (torch.log_softmax or logsumexp): exp(1e4) "
               "overflows", f"normalize={normalize!r}: your loss is {got.item()}")
        expect_close(got, oracle_loss(logits, labels, normalize), "the loss of huge logits is their (large, "
                     "finite) cross-entropy", rtol=1e-5, what=f"loss ({normalize})")


@probe
def unknown_normalize(sub, logits, labels):
    """Whether sft_loss raises ValueError for normalize='mean' (plain data back)."""
    try:
        sub.sft_loss(logits, labels, normalize="mean")
    except ValueError:
        return "raised ValueError"
    return "returned a value"        # any other exception propagates: the engine reports it


@check("an unknown normalize raises ValueError")
def unknown(run):
    logits, labels = loss_batch(80)
    got = run(unknown_normalize, logits, labels)
    expect(got == "raised ValueError", "normalize must be 'tokens' or 'sequences'; anything else raises ValueError "
           "(a silent default would hide a typo)", f"normalize='mean': expected ValueError, your code {got}")
