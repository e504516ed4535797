"""Hidden graders of nlp/logits_processors: each processor against a transcription of transformers'
(tests/test_twins_* runs RepetitionPenaltyLogitsProcessor, NoRepeatNGramLogitsProcessor and
MinPLogitsWarper themselves) on random batches -- repeated tokens, both signs, penalties above and
below 1, n from 1 to 4 with short rows, min_tokens_to_keep and -inf inputs --, inputs left
unchanged, and the chain's order."""
import torch

from mlkata.checks import check, expect_close, expect_tensor, probe, visible_module

V = visible_module("nlp/logits_processors")
NEG_INF = float("-inf")


@probe
def each(sub, fn, cases):
    return [V.processed.fn(sub, fn, *args, **kwargs) for args, kwargs in cases]


def oracle_penalty(ids, scores, penalty):
    s = scores.gather(1, ids)
    return scores.scatter(1, ids, torch.where(s < 0, s * penalty, s / penalty))


def oracle_ngram(ids, scores, n):
    out = scores.clone()
    B, T = ids.shape
    if T < n:
        return out
    for b in range(B):
        row = ids[b].tolist()
        grams = {}
        for i in range(T - n + 1):
            grams.setdefault(tuple(row[i:i + n - 1]), []).append(row[i + n - 1])
        for tok in grams.get(tuple(row[T - n + 1:]) if n > 1 else (), []):
            out[b, tok] = NEG_INF
    return out


def oracle_min_p(scores, min_p, keep=1):
    probs = scores.softmax(-1)
    remove = probs < min_p * probs.amax(-1, keepdim=True)
    remove = remove.scatter(-1, torch.topk(probs, min(keep, scores.size(-1)), dim=-1).indices, False)
    return scores.masked_fill(remove, NEG_INF)


def batch(seed, B, T, V_, spread=3.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(V_, (B, T), generator=g), torch.randn(B, V_, generator=g) * spread


def agree(gots, wants, cases_scores, rule, labels):
    for got, want, scores, label in zip(gots, wants, cases_scores, labels):
        expect_tensor(got["out"], "the processed scores have the input's shape", shape=want.shape)
        expect_close(got["out"], want, rule, rtol=1e-6, atol=1e-7, what=label)
        expect_close(got["scores_after"], scores, "return a new tensor: the scores given are not modified",
                     rtol=0, atol=0, what=f"the scores argument after the call ({label})")


@check("repetition_penalty agrees with RepetitionPenaltyLogitsProcessor (repeats, both signs, penalty > 1 and < 1)",
       points=2)
def penalty_random(run):
    cases, wants, labels = [], [], []
    for s, (B, T, V_, p) in enumerate([(3, 6, 10, 1.3), (2, 12, 5, 2.0), (4, 3, 20, 0.7), (1, 1, 4, 1.1)]):
        ids, scores = batch(s, B, T, V_)
        cases.append(((ids, scores.clone(), p), {}))
        wants.append(oracle_penalty(ids, scores, p))
        labels.append(f"B={B}, T={T}, V={V_}, penalty={p}")
    gots = run(each, "repetition_penalty", cases)
    agree(gots, wants, [c[0][1] for c in cases], "for each distinct token of the row: score * penalty if score < 0, "
          "else score / penalty; the others unchanged", labels)


@check("no_repeat_ngram agrees with NoRepeatNGramLogitsProcessor for n = 1..4, including rows shorter than n",
       points=2)
def ngram_random(run):
    cases, wants, labels = [], [], []
    for s, (B, T, V_, n) in enumerate([(3, 12, 4, 2), (2, 15, 3, 3), (2, 6, 5, 1), (2, 3, 4, 4), (3, 20, 2, 4)]):
        ids, scores = batch(10 + s, B, T, V_)
        cases.append(((ids, scores.clone(), n), {}))
        wants.append(oracle_ngram(ids, scores, n))
        labels.append(f"B={B}, T={T}, V={V_}, n={n}")
    gots = run(each, "no_repeat_ngram", cases)
    agree(gots, wants, [c[0][1] for c in cases], "ban x when (last n-1 tokens, x) already occurs in the row; nothing "
          "while the row is shorter than n; n = 1 bans every token seen", labels)


@check("min_p_filter agrees with MinPLogitsWarper (several min_p, min_tokens_to_keep, -inf inputs)", points=2)
def min_p_random(run):
    cases, wants, labels = [], [], []
    for s, (B, V_, mp, keep) in enumerate([(3, 10, 0.1, 1), (2, 8, 0.5, 1), (4, 12, 0.9, 3), (2, 6, 1.0, 1),
                                           (2, 7, 0.05, 2)]):
        _, scores = batch(20 + s, B, 1, V_)
        if s == 4:
            scores[:, :3] = NEG_INF
        cases.append(((scores.clone(), mp), dict(min_tokens_to_keep=keep)))
        wants.append(oracle_min_p(scores, mp, keep))
        labels.append(f"B={B}, V={V_}, min_p={mp}, min_tokens_to_keep={keep}")
    gots = run(each, "min_p_filter", cases)
    agree(gots, wants, [c[0][0] for c in cases], "remove tokens with probability < min_p * the row's top "
          "probability, but always keep the min_tokens_to_keep most likely", labels)


@check("process chains the three in generate's order (penalty, n-grams, min-p) and skips the ones switched off")
def chain_random(run):
    cases, wants, labels = [], [], []
    for s, kwargs in enumerate([dict(penalty=1.5, ngram=2, min_p=0.2), dict(penalty=1.0, ngram=3, min_p=0.0),
                                dict(penalty=0.8, ngram=0, min_p=0.4), dict()]):
        ids, scores = batch(30 + s, 3, 10, 5)
        want = scores
        if kwargs.get("penalty", 1.0) != 1.0:
            want = oracle_penalty(ids, want, kwargs["penalty"])
        if kwargs.get("ngram", 0):
            want = oracle_ngram(ids, want, kwargs["ngram"])
        if kwargs.get("min_p", 0.0):
            want = oracle_min_p(want, kwargs["min_p"])
        cases.append(((ids, scores.clone()), kwargs))
        wants.append(want)
        labels.append(f"process({', '.join(f'{k}={v}' for k, v in kwargs.items()) or 'defaults'})")
    gots = run(each, "process", cases)
    agree(gots, wants, [c[0][1] for c in cases], "repetition penalty first (on the raw scores), then the n-gram ban, "
          "then min-p on the result", labels)
