"""Visible checks: perplexity on hand-sized batches, and the windows of the sliding evaluation.

``ToyCausalLM`` is the ``model`` of every sliding-window check: a small causal LM whose logits at
a window position depend on the window's tokens up to that position and on the position itself,
so a window that starts elsewhere gives other scores.  It refuses more than ``max_length`` tokens.
"""
import math

import torch

from mlkata.checks import Fail, check, expect_close, expect_tensor, probe


class ToyCausalLM:
    """``model(ids)`` for ids ``(1, L)``, ``1 <= L <= max_length``: float32 logits ``(1, L, vocab)``."""

    def __init__(self, vocab: int, max_length: int, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.vocab, self.max_length = vocab, max_length
        self.emb = torch.randn(vocab, vocab, generator=g, dtype=torch.float64) * 1.5
        self.ctx = torch.randn(vocab, vocab, generator=g, dtype=torch.float64)
        self.pos = torch.randn(max_length, vocab, generator=g, dtype=torch.float64) * 0.5

    def __call__(self, ids: torch.Tensor) -> torch.Tensor:
        if not isinstance(ids, torch.Tensor) or ids.dim() != 2 or ids.size(0) != 1 or ids.dtype != torch.int64:
            got = f"shape {list(ids.shape)} and dtype {ids.dtype}" if isinstance(ids, torch.Tensor) else type(ids).__name__
            raise ValueError(f"the model takes int64 ids of shape [1, L]; it was given {got}")
        L = ids.size(1)
        if not 1 <= L <= self.max_length:
            raise ValueError(f"the model was given {L} tokens; its context holds 1 to max_length={self.max_length}")
        x = ids[0]
        context = self.ctx[x].cumsum(0) / torch.arange(1, L + 1, dtype=torch.float64)[:, None]  # (L, V) causal mean
        return (self.emb[x] + context + self.pos[:L]).float()[None]                           # (1, L, V)


@probe
def ppl(sub, fn, logits, input_ids, attention_mask=None):
    """Call ``sequence_perplexities`` or ``corpus_perplexity``; report the output and the inputs after."""
    out = getattr(sub, fn)(logits, input_ids, attention_mask=attention_mask)
    return {"out": out, "inputs_after": [logits, input_ids, attention_mask]}


@probe
def ppl_many(sub, fn, cases):
    """``ppl`` for each ``(logits, input_ids, attention_mask)`` in ``cases``, each on its own copy."""
    return [ppl.fn(sub, fn, *[None if a is None else a.clone() for a in case]) for case in cases]


@probe
def sliding(sub, model, input_ids, max_length, stride):
    """Call ``sliding_window_perplexity``; report the value and every input the model was given."""
    windows = []

    def recorded(ids):
        if isinstance(ids, torch.Tensor):
            # a slice of input_ids shares its storage: the offset says where the window begins
            view = ids.untyped_storage().data_ptr() == input_ids.untyped_storage().data_ptr()
            windows.append({"tokens": ids.clone(), "offset": ids.storage_offset() if view else None})
        else:
            windows.append({"tokens": repr(ids), "offset": None})
        return model(ids)

    value = sub.sliding_window_perplexity(recorded, input_ids, max_length, stride)
    return {"ppl": value, "windows": windows}


def expect_windows(got, input_ids, spans, rule, what):
    """The model was called on ``input_ids[b:e][None]`` for each ``(b, e)`` of ``spans``, in order."""
    ids = input_ids.tolist()
    want = [ids[b:e] for b, e in spans]
    seen = [(w["tokens"][0].tolist() if isinstance(w["tokens"], torch.Tensor) and w["tokens"].dim() == 2
             and w["tokens"].size(0) == 1 else w["tokens"], w["offset"]) for w in got["windows"]]
    if [w for w, _ in seen] == want:
        return

    def name(i, w, offset):                      # where in input_ids this window's tokens are
        if not isinstance(w, list):
            return f"{str(w)[:60]} (not ids of shape [1, L])"
        if offset is not None and ids[offset:offset + len(w)] == w:
            return f"[{offset}:{offset + len(w)}]"
        if i < len(spans) and w == want[i]:
            return f"[{spans[i][0]}:{spans[i][1]}]"
        at = [b for b in range(len(ids) - len(w) + 1) if ids[b:b + len(w)] == w]
        return f"[{at[0]}:{at[0] + len(w)}]" if at and w else f"{w} (not a slice of input_ids)"

    shown = [name(i, w, off) for i, (w, off) in enumerate(seen)]
    raise Fail(rule, f"{what}: expected the model to be called on input_ids"
                     f"{', input_ids'.join(f'[{b}:{e}]' for b, e in spans)}\n"
                     f"  your code called it on {', '.join('input_ids' + s if s.startswith('[') else s for s in shown) or 'nothing'}")


def number(got, rule, what):
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise Fail(rule, f"{what}: expected a float, your code returned {got!r}"[:300])
    return float(got)


@check("uniform logits give perplexity V (per sequence and for the corpus)")
def uniform_is_vocab_size(run):
    logits, ids = torch.zeros(2, 5, 7), torch.randint(0, 7, (2, 5), generator=torch.Generator().manual_seed(0))
    rule = "a model that gives every one of V tokens probability 1/V has perplexity exactly V"
    got = run(ppl, "sequence_perplexities", logits, ids)["out"]
    expect_tensor(got, rule, shape=(2,))
    expect_close(got, torch.full((2,), 7.0), rule, what="sequence_perplexities(uniform logits, V=7)")
    expect_close(run(ppl, "corpus_perplexity", logits, ids)["out"], 7.0, rule, what="corpus_perplexity(uniform logits, V=7)")


@check("the logits at position t score the token at position t + 1; the first token is never scored")
def shifted(run):
    logits = torch.tensor([[[0.8, 0.2], [0.3, 0.7], [0.5, 0.5]]]).log()     # (1, 3, 2)
    ids = torch.tensor([[1, 0, 1]])
    want = math.exp(-(math.log(0.8) + math.log(0.7)) / 2)
    got = run(ppl, "corpus_perplexity", logits, ids)["out"]
    expect_close(got, want, "token 1 (a 0) is scored by logits[0], where p(0) = 0.8; token 2 (a 1) by logits[1], "
                 "where p(1) = 0.7: PPL = exp(-(log 0.8 + log 0.7) / 2)", what="corpus_perplexity")


@check("padding is not text: a right-padded sequence has the perplexity of the sequence alone")
def padding_ignored(run):
    g = torch.Generator().manual_seed(1)
    logits, ids = torch.randn(2, 6, 5, generator=g), torch.randint(0, 5, (2, 6), generator=g)
    mask = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]])
    got = run(ppl, "sequence_perplexities", logits, ids, mask)["out"]
    alone = run(ppl, "sequence_perplexities", logits[:1, :4], ids[:1, :4])["out"]
    rule = "a target whose attention_mask is 0 is not counted: padding changes nothing"
    expect_tensor(got, rule, shape=(2,))
    expect_tensor(alone, rule, shape=(1,))
    nll = -torch.log_softmax(logits[0, :3], -1).gather(-1, ids[0, 1:4, None])    # the 3 counted targets
    expect_close(alone[0], nll.mean().exp(), "perplexity = exp(mean NLL of the next-token targets)",
                 what="perplexity of sequence 0 alone (4 tokens, 3 targets)")
    expect_close(got[0], alone[0], rule, what="perplexity of sequence 0 with 2 padding tokens vs. without them")


