"""Hidden graders of nlp/rouge: tokenisation, ROUGE-1/2 and ROUGE-L against a brute-force
re-derivation (the LCS by exhaustive search on short texts) on random texts, precision vs recall
(the target comes first), empty and disjoint texts, long texts that need a dynamic programme, and the
score dictionary.  tests/test_twins_nlp_rouge.py compares the reference with rouge-score itself."""
import functools
import random
import re

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, visible_module

V = visible_module("nlp/rouge")


def oracle_tokens(text):
    return [t for t in re.split(r"\s+", re.sub(r"[^a-z0-9]+", " ", text.lower())) if re.match(r"^[a-z0-9]+$", t)]


def f1(p, r):
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def oracle_n(target, prediction, n):
    tg = [tuple(target[i:i + n]) for i in range(len(target) - n + 1)]
    pg = [tuple(prediction[i:i + n]) for i in range(len(prediction) - n + 1)]
    overlap = sum(min(tg.count(g), pg.count(g)) for g in set(tg))
    p, r = overlap / max(len(pg), 1), overlap / max(len(tg), 1)
    return [p, r, f1(p, r)]


def oracle_lcs(a, b):
    @functools.lru_cache(maxsize=None)
    def go(i, j):
        if i == len(a) or j == len(b):
            return 0
        if a[i] == b[j]:
            return 1 + go(i + 1, j + 1)
        return max(go(i + 1, j), go(i, j + 1))
    return go(0, 0)


def oracle_l(target, prediction):
    if not target or not prediction:
        return [0.0, 0.0, 0.0]
    lcs = oracle_lcs(tuple(target), tuple(prediction))
    p, r = lcs / len(prediction), lcs / len(target)
    return [p, r, f1(p, r)]


WORDS = "the a cat dog sat on mat hat big red ran fast".split()


def text_pair(rng, lo=0, hi=15):
    target = [rng.choice(WORDS) for _ in range(rng.randint(max(lo, 1), hi))]
    prediction = [w for w in target if rng.random() < 0.6] + [rng.choice(WORDS) for _ in range(rng.randint(lo, 5))]
    rng.shuffle(prediction) if rng.random() < 0.3 else None
    return target, prediction


def triple(got, what):
    return V.triple(got, what)


@check("tokenize agrees with rouge-score's tokenizer on texts with punctuation, case, digits and accents")
def tokenize_random(run):
    rng = random.Random(0)
    alphabet = list("abcXYZ019 .,;!?-'\"\t\néü_/")
    for _ in range(10):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        expect_equal(run(V.tokens, text), oracle_tokens(text), "lower-case; every run of characters outside [a-z0-9] "
                     "(accented letters and '_' included) becomes a space; split; drop empty tokens",
                     what=f"tokenize({text!r})")


@check("rouge_n (n = 1, 2, 3) agrees with clipped n-gram overlap on random token lists", points=2)
def rouge_n_random(run):
    rng = random.Random(1)
    for _ in range(8):
        target, prediction = text_pair(rng)
        for n in (1, 2, 3):
            expect_close(triple(run(V.n_score, target, prediction, n), "rouge_n"), oracle_n(target, prediction, n),
                         "overlap = sum over n-grams of min(count in target, count in prediction); P = overlap / "
                         "prediction n-grams, R = overlap / target n-grams (each at least 1); F1 the harmonic mean",
                         rtol=1e-12, atol=1e-12, what=f"rouge_n(target={' '.join(target)!r}, "
                         f"prediction={' '.join(prediction)!r}, n={n})")


@check("lcs_length and rouge_l agree with an exhaustive LCS on random token lists", points=2)
def rouge_l_random(run):
    rng = random.Random(2)
    for _ in range(10):
        target, prediction = text_pair(rng)
        expect_close(triple(run(V.l_score, target, prediction), "rouge_l"), oracle_l(target, prediction),
                     "ROUGE-L: P = LCS / len(prediction), R = LCS / len(target), where the LCS is the longest common "
                     "subsequence (order kept, gaps allowed)", rtol=1e-12, atol=1e-12,
                     what=f"rouge_l(target={' '.join(target)!r}, prediction={' '.join(prediction)!r})")


@check("empty and disjoint texts score 0 everywhere (no division by zero, F1 of 0 and 0 is 0)")
def degenerate(run):
    cases = [(["a", "b"], []), ([], ["a"]), (["a", "b"], ["c", "d"]), (["a"], ["a"])]
    for target, prediction in cases:
        for n in (1, 2):
            expect_close(triple(run(V.n_score, target, prediction, n), "rouge_n"), oracle_n(target, prediction, n),
                         "divide by max(count, 1); F1 = 0 when P + R = 0", what=f"rouge_n({target}, {prediction}, {n})")
        expect_close(triple(run(V.l_score, target, prediction), "rouge_l"), oracle_l(target, prediction),
                     "ROUGE-L is 0, 0, 0 when either text is empty", what=f"rouge_l({target}, {prediction})")


@check("long texts (300 tokens): the LCS needs a dynamic programme, not a search")
def long_texts(run):
    rng = random.Random(3)
    target = [rng.choice(WORDS) for _ in range(300)]
    prediction = [w for w in target if rng.random() < 0.7] + [rng.choice(WORDS) for _ in range(40)]
    rng.shuffle(prediction[:60])
    table = [[0] * (len(prediction) + 1) for _ in range(len(target) + 1)]
    for i in range(1, len(target) + 1):
        for j in range(1, len(prediction) + 1):
            table[i][j] = table[i - 1][j - 1] + 1 if target[i - 1] == prediction[j - 1] else \
                max(table[i - 1][j], table[i][j - 1])
    lcs = table[-1][-1]
    p, r = lcs / len(prediction), lcs / len(target)
    expect_close(triple(run(V.l_score, target, prediction), "rouge_l"), [p, r, f1(p, r)], "the LCS of two long "
                 "texts, by the O(n m) table", rtol=1e-12, atol=1e-12, what="rouge_l (300 tokens)")


@check("rouge_scores: rouge1, rouge2 and rougeL of two texts, the target first", points=2)
def scores_dict(run):
    rng = random.Random(4)
    for _ in range(5):
        target, prediction = text_pair(rng, lo=1)
        t_text = " ".join(w.upper() if rng.random() < 0.2 else w for w in target) + "."
        p_text = ", ".join(prediction) + "!"
        got = run(V.scores, t_text, p_text)
        if not isinstance(got, dict) or sorted(got) != ["rouge1", "rouge2", "rougeL"]:
            raise Fail("rouge_scores returns a dict with the keys rouge1, rouge2, rougeL", f"got {got!r}"[:300])
        T, P = oracle_tokens(t_text), oracle_tokens(p_text)
        for key, want in (("rouge1", oracle_n(T, P, 1)), ("rouge2", oracle_n(T, P, 2)), ("rougeL", oracle_l(T, P))):
            expect_close(triple(got[key], key), want, "tokenise both texts, then score: precision is measured on the "
                         "prediction (the second argument), recall on the target (the first)", rtol=1e-12, atol=1e-12,
                         what=f"{key} of target={t_text!r}, prediction={p_text!r}")
