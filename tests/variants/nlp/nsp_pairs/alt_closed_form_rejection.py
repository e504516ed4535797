# CORRECT, written differently: truncation lengths in closed form (as transformers' Python
# truncate_sequences computes them), slices instead of pops, torch.bernoulli for the coin and
# rejection sampling (redraw until the document differs) for the NotNext document.
import torch


def truncate_seq_pair(tokens_a, tokens_b, max_num_tokens):
    la, lb = len(tokens_a), len(tokens_b)
    remove = max(0, la + lb - max_num_tokens)
    gap = min(abs(la - lb), remove)          # first even out the longer one ...
    rest = remove - gap                      # ... then alternate, b first
    if la > lb:
        cut_a, cut_b = gap + rest // 2, rest - rest // 2
    else:
        cut_a, cut_b = rest // 2, gap + rest - rest // 2
    return tokens_a[:la - cut_a], tokens_b[:lb - cut_b]


def build_pair(tokens_a, tokens_b, cls_id, sep_id, max_len):
    a, b = truncate_seq_pair(tokens_a, tokens_b, max_len - 3)
    segments = [([cls_id, *a, sep_id], 0), ([*b, sep_id], 1)]
    input_ids = [t for seg, _ in segments for t in seg]
    token_type_ids = [s for seg, s in segments for _ in seg]
    return input_ids, token_type_ids


def make_nsp_examples(documents, cls_id, sep_id, max_len, generator=None):
    n_docs = len(documents)
    if n_docs < 2:
        raise ValueError(f"need at least 2 documents, got {n_docs}")
    half = torch.tensor(0.5)
    out = []
    for d, doc in enumerate(documents):
        for a, nxt in zip(doc, doc[1:]):
            is_next = int(torch.bernoulli(half, generator=generator))
            b = nxt
            if not is_next:
                e = d
                while e == d:
                    e = int(torch.randint(0, n_docs, (1,), generator=generator))
                b = documents[e][int(torch.randint(0, len(documents[e]), (1,), generator=generator))]
            ids, types = build_pair(a, b, cls_id, sep_id, max_len)
            out.append(dict(input_ids=ids, token_type_ids=types, is_next=is_next))
    return out
