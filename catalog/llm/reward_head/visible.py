"""Visible checks: the last real token with right and left padding, and the reward read there."""
import torch

from mlkata.checks import check, expect_close, expect_equal, probe


@probe
def last_index(sub, attention_mask):
    return sub.last_token_index(attention_mask)


@probe
def rewards(sub, hidden_states, attention_mask, weight, grad=False):
    """A RewardHead in the weight's dtype with ``score.weight = weight`` (loaded by name); its rewards, and with ``grad``
    the gradients of rewards.sum() w.r.t. the hidden states and the weight."""
    head = sub.RewardHead(weight.shape[1]).to(weight.dtype)
    head.load_state_dict({"score.weight": weight})
    h = hidden_states.detach().clone().requires_grad_(True) if grad else hidden_states
    out = head(h, attention_mask)
    report = {"rewards": out}
    if grad and isinstance(out, torch.Tensor) and out.requires_grad:
        out.sum().backward()
        report["grad_hidden"] = h.grad
        report["grad_weight"] = head.score.weight.grad
    return report


@check("last_token_index: right padding ends early, left padding ends at T - 1")
def last_index_small(run):
    mask = torch.tensor([[1, 1, 1, 0, 0],        # right-padded: last real token at 2
                         [0, 0, 1, 1, 1],        # left-padded: at 4
                         [1, 1, 1, 1, 1]])       # no padding: at 4
    expect_equal(run(last_index, mask), torch.tensor([2, 4, 4]), "the last real token is the largest t with "
                 "attention_mask[b, t] == 1, wherever the padding is", what="last_token_index")


@check("the reward is the head applied to the hidden state of the last real token, shape (B,)")
def reward_small(run):
    h = torch.arange(2 * 4 * 3, dtype=torch.float32).reshape(2, 4, 3)      # (B=2, T=4, H=3)
    mask = torch.tensor([[1, 1, 0, 0], [0, 1, 1, 1]])
    w = torch.tensor([[1.0, 0.0, -1.0]])
    got = run(rewards, h, mask, w)["rewards"]
    # row 0: h[0, 1] = [3, 4, 5] -> 3 - 5 = -2;   row 1: h[1, 3] = [21, 22, 23] -> 21 - 23 = -2
    want = torch.tensor([float(h[0, 1] @ w[0]), float(h[1, 3] @ w[0])])
    expect_close(got, want, "reward[b] = score.weight . hidden_states[b, last[b]], one number per row",
                 what="rewards")


@check("the reward ignores every position but the last real one")
def reads_one_position(run):
    g = torch.Generator().manual_seed(0)
    h = torch.randn(3, 5, 4, generator=g)
    mask = torch.tensor([[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 0]])
    w = torch.randn(1, 4, generator=g)
    before = run(rewards, h, mask, w)["rewards"]
    want = torch.stack([h[0, 2] @ w[0], h[1, 4] @ w[0], h[2, 3] @ w[0]])
    expect_close(before, want, "reward[b] = score.weight . hidden_states[b, last[b]] (last = 2, 4, 3 here)",
                 what="rewards")
    changed = h.clone()
    changed[0, [0, 1, 3, 4]] = 7.0                # everything in row 0 but position 2
    changed[1, [0, 1, 2, 3]] = -3.0               # everything in row 1 but position 4
    changed[2, [0, 1, 2, 4]] = 0.5                # everything in row 2 but position 3
    after = run(rewards, changed, mask, w)["rewards"]
    expect_close(after, want, "changing hidden states anywhere except the last real token (padding included) "
                 "must not change the reward", what="rewards after changing the other positions")
