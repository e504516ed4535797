"""Library twin of llm/reward_model_loss: the reference and the grader's oracle agree with TRL's
reward-model loss (losses and gradients) on random inputs.

TRL 1.x has no standalone reward-loss function: the loss is inline in
``trl/trainer/reward_trainer.py``, ``RewardTrainer.compute_loss``.  ``trl_reward_compute_loss``
below runs that very method (TRL is in the test extra) on a stand-in trainer that holds only what
the method reads in evaluation mode, and a stand-in sequence-classification model whose score for
row i of the batch is ``scores[i]``.  What the method computes: the batch is laid out as
[chosen; rejected], the scores (2B, 1) are squeezed and split in half with ``torch.chunk``, and
the loss is ``-logsigmoid(chosen - rejected - margin).mean()``, where the optional per-pair
``margin`` comes from the batch (``DataCollatorForPreference`` builds it as a float tensor of
shape (B,)).
"""
import math
from collections import defaultdict
from types import SimpleNamespace

import pytest
import torch

from mlkata.engine import load_module
from helpers import ROOT

trl_reward_trainer = pytest.importorskip("trl.trainer.reward_trainer")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "llm" / "reward_model_loss.py"), "twin_solution_llm_reward_model_loss")


@pytest.fixture(scope="module")
def oracle():
    return load_module(str(ROOT / "graders" / "llm" / "reward_model_loss.py"), "twin_grader_llm_reward_model_loss")


def _stand_in_trainer() -> SimpleNamespace:
    """What ``RewardTrainer.compute_loss`` reads of ``self`` in evaluation mode, one process."""
    return SimpleNamespace(model=torch.nn.Module().eval(),
                           args=SimpleNamespace(center_rewards_coefficient=None),
                           accelerator=SimpleNamespace(gather=lambda t: t, gather_for_metrics=lambda t: t),
                           _metrics={"train": defaultdict(list), "eval": defaultdict(list)},
                           _total_train_tokens=0)


def trl_reward_compute_loss(scores: torch.Tensor, margin=None) -> torch.Tensor:
    """TRL's own ``RewardTrainer.compute_loss`` on a batch whose model scores are ``scores`` (2B, 1)."""
    def score_model(input_ids, **_):                  # row i of the batch scores scores[i]
        return SimpleNamespace(logits=scores[input_ids])
    inputs = {"input_ids": torch.arange(scores.shape[0])}
    if margin is not None:
        inputs["margin"] = margin
    return trl_reward_trainer.RewardTrainer.compute_loss(_stand_in_trainer(), score_model, inputs)


def random_case(seed, batch, dtype=torch.float64, with_margin=False, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    scores = (torch.randn(2 * batch, 1, generator=g, dtype=torch.float64) * scale).to(dtype)   # [chosen; rejected]
    margin = (torch.rand(batch, generator=g, dtype=torch.float64) * 2).to(dtype) if with_margin else None
    return scores, margin


def grads_of(fn, scores, margin):
    leaf = scores.clone().requires_grad_(True)
    m = margin.clone().requires_grad_(True) if margin is not None else None
    loss = fn(leaf, m)
    loss.backward()
    return loss.detach(), leaf.grad, (m.grad if m is not None else None)


CASES = [(seed, batch, with_margin) for seed, batch in [(0, 1), (1, 4), (2, 17), (3, 128)]
         for with_margin in (False, True)]


@pytest.mark.parametrize("seed,batch,with_margin", CASES)
def test_reference_agrees_with_trl_loss_and_gradients(ref, seed, batch, with_margin):
    scores, margin = random_case(seed, batch, with_margin=with_margin)

    def ours(s, m):
        chosen, rejected = torch.chunk(s.squeeze(-1), chunks=2)
        return ref.bradley_terry_loss(chosen, rejected, m)

    want = grads_of(trl_reward_compute_loss, scores, margin)
    got = grads_of(ours, scores, margin)
    for w, g in zip(want, got):
        if w is None:
            assert g is None
        else:
            torch.testing.assert_close(g, w, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("seed,batch,with_margin", CASES)
def test_grader_oracle_agrees_with_trl(oracle, seed, batch, with_margin):
    scores, margin = random_case(seed, batch, with_margin=with_margin)
    chosen, rejected = torch.chunk(scores.squeeze(-1), chunks=2)
    torch.testing.assert_close(oracle.torch_bt_loss(chosen, rejected, margin),
                               trl_reward_compute_loss(scores, margin), rtol=1e-12, atol=1e-14)
    loss, grads = oracle.torch_bt_with_grads(chosen, rejected, margin)
    _, g_scores, g_margin = grads_of(trl_reward_compute_loss, scores, margin)
    torch.testing.assert_close(torch.cat([grads["chosen"], grads["rejected"]]), g_scores.squeeze(-1))
    if margin is not None:
        torch.testing.assert_close(grads["margin"], g_margin)


def test_float_margin_matches_trl_constant_margin_tensor(ref):
    scores, _ = random_case(10, 8, dtype=torch.float32)
    chosen, rejected = torch.chunk(scores.squeeze(-1), chunks=2)
    torch.testing.assert_close(ref.bradley_terry_loss(chosen, rejected, 0.7),
                               trl_reward_compute_loss(scores, torch.full((8,), 0.7)))


def test_training_a_tiny_reward_model_matches_trl(ref):
    """The same linear reward head trained three SGD steps with either loss ends at the same weights."""
    g = torch.Generator().manual_seed(20)
    features = torch.randn(2 * 16, 8, generator=g, dtype=torch.float64)     # [chosen; rejected] response features
    margin = torch.rand(16, generator=g, dtype=torch.float64)
    heads = []
    for use_trl in (True, False):
        torch.manual_seed(21)
        head = torch.nn.Linear(8, 1, dtype=torch.float64)
        for _ in range(3):
            scores = head(features)                                           # (2B, 1)
            if use_trl:
                loss = trl_reward_compute_loss(scores, margin)
            else:
                chosen, rejected = torch.chunk(scores.squeeze(-1), chunks=2)
                loss = ref.bradley_terry_loss(chosen, rejected, margin)
            head.zero_grad()
            loss.backward()
            with torch.no_grad():                                             # plain SGD, lr 0.5
                for p in head.parameters():
                    p -= 0.5 * p.grad
        heads.append(head)
    torch.testing.assert_close(heads[1].weight, heads[0].weight, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(heads[1].bias, heads[0].bias, rtol=1e-12, atol=1e-14)


def test_extreme_gaps_match_trl_and_stay_finite(ref):
    scores = torch.tensor([[0.0], [1e4], [-5e3], [1e4], [0.0], [5e3]])        # gaps -1e4, 1e4, -1e4
    want = grads_of(trl_reward_compute_loss, scores, None)
    got = grads_of(lambda s, m: ref.bradley_terry_loss(*torch.chunk(s.squeeze(-1), chunks=2)), scores, None)
    assert torch.isfinite(got[0]) and torch.isfinite(got[1]).all()
    torch.testing.assert_close(got[0], want[0])
    torch.testing.assert_close(got[1], want[1])


def test_preference_probability_is_the_likelihood_the_loss_maximises(ref):
    """For one pair, exp(-loss) is the Bradley-Terry probability that the chosen response wins."""
    g = torch.Generator().manual_seed(30)
    for _ in range(20):
        c, r = torch.randn(2, 1, generator=g, dtype=torch.float64).unbind(0)
        c, r = c * 4, r * 4
        assert math.isclose(math.exp(-float(ref.bradley_terry_loss(c, r))), float(ref.preference_probability(c, r)),
                            rel_tol=1e-12)
