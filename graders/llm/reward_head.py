"""Hidden graders of llm/reward_head: the last real token of random masks padded on either side
(bool or int), rewards against a row-by-row gather on random hidden states (float32 and float64,
a batch of one), gradients that reach only the last real position, and padded rows that score as
they would alone.  tests/test_twins_llm_reward_head.py
checks the reference against tiny random Llama and GPT-2 *ForSequenceClassification models."""
import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, expect_tensor, visible_module

V = visible_module("llm/reward_head")


def oracle_last(mask):
    return torch.tensor([int(torch.nonzero(row).max()) for row in mask])


def oracle_rewards(hidden, mask, weight):
    last = oracle_last(mask)
    return torch.stack([hidden[b, last[b]] @ weight[0] for b in range(hidden.shape[0])])


def oracle_grads(hidden, mask, weight):
    """d rewards.sum() / d hidden (w at each row's last real position, 0 elsewhere) and / d weight."""
    last = oracle_last(mask)
    g_hidden = torch.zeros_like(hidden)
    for b in range(hidden.shape[0]):
        g_hidden[b, last[b]] = weight[0]
    g_weight = torch.stack([hidden[b, last[b]] for b in range(hidden.shape[0])]).sum(0, keepdim=True)
    return g_hidden, g_weight


def batch(seed, side="mixed", B=6, T=9, H=8, dtype=torch.float32):
    """(hidden, mask, weight): random lengths >= 1 padded on ``side`` ('mixed': each row either way)."""
    g = torch.Generator().manual_seed(seed)
    hidden = torch.randn(B, T, H, generator=g, dtype=torch.float64).to(dtype)
    weight = torch.randn(1, H, generator=g, dtype=torch.float64).to(dtype)
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    lengths[0] = T
    left = torch.rand(B, generator=g) < 0.5 if side == "mixed" else torch.full((B,), side == "left")
    pos = torch.arange(T)[None, :]
    mask = torch.where(left[:, None], pos >= (T - lengths)[:, None], pos < lengths[:, None]).long()
    return hidden, mask, weight


@check("last_token_index agrees with the rightmost 1 of random masks, right, left and mixed padding", points=2)
def last_index_random(run):
    for seed, side in [(0, "right"), (1, "left"), (2, "mixed"), (3, "mixed")]:
        _, mask, _ = batch(seed, side, B=12, T=15)
        got = expect_tensor(run(V.last_index, mask), "last_token_index returns an int64 (B,) tensor",
                            shape=(12,), dtype=torch.int64)
        expect_equal(got, oracle_last(mask), "the last real token of a row is its largest t with mask 1 (for "
                     "left padding that is T - 1; for right padding it is length - 1)",
                     what=f"last_token_index ({side} padding, seed {seed})")


@check("last_token_index accepts a bool mask and single-token rows")
def last_index_bool(run):
    _, mask, _ = batch(5, "mixed", B=10, T=12)
    mask = mask.bool()
    mask[1] = False
    mask[1, 0] = True                                            # one real token, at the very start
    mask[2] = False
    mask[2, 7] = True                                            # one real token, in the middle
    expect_equal(run(V.last_index, mask), oracle_last(mask), "a bool attention mask works like a 0/1 one; "
                 "a row with one real token has it as its last", what="last_token_index(bool mask)")


@check("rewards agree with the head applied at each row's last real token, random batches", points=2)
def rewards_random(run):
    for seed, side, dtype in [(10, "right", torch.float32), (11, "left", torch.float32),
                              (12, "mixed", torch.float64), (13, "mixed", torch.float32)]:
        hidden, mask, weight = batch(seed, side, dtype=dtype)
        got = run(V.rewards, hidden, mask, weight)["rewards"]
        expect_close(got, oracle_rewards(hidden, mask, weight), "reward[b] = score.weight . hidden_states[b, last[b]] "
                     "with last[b] the row's last real token; one value per row, shape (B,), the hidden states' "
                     "dtype", check_dtype=True, rtol=1e-5, atol=1e-6,
                     what=f"rewards ({side} padding, {dtype}, seed {seed})")


@check("a batch of one gives shape (1,), not a 0-dim tensor")
def batch_of_one(run):
    hidden, mask, weight = batch(20, "right", B=1)
    got = run(V.rewards, hidden, mask, weight)["rewards"]
    expect_close(got, oracle_rewards(hidden, mask, weight), "the rewards have shape (B,) for every B: squeeze only "
                 "the head's output dimension (squeeze(-1)), not the batch", what="rewards (B = 1)")


@check("gradients: w at each row's last real position, zero elsewhere; d/d weight = the sum of those hidden states",
       points=2)
def gradients(run):
    hidden, mask, weight = batch(30, "mixed", dtype=torch.float64)
    got = run(V.rewards, hidden, mask, weight, grad=True)
    if got.get("grad_hidden") is None or got.get("grad_weight") is None:
        raise Fail("the rewards must be differentiable w.r.t. the hidden states and score.weight",
                   "no gradient came back from rewards.sum().backward()")
    want_h, want_w = oracle_grads(hidden, mask, weight)
    expect_close(got["grad_hidden"], want_h, "only the last real position of each row feeds the reward: its gradient "
                 "is score.weight there and 0 at every other position", rtol=1e-7, atol=1e-10,
                 what="d rewards.sum() / d hidden_states")
    expect_close(got["grad_weight"], want_w, "d rewards.sum() / d score.weight = the sum over rows of the hidden "
                 "state read", rtol=1e-7, atol=1e-10, what="d rewards.sum() / d score.weight")


@check("padding does not change a row's reward: padded in a batch = alone without padding")
def padding_invariance(run):
    hidden, mask, weight = batch(40, "mixed", B=5)
    together = run(V.rewards, hidden, mask, weight)["rewards"]
    expect_close(together, oracle_rewards(hidden, mask, weight), "reward[b] = score.weight . hidden_states[b, last[b]]",
                 rtol=1e-5, atol=1e-6, what="rewards of a padded batch")
    alone = []
    for b in range(5):
        real = mask[b].bool()
        got = run(V.rewards, hidden[b:b + 1, real], torch.ones(1, int(real.sum()), dtype=torch.long), weight)
        alone.append(expect_tensor(got["rewards"], "the rewards have shape (B,)", shape=(1,)))
    expect_close(together, torch.cat(alone), "a row's reward depends on its real tokens only: the same row, "
                 "unpadded and alone, scores the same", rtol=1e-5, atol=1e-6,
                 what="rewards of a padded batch, against each row alone")
