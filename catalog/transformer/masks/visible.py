"""Visible checks: each mask on a tiny case you can draw by hand, and the additive form against
torch.nn.Transformer.generate_square_subsequent_mask."""
import torch

from mlkata.checks import check, expect_close, expect_equal, expect_tensor, probe


@probe
def call_each(sub, calls):
    """Call ``sub.<name>(*args, **kwargs)`` for each (name, args, kwargs); report each result and
    whether the tensor arguments came back unchanged."""
    reports = []
    for name, args, kwargs in calls:
        before = [a.clone() if isinstance(a, torch.Tensor) else a for a in args]
        out = getattr(sub, name)(*args, **kwargs)
        unchanged = all(not isinstance(a, torch.Tensor) or (a.shape == b.shape and torch.equal(a, b))
                        for a, b in zip(args, before))
        reports.append({"out": out, "unchanged": unchanged})
    return reports


T_, F_ = True, False


@check("causal_mask(3): query i may attend to keys 0..i (lower triangle with the diagonal), dtype bool")
def tiny_causal(run):
    got = run("causal_mask", 3)
    want = torch.tensor([[T_, F_, F_], [T_, T_, F_], [T_, T_, T_]])
    expect_tensor(got, "the causal mask is a bool tensor [T, T]", shape=(3, 3), dtype=torch.bool)
    expect_equal(got, want, "entry [i, j] is True iff j <= i (a token sees itself and the past)",
                 what="causal_mask(3)")


@check("lengths [2, 3, 0] give rows with 2, 3 and 0 leading Trues (right padding)")
def tiny_lengths(run):
    got = run("lengths_to_padding_mask", torch.tensor([2, 3, 0]))
    want = torch.tensor([[T_, T_, F_], [T_, T_, T_], [F_, F_, F_]])
    expect_tensor(got, "the padding mask is a bool tensor [B, max(lengths)]", shape=(3, 3), dtype=torch.bool)
    expect_equal(got, want, "mask[b, t] is True iff t < lengths[b]", what="lengths_to_padding_mask([2, 3, 0])")


@check("build_attention_mask blocks padded KEYS (columns) and, by default (causal=True), the future")
def tiny_combined(run):
    got = run("build_attention_mask", torch.tensor([[True, True, False]]))        # causal by default
    want = torch.tensor([[[[T_, F_, F_],
                           [T_, T_, F_],
                           [T_, T_, F_]]]])              # the pad query (row 2) still sees keys 0 and 1
    expect_tensor(got, "the combined mask is bool [B, 1, T, T]", shape=(1, 1, 3, 3), dtype=torch.bool)
    expect_equal(got, want, "entry [b, 0, i, j] is True iff key j is a real token and j <= i; "
                 "padding removes keys (columns), not queries (rows)", what="build_attention_mask")


@check("to_additive_mask(causal_mask(4)) equals torch's generate_square_subsequent_mask(4)")
def tiny_additive(run):
    [got] = run(call_each, [("to_additive_mask", (torch.ones(4, 4, dtype=torch.bool).tril(),), {})])
    want = torch.nn.Transformer.generate_square_subsequent_mask(4)
    expect_close(got["out"], want, "0.0 where the mask is True, -inf where it is False", check_dtype=True,
                 what="to_additive_mask(causal mask of size 4)")
