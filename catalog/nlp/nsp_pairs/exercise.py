"""Next sentence prediction: building BERT's sentence-pair examples.

Besides filling in masked tokens, BERT (Devlin et al., 2019, "BERT: Pre-training of Deep
Bidirectional Transformers", section 3.1) was pre-trained on a binary task: given two text
segments A and B, does B really follow A?  Half of the training pairs take B from the true next
sentence ("IsNext"), the other half from a random sentence of a *different* document
("NotNext"), so that the model has to learn something about how sentences relate -- which
question answering and entailment need.

Every pair is laid out as one sequence the encoder reads at once::

    [CLS] A ... [SEP] B ... [SEP]        input_ids
      0   0 ...   0   1 ...   1          token_type_ids (segment embeddings: 0 for A, 1 for B)

and the classifier on top of ``[CLS]`` predicts the label.  Pairs longer than the model's
``max_len`` are shortened the way Google's ``create_pretraining_data.py`` does in
``truncate_seq_pair``: one token at a time, always from the longer segment.  (The original
drops the token at a random end; here it is always the last one, which is what Hugging Face's
Python tokenizers do with ``truncation="longest_first"`` -- their Rust "fast" tokenizers split
an odd leftover token differently.)

Token ids are plain ints and sequences are Python lists, as in ``create_pretraining_data.py``
and in what a tokenizer returns.  Randomness comes from a ``torch.Generator``, so a seed makes
the examples reproducible.
"""
from typing import Optional

import torch

Sentence = list[int]
Document = list[Sentence]


def truncate_seq_pair(tokens_a: Sentence, tokens_b: Sentence, max_num_tokens: int) -> tuple[Sentence, Sentence]:
    """Shorten a pair of token lists to at most ``max_num_tokens`` tokens in total, as BERT does.

    While ``len(a) + len(b) > max_num_tokens``: drop the *last* token of the longer list, or of
    ``b`` when both are equally long.  A pair that already fits is returned unchanged.

    Args:
        tokens_a, tokens_b: lists of ints (not modified).
        max_num_tokens: an int >= 0.

    Returns:
        ``(a, b)``: new lists of ints, prefixes of ``tokens_a`` and ``tokens_b``.
    """
    ### BEGIN SOLUTION
    a, b = list(tokens_a), list(tokens_b)
    while len(a) + len(b) > max_num_tokens:
        longer = a if len(a) > len(b) else b
        longer.pop()
    return a, b
    ### END SOLUTION


def build_pair(tokens_a: Sentence, tokens_b: Sentence, cls_id: int, sep_id: int,
               max_len: int) -> tuple[list[int], list[int]]:
    """Lay out one pair as ``[CLS] A [SEP] B [SEP]`` with its segment ids.

    Args:
        tokens_a, tokens_b: non-empty lists of ints (not modified).
        cls_id, sep_id: the ids of ``[CLS]`` and ``[SEP]``.
        max_len: the longest sequence allowed, special tokens included (an int >= 5); A and B
            are first shortened with ``truncate_seq_pair`` to ``max_len - 3`` tokens together.

    Returns:
        ``(input_ids, token_type_ids)``: two lists of ints of the same length
        ``len(a) + len(b) + 3`` (``a``, ``b`` the truncated segments; no padding).
        ``token_type_ids`` is 0 for ``[CLS]``, A and the first ``[SEP]``, and 1 for B and the
        final ``[SEP]``.
    """
    ### BEGIN SOLUTION
    a, b = truncate_seq_pair(tokens_a, tokens_b, max_len - 3)
    input_ids = [cls_id] + a + [sep_id] + b + [sep_id]
    token_type_ids = [0] * (len(a) + 2) + [1] * (len(b) + 1)
    return input_ids, token_type_ids
    ### END SOLUTION


def make_nsp_examples(documents: list[Document], cls_id: int, sep_id: int, max_len: int,
                      generator: Optional[torch.Generator] = None) -> list[dict]:
    """Build one next-sentence-prediction example for every pair of consecutive sentences.

    Args:
        documents: a list of at least 2 documents; a document is a non-empty list of sentences,
            a sentence a non-empty list of ints.  Nothing in it is modified.
        cls_id, sep_id, max_len: as in ``build_pair``.
        generator: every random draw comes from it, so the same seed gives the same examples;
            when None, torch's global generator is used.

    For document ``d`` and every sentence index ``i`` with ``i + 1 < len(documents[d])``, in
    that order (documents first, then sentences), A is ``documents[d][i]`` and:

    * with probability 0.5, B is the true next sentence ``documents[d][i + 1]``, ``is_next = 1``;
    * otherwise B is a random sentence of another document, ``is_next = 0``: a document
      ``e != d`` chosen uniformly among the other ``len(documents) - 1``, then one of its
      sentences chosen uniformly.

    Each example draws afresh, independently of the others.  A document with a single sentence
    gives no example but can still supply random sentences.  How and in which order you draw
    (a coin, then a document, then a sentence; or one draw over all candidate sentences
    weighted to the same probabilities) is yours to choose: only these probabilities are graded,
    and that the same generator seed gives the same examples.

    Returns:
        a list of dicts ``{"input_ids": list[int], "token_type_ids": list[int], "is_next": int}``,
        the first two as ``build_pair(A, B, cls_id, sep_id, max_len)`` returns them.

    Raises:
        ValueError: when there are fewer than 2 documents.
    """
    ### BEGIN SOLUTION
    if len(documents) < 2:
        raise ValueError("next sentence prediction needs at least 2 documents")
    examples = []
    for d, doc in enumerate(documents):
        for i in range(len(doc) - 1):
            if torch.rand((), generator=generator) < 0.5:
                tokens_b, is_next = doc[i + 1], 1
            else:
                # uniform over the other documents: draw from len - 1 and skip over d
                e = int(torch.randint(len(documents) - 1, (), generator=generator))
                e += e >= d
                j = int(torch.randint(len(documents[e]), (), generator=generator))
                tokens_b, is_next = documents[e][j], 0
            input_ids, token_type_ids = build_pair(doc[i], tokens_b, cls_id, sep_id, max_len)
            examples.append({"input_ids": input_ids, "token_type_ids": token_type_ids, "is_next": is_next})
    return examples
    ### END SOLUTION
