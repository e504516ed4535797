"""features/tfidf against scikit-learn: the reference (solutions/) and the grader's Counter-based
oracle (graders/) equal ``sklearn.feature_extraction.text.TfidfVectorizer()`` (all defaults:
lowercase, token_pattern ``(?u)\\b\\w\\w+\\b``, smooth_idf, raw tf, norm="l2") on the grader's random
corpora in mixed scripts and punctuation: tokens (``build_analyzer()``), ``vocabulary_``, ``idf_``,
``get_feature_names_out()``, the TF-IDF rows of the fitted and of new documents; sklearn also
raises ValueError on an empty vocabulary."""
import numpy as np
import pytest

text = pytest.importorskip("sklearn.feature_extraction.text")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "features" / "tfidf.py"), "twins_features_tfidf_reference")
ORACLE = load_module(str(ROOT / "graders" / "features" / "tfidf.py"), "twins_features_tfidf_grader")


def corpora():
    for seed in list(range(30)) + [31, 41]:
        yield ORACLE.random_corpus(seed)
    yield ["spam spam spam spam eggs", "eggs ham", "ham ham bacon", "toast"], ["", "a b c", "zebra", "ham spam"]
    yield ["The cat sat.", "The dog sat on the log!", "A cat, a dog."], ["Zebra on a log", "Nothing known here"]


CASES = list(corpora())


@pytest.mark.parametrize("case", range(len(CASES)))
def test_reference_and_oracle_match_sklearn(case):
    docs, queries = CASES[case]
    sk = text.TfidfVectorizer().fit(docs)
    analyzer = sk.build_analyzer()
    for d in docs + queries:
        assert REF.tokenize(d) == ORACLE.oracle_tokens(d) == analyzer(d)
    ref = REF.TfidfVectorizer().fit(docs)
    terms, idf = ORACLE.oracle_fit(docs)
    assert ref.vocabulary_ == {str(k): int(v) for k, v in sk.vocabulary_.items()}
    assert ref.get_feature_names() == sk.get_feature_names_out().tolist() == terms
    np.testing.assert_allclose(ref.idf_, sk.idf_, rtol=1e-13, atol=0)
    np.testing.assert_allclose(idf, sk.idf_, rtol=1e-13, atol=0)
    for batch in (docs, queries):
        want = sk.transform(batch).toarray()
        np.testing.assert_allclose(ref.transform(batch), want, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(ORACLE.oracle_transform((terms, idf), batch), want, rtol=1e-12, atol=1e-15)


def test_empty_vocabulary_raises_like_sklearn():
    docs = ["", "a b", "!!! ?"]
    with pytest.raises(ValueError):
        text.TfidfVectorizer().fit(docs)
    with pytest.raises(ValueError):
        REF.TfidfVectorizer().fit(docs)
