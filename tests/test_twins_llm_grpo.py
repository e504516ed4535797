"""Library twin of llm/grpo: the reference and the grader's oracles agree with TRL 1.16 --

* the loss and its logged clip ratio: ``GRPOTrainer._compute_loss`` itself, run on a stand-in
  trainer (the settings of GRPOConfig's defaults, pinned by the first test, evaluation mode so no
  gradient-accumulation divisor) whose model returns the given per-token log-probs -- with one
  setting changed: ``use_bias_correction_kl=False``, the paper's KL term (TRL 1.16's default
  multiplies it by the ratio rho, which is 1 in the usual single-iteration, on-policy step);
* the advantages: TRL's own lines of ``GRPOTrainer._generate_and_score_completions`` (the block
  from the group mean to the division by ``std + 1e-4``), cut out of its source and executed with
  ``trl.trainer.utils.nanstd`` -- the method itself needs a whole generation pipeline;
* the completion log-probs: ``trl.trainer.utils.selective_log_softmax`` on the shifted logits
  divided by the temperature, as ``_get_per_token_logps_and_entropies`` calls it.
"""
import dataclasses
import inspect
import textwrap
from collections import defaultdict
from types import SimpleNamespace

import pytest
import torch

from mlkata.engine import load_module
from helpers import ROOT

grpo_trainer = pytest.importorskip("trl.trainer.grpo_trainer")
trl_utils = pytest.importorskip("trl.trainer.utils")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "llm" / "grpo.py"), "twin_solution_llm_grpo")


@pytest.fixture(scope="module")
def oracle():
    return load_module(str(ROOT / "graders" / "llm" / "grpo.py"), "twin_grader_llm_grpo")


def config_defaults() -> dict:
    from trl import GRPOConfig
    return {f.name: f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            for f in dataclasses.fields(GRPOConfig)}


def test_stand_in_uses_grpo_configs_defaults():
    d = config_defaults()
    assert (d["loss_type"], d["beta"], d["epsilon"], d["epsilon_high"], d["importance_sampling_level"]) == \
        ("dapo", 0.0, 0.2, None, "token")
    assert d["scale_rewards"] == "group" and d["top_entropy_quantile"] == 1.0 and d["delta"] is None
    assert d["off_policy_mask_threshold"] is None
    # TRL's default also multiplies the KL term by rho (an importance-sampling correction); the exercise
    # follows the paper's k3 term, which is TRL with use_bias_correction_kl=False (set in the stand-in)
    assert d["use_bias_correction_kl"] is True


# --------------------------------------------------------------------------------------------
# The loss: TRL's _compute_loss on a stand-in trainer
# --------------------------------------------------------------------------------------------

class Accelerator:
    num_processes = 1
    sync_gradients = True

    def gather(self, t):
        return t

    def reduce(self, t, reduction="sum"):
        return t


def stand_in(loss_type, beta, epsilon, epsilon_high, max_completion_length, logps):
    d = config_defaults()
    trainer = SimpleNamespace(
        loss_type=loss_type, beta=beta, epsilon_low=epsilon,
        epsilon_high=epsilon if epsilon_high is None else epsilon_high,
        importance_sampling_level=d["importance_sampling_level"], top_entropy_quantile=d["top_entropy_quantile"],
        off_policy_mask_threshold=d["off_policy_mask_threshold"], use_vllm=False, aux_loss_enabled=False,
        _entropy_bonus_enabled=False, model=torch.nn.Module().eval(), current_gradient_accumulation_steps=1,
        max_completion_length=max_completion_length, accelerator=Accelerator(),
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)},
        args=SimpleNamespace(use_bias_correction_kl=False, delta=d["delta"]))
    trainer._get_per_token_logps_and_entropies = lambda *a, **k: (logps, torch.zeros_like(logps), None)
    return trainer


def trl_loss(logps, old, ref_logps, adv, mask, epsilon=0.2, epsilon_high=None, beta=0.0, loss_type="grpo",
             max_completion_length=None):
    N, C = logps.shape
    trainer = stand_in(loss_type, beta, epsilon, epsilon_high, max_completion_length or C, logps)
    inputs = {"prompt_ids": torch.zeros(N, 1, dtype=torch.long), "prompt_mask": torch.ones(N, 1, dtype=torch.long),
              "completion_ids": torch.zeros(N, C, dtype=torch.long), "completion_mask": mask,
              "advantages": adv, "old_per_token_logps": old, "ref_per_token_logps": ref_logps,
              "num_items_in_batch": mask.sum()}
    loss = grpo_trainer.GRPOTrainer._compute_loss(trainer, None, inputs)
    return loss, trainer._metrics["eval"]["clip_ratio/region_mean"][-1]


CASES = [(seed, loss_type, options) for seed in (0, 1) for loss_type in ("grpo", "bnpo", "dr_grpo")
         for options in ({}, {"beta": 0.04}, {"epsilon": 0.1, "epsilon_high": 0.28}, {"beta": 0.1, "epsilon": 0.3})]


