"""Visible checks: ranks from an order, the two streams, and Hugging Face's perm_mask on 4 tokens."""
import torch

from mlkata.checks import Fail, check, expect_equal, probe


@probe
def ranks(sub, order):
    return sub.factorization_ranks(order)


@probe
def streams(sub, order):
    return sub.two_stream_masks(order)


@probe
def hf_masks(sub, order, is_target):
    return sub.xlnet_perm_mask(order, is_target)


def pair(got, what):
    if not isinstance(got, (list, tuple)) or len(got) != 2 or not all(isinstance(x, torch.Tensor) for x in got):
        raise Fail(f"{what} returns a pair of tensors", f"got {got!r}"[:300])
    return got


ORDER = torch.tensor([2, 0, 3, 1])          # predict position 2 first, then 0, 3, 1


@check("factorization_ranks inverts the order: position 2 comes first, position 1 last")
def ranks_small(run):
    expect_equal(run(ranks, ORDER), torch.tensor([1, 3, 0, 2]), "rank[order[t]] = t: position 0 is predicted at "
                 "step 1, position 1 at step 3, position 2 at step 0, position 3 at step 2", what="factorization_ranks")


@check("two streams: content sees ranks <= its own (itself included), query strictly smaller ones")
def streams_small(run):
    content, query = pair(run(streams, ORDER), "two_stream_masks")
    rank = [1, 3, 0, 2]
    want_c = torch.tensor([[rank[j] <= rank[i] for j in range(4)] for i in range(4)])
    want_q = torch.tensor([[rank[j] < rank[i] for j in range(4)] for i in range(4)])
    expect_equal(content, want_c, "content[i, j] = rank[j] <= rank[i]: row i, column j", what="content mask")
    expect_equal(query, want_q, "query[i, j] = rank[j] < rank[i]: the query stream never sees its own token",
                 what="query mask")


@check("perm_mask: 1 where i may not attend to a target j of rank >= its own; context tokens seen by all")
def hf_small(run):
    is_target = torch.tensor([True, False, True, False])      # predict positions 0 and 2 (ranks 1 and 0)
    perm_mask, mapping = pair(run(hf_masks, ORDER, is_target), "xlnet_perm_mask")
    # ranks with context at -1: [1, -1, 0, -1]; blocked[i, j] = rank[i] <= rank[j] and j a target
    want = torch.tensor([[1.0, 0.0, 0.0, 0.0],
                         [1.0, 0.0, 1.0, 0.0],
                         [1.0, 0.0, 1.0, 0.0],
                         [1.0, 0.0, 1.0, 0.0]])
    expect_equal(perm_mask, want, "non-targets get rank -1; perm_mask[i, j] = 1.0 when rank[i] <= rank[j] and j is "
                 "a target (position 0, rank 1, may see position 2, rank 0, but not itself)", what="perm_mask")
    expect_equal(mapping, torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]), "one one-hot row per target, "
                 "in position order", what="target_mapping")