@check("the corpus perplexity weights every token the same, not every sequence")
def corpus_token_weighted(run):
    logits = torch.zeros(2, 9, 4)
    logits[0, :, 0] = 3.0                           # sequence 0: confident and right about token 0
    ids = torch.zeros(2, 9, dtype=torch.long)
    mask = torch.ones(2, 9, dtype=torch.long)
    mask[0, 3:] = 0                                 # 2 targets in sequence 0, 8 in sequence 1
    nll0, nll1 = -torch.log_softmax(torch.tensor([3.0, 0, 0, 0]), 0)[0].item(), math.log(4.0)
    want = math.exp((2 * nll0 + 8 * nll1) / 10)
    got = run(ppl, "corpus_perplexity", logits, ids, mask)["out"]
    expect_close(got, want, "corpus perplexity = exp(total NLL / total counted targets): 2 targets of sequence 0 "
                 "and 8 of sequence 1 weigh 1/10 each -- not the mean of the two sequences' perplexities",
                 what="corpus_perplexity")


@check("sliding window: a window every stride tokens, max_length long, and a whole-text window when it fits")
def sliding_windows(run):
    lm = ToyCausalLM(vocab=6, max_length=4, seed=3)
    ids = torch.randint(0, 6, (10,), generator=torch.Generator().manual_seed(2))
    got = run(sliding, lm, ids, 4, 2)
    expect_windows(got, ids, [(0, 4), (2, 6), (4, 8), (6, 10)], "windows begin at 0, stride, 2 * stride, ..., "
                   "hold max_length tokens (fewer at the end), and stop after the first that reaches the end",
                   "N=10, max_length=4, stride=2")
    big = ToyCausalLM(vocab=6, max_length=16, seed=3)
    got = run(sliding, big, ids, 16, 8)
    logp = torch.log_softmax(big(ids[None])[0].double(), -1)
    want = math.exp(-logp[torch.arange(9), ids[1:]].mean().item())
    rule = "when the whole text fits in one window, the sliding perplexity is the plain perplexity of the text"
    expect_windows(got, ids, [(0, 10)], rule, "N=10, max_length=16")
    expect_close(number(got["ppl"], rule, "sliding_window_perplexity"), want, rule, what="sliding_window_perplexity")