@pytest.mark.parametrize("seed,loss_type,options", CASES)
def test_loss_gradient_and_clip_ratio_agree_with_trl(ref, oracle, seed, loss_type, options):
    logps, old, ref_logps, adv, mask = oracle.rollout(seed, drift=0.4)
    leaf_trl, leaf_ours = logps.clone().requires_grad_(True), logps.clone().requires_grad_(True)
    want, want_clip = trl_loss(leaf_trl, old, ref_logps, adv, mask, loss_type=loss_type, **options)
    want.backward()
    got, got_clip = ref.grpo_loss(leaf_ours, old, ref_logps if options.get("beta") else None, adv, mask,
                                  loss_type=loss_type, **options)
    got.backward()
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(leaf_ours.grad, leaf_trl.grad, rtol=1e-10, atol=1e-14)
    # TRL averages the clip indicator in float32 (is_region_clipped.float())
    assert got_clip.item() == pytest.approx(want_clip, abs=1e-7) and not got_clip.requires_grad
    o_loss, o_clip = oracle.oracle_loss(logps, old, ref_logps, adv, mask, loss_type=loss_type, **options)
    torch.testing.assert_close(o_loss, want.detach(), rtol=1e-12, atol=1e-14)
    assert o_clip.item() == pytest.approx(want_clip, abs=1e-7)


def test_dr_grpo_with_an_explicit_max_completion_length(ref, oracle):
    logps, old, ref_logps, adv, mask = oracle.rollout(5)
    want, _ = trl_loss(logps, old, ref_logps, adv, mask, loss_type="dr_grpo", max_completion_length=16)
    got, _ = ref.grpo_loss(logps, old, None, adv, mask, loss_type="dr_grpo", max_completion_length=16)
    torch.testing.assert_close(got, want)


# --------------------------------------------------------------------------------------------
# The advantages: TRL's own lines, cut out of its source
# --------------------------------------------------------------------------------------------

FIRST = "mean_grouped_rewards = torch.nanmean(rewards.view(-1, num_generations), dim=1)"
LAST = "is_std_zero = torch.isclose(std_rewards, torch.zeros_like(std_rewards))"


def trl_advantage_block() -> str:
    src = inspect.getsource(grpo_trainer.GRPOTrainer._generate_and_score_completions)
    start = src.index(FIRST)
    end = src.index(LAST, start)
    lines = src[src.rindex("\n", 0, start) + 1:end].rstrip()
    return textwrap.dedent(lines)


def trl_group_advantages(rewards, num_generations, scale):
    namespace = {"torch": torch, "nanstd": trl_utils.nanstd, "rewards": rewards.clone(),
                 "num_generations": num_generations, "self": SimpleNamespace(scale_rewards=scale)}
    exec(trl_advantage_block(), namespace)          # noqa: S102 - TRL's own code, from its installed source
    return namespace["advantages"]


def test_the_cut_out_block_is_trls_advantage_computation():
    block = trl_advantage_block()
    assert block.startswith(FIRST) and "advantages = rewards - mean_grouped_rewards" in block
    assert "advantages = advantages / (std_rewards + 1e-4)" in block


@pytest.mark.parametrize("scale", ["group", "batch", "none"])
@pytest.mark.parametrize("seed,N,G", [(0, 8, 4), (1, 12, 3), (2, 16, 8), (3, 6, 2)])
def test_advantages_agree_with_trl(ref, oracle, scale, seed, N, G):
    g = torch.Generator().manual_seed(seed)
    rewards = torch.randint(0, 3, (N,), generator=g).double() + torch.rand(N, generator=g, dtype=torch.float64) * \
        (seed % 2)                                                      # even seeds: ties and constant groups
    want = trl_group_advantages(rewards, G, scale)
    # TRL's nanstd computes Bessel's factor count / (count - 1) from int64 counts, in float32: ~1e-8 relative
    torch.testing.assert_close(ref.group_advantages(rewards, G, scale=scale), want, rtol=1e-7, atol=1e-9)
    torch.testing.assert_close(oracle.oracle_advantages(rewards, G, scale), want, rtol=1e-7, atol=1e-9)


# --------------------------------------------------------------------------------------------
# The log-probs: selective_log_softmax on the shifted, tempered logits
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("temperature", [1.0, 0.7, 1.5])
def test_completion_logps_agree_with_trls_selective_log_softmax(ref, oracle, temperature):
    g = torch.Generator().manual_seed(int(temperature * 10))
    logits = torch.randn(3, 9, 13, generator=g, dtype=torch.float64) * 3
    ids = torch.randint(13, (3, 5), generator=g)
    shifted = logits[:, :-1][:, -5:] / temperature                 # TRL: logits[:, :-1], keep the last C, / T
    want = trl_utils.selective_log_softmax(shifted, ids)
    torch.testing.assert_close(ref.completion_logps(logits, ids, temperature), want)
    torch.testing.assert_close(oracle.oracle_logps(logits, ids, temperature), want)
