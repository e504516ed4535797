"""Library twin of llm/dpo_loss: the reference and the grader's oracle agree with TRL's sigmoid DPO
loss (loss, rewards, gradients) on random inputs and through a toy language model.

TRL 1.x has no standalone DPO loss function: the loss is inline in ``trl/trainer/dpo_trainer.py``,
``DPOTrainer._compute_loss``.  ``trl_dpo_compute_loss`` below runs that very method (TRL is in the
test extra) on a stand-in trainer holding the settings of TRL's defaults (``loss_type="sigmoid"``,
``f_divergence_type="reverse_kl"``, ``loss_weights=[1.0]``, no ``ld_alpha``, no weighting, reference
log-probs precomputed -- the first test pins these against ``DPOConfig``) and a stand-in model whose
per-token log-probs are the given sequence log-probs.  What the method computes: per-token log-probs
of the completion tokens summed per sequence; the batch laid out [chosen; rejected] and split with
``chunk(2)``; ``delta_score`` = chosen log-ratio - rejected log-ratio; the loss
``(-logsigmoid(beta * delta_score)).mean()``; the logged rewards ``beta * logratio.detach()``, as
batch means only -- so per-pair rewards come from one call per pair.  (TRL before 1.0 had the same
formula as a method, ``DPOTrainer.dpo_loss``, returning per-pair losses and the rewards -- our
contract.)
"""
from collections import defaultdict
from types import SimpleNamespace

import pytest
import torch

from mlkata.engine import load_module
from helpers import ROOT

trl_dpo_trainer = pytest.importorskip("trl.trainer.dpo_trainer")
DEFAULTS = dict(loss_types=["sigmoid"], loss_weights=[1.0], f_divergence_type="reverse_kl", ld_alpha=None,
                use_weighting=False)


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "llm" / "dpo_loss.py"), "twin_solution_llm_dpo_loss")


@pytest.fixture(scope="module")
def oracle():
    return load_module(str(ROOT / "graders" / "llm" / "dpo_loss.py"), "twin_grader_llm_dpo_loss")


def _stand_in_trainer(beta: float) -> SimpleNamespace:
    """What ``DPOTrainer._compute_loss`` reads of ``self``: TRL's default settings, evaluation mode,
    one process, reference log-probs precomputed."""
    return SimpleNamespace(**DEFAULTS, beta=beta, label_smoothing=0.0, precompute_ref_logps=True,
                           aux_loss_enabled=False, model=torch.nn.Module().eval(),
                           accelerator=SimpleNamespace(device=torch.device("cpu"), gather=lambda t: t,
                                                       gather_for_metrics=lambda t: t),
                           _metrics={"train": defaultdict(list), "eval": defaultdict(list)},
                           _total_train_tokens=0)


def _trl_dpo(logps: torch.Tensor, ref_logps: torch.Tensor, beta: float):
    """One call of TRL's own ``DPOTrainer._compute_loss``: (loss, its logged metrics)."""
    n = logps.shape[0]                                                   # 2B sequences: [chosen; rejected]

    def language_model(input_ids, **_):
        # one completion token per sequence (T = 2: the prompt token, then the completion): its
        # log-prob is the sequence's log-prob
        per_token = logps[input_ids[:, 0]].unsqueeze(1)                 # (2B, 1)
        zeros = torch.zeros_like(per_token)
        return SimpleNamespace(log_probs=per_token, entropy=zeros, mean_logits=zeros, is_top1=zeros.bool())

    ref_chosen, ref_rejected = ref_logps.chunk(2)
    inputs = {"input_ids": torch.arange(n)[:, None].expand(n, 2), "completion_mask": torch.ones(n, 2, dtype=torch.long),
              "ref_chosen_logps": ref_chosen, "ref_rejected_logps": ref_rejected}
    trainer = _stand_in_trainer(beta)
    loss = trl_dpo_trainer.DPOTrainer._compute_loss(trainer, language_model, inputs, return_outputs=False)
    return loss, trainer._metrics["eval"]


def trl_dpo_compute_loss(logps: torch.Tensor, ref_logps: torch.Tensor, beta: float):
    """TRL's sigmoid DPO from the per-sequence log-probs on: (loss, chosen_rewards, rejected_rewards)."""
    loss, _ = _trl_dpo(logps, ref_logps, beta)
    rewards = []
    for pair in range(logps.shape[0] // 2):
        pick = torch.tensor([pair, pair + logps.shape[0] // 2])
        _, logged = _trl_dpo(logps.detach()[pick], ref_logps.detach()[pick], beta)
        rewards.append((logged["rewards/chosen"][0], logged["rewards/rejected"][0]))
    chosen, rejected = torch.tensor(rewards, dtype=logps.dtype).reshape(-1, 2).unbind(1)
    return loss, chosen, rejected


def test_the_stand_in_holds_trls_default_dpo_settings():
    """The stand-in's settings are DPOConfig's defaults (read off its fields: building a config
    would set up training, bf16 included)."""
    import dataclasses
    from trl import DPOConfig
    defaults = {f.name: f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
                for f in dataclasses.fields(DPOConfig)}
    assert defaults["loss_type"] == DEFAULTS["loss_types"]
    assert defaults["loss_weights"] in (None, DEFAULTS["loss_weights"])     # None: each loss weighs 1.0
    assert (defaults["f_divergence_type"], defaults["ld_alpha"], defaults["use_weighting"]) == \
        (DEFAULTS["f_divergence_type"], DEFAULTS["ld_alpha"], DEFAULTS["use_weighting"])
    assert defaults["precompute_ref_log_probs"] is False   # TRL's default runs the reference model; same formula


def trl_sequence_logps(logits: torch.Tensor, input_ids: torch.Tensor, completion_mask: torch.Tensor) -> torch.Tensor:
    """TRL's per-sequence log-prob (its selective_log_softmax is this gather): shift by one, log-softmax at
    the next token, zero the prompt and padding positions, sum over T."""
    shift_logits = logits[:, :-1, :]                                   # (2B, T-1, V)
    shift_labels = input_ids[:, 1:]                                    # (2B, T-1)
    per_token = torch.gather(shift_logits.log_softmax(-1), 2, shift_labels.unsqueeze(-1)).squeeze(-1)
    per_token = per_token.masked_fill(completion_mask[:, 1:] == 0, 0.0)
    return per_token.sum(dim=1)                                        # (2B,)


def random_logps(seed, batch, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    logps = -torch.rand(2 * batch, generator=g, dtype=torch.float64) * 300 - 1      # [chosen; rejected]
    ref_logps = logps + torch.randn(2 * batch, generator=g, dtype=torch.float64) * 10
    return logps.to(dtype), ref_logps.to(dtype)


def ours_as_trl(ref_module, logps, ref_logps, beta):
    pc, pr = logps.chunk(2)
    rc, rr = ref_logps.chunk(2)
    losses, chosen_r, rejected_r = ref_module.dpo_loss(pc, pr, rc, rr, beta=beta)
    return losses, chosen_r, rejected_r


CASES = [(seed, batch, beta) for seed, batch in [(0, 1), (1, 5), (2, 64)] for beta in (0.05, 0.1, 0.5, 2.0)]


@pytest.mark.parametrize("seed,batch,beta", CASES)
def test_reference_agrees_with_trl(ref, seed, batch, beta):
    logps, ref_logps = random_logps(seed, batch)
    leaves_trl = [logps.clone().requires_grad_(True), ref_logps.clone().requires_grad_(True)]
    leaves_ours = [logps.clone().requires_grad_(True), ref_logps.clone().requires_grad_(True)]
    loss, want_c, want_r = trl_dpo_compute_loss(*leaves_trl, beta)
    loss.backward()
    losses, got_c, got_r = ours_as_trl(ref, *leaves_ours, beta)
    assert losses.shape == (batch,)
    losses.mean().backward()                                           # TRL reduces the per-pair losses by the mean
    torch.testing.assert_close(losses.mean(), loss, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(got_c, want_c, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(got_r, want_r, rtol=1e-12, atol=1e-12)
    assert not got_c.requires_grad and not got_r.requires_grad and not want_c.requires_grad
    for ours, theirs in zip(leaves_ours, leaves_trl):                 # gradients w.r.t. policy and reference logps
        torch.testing.assert_close(ours.grad, theirs.grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("seed,batch,beta", CASES)
def test_grader_oracle_agrees_with_trl(oracle, seed, batch, beta):
    logps, ref_logps = random_logps(seed, batch)
    pc, pr = logps.chunk(2)
    rc, rr = ref_logps.chunk(2)
    (losses, chosen_r, rejected_r), grads = oracle.oracle_with_grads([pc, pr, rc, rr], beta)
    loss, want_c, want_r = trl_dpo_compute_loss(logps, ref_logps, beta)
    torch.testing.assert_close(losses.mean(), loss, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(chosen_r, want_c)
    torch.testing.assert_close(rejected_r, want_r)
    leaves = [logps.clone().requires_grad_(True), ref_logps.clone().requires_grad_(True)]
    (trl_dpo_compute_loss(*leaves, beta)[0] * batch).backward()      # the oracle differentiates losses.sum()
    torch.testing.assert_close(torch.cat(grads[:2]), leaves[0].grad, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(torch.cat(grads[2:]), leaves[1].grad, rtol=1e-10, atol=1e-14)


class ToyLM(torch.nn.Module):
    """Embedding + a linear layer over the running mean of the prefix: a tiny causal language model."""

    def __init__(self, vocab=11, dim=6, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.emb = torch.nn.Parameter(torch.randn(vocab, dim, generator=g, dtype=torch.float64))
        self.out = torch.nn.Parameter(torch.randn(dim, vocab, generator=g, dtype=torch.float64) * 0.5)

    def forward(self, input_ids):
        x = self.emb[input_ids]                                                     # (N, T, D)
        causal_mean = x.cumsum(1) / torch.arange(1, x.shape[1] + 1, dtype=x.dtype)[:, None]
        return causal_mean @ self.out                                               # (N, T, V)


def test_through_a_toy_language_model(ref):
    """Sequence log-probs computed as TRL does; our per-pair losses, averaged, give TRL's loss,
    the same gradient on every policy parameter, and the same logged rewards and margins."""
    B, T, prompt = 6, 9, 3
    g = torch.Generator().manual_seed(40)
    input_ids = torch.randint(0, 11, (2 * B, T), generator=g)                       # [chosen; rejected]
    input_ids[B:, :prompt] = input_ids[:B, :prompt]                                 # same prompt per pair
    lengths = torch.randint(prompt + 1, T + 1, (2 * B,), generator=g)
    positions = torch.arange(T)[None, :]
    completion_mask = ((positions >= prompt) & (positions < lengths[:, None])).long()
    policy, reference = ToyLM(seed=1), ToyLM(seed=2)
    with torch.no_grad():
        ref_logps = trl_sequence_logps(reference(input_ids), input_ids, completion_mask)

    results = []
    for use_trl in (True, False):
        policy.zero_grad()
        logps = trl_sequence_logps(policy(input_ids), input_ids, completion_mask)
        if use_trl:
            loss, chosen_r, rejected_r = trl_dpo_compute_loss(logps, ref_logps, beta=0.1)
        else:
            losses, chosen_r, rejected_r = ours_as_trl(ref, logps, ref_logps, 0.1)
            loss = losses.mean()
        loss.backward()
        results.append((loss.detach(), chosen_r, rejected_r, [p.grad.clone() for p in policy.parameters()]))
    (l_trl, c_trl, r_trl, g_trl), (l_ours, c_ours, r_ours, g_ours) = results
    torch.testing.assert_close(l_ours, l_trl, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(c_ours, c_trl)
    torch.testing.assert_close(r_ours, r_trl)
    torch.testing.assert_close((c_ours > r_ours).float().mean(), (c_trl > r_trl).float().mean())  # rewards/accuracies
    for a, b in zip(g_ours, g_trl):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("beta", [1.0, 0.1])
def test_extreme_logratios_match_trl_and_stay_finite(ref, beta):
    logps = torch.tensor([-1.2e4, -50.0, -80.0, -1.0e4])                # [chosen; rejected], float32
    ref_logps = torch.tensor([-2.0e3, -40.0, -80.0, -40.0])             # delta scores -1e4 and +1e4
    leaves_trl = [logps.clone().requires_grad_(True), ref_logps.clone().requires_grad_(True)]
    leaves_ours = [logps.clone().requires_grad_(True), ref_logps.clone().requires_grad_(True)]
    loss, _, _ = trl_dpo_compute_loss(*leaves_trl, beta)
    loss.backward()
    losses, _, _ = ours_as_trl(ref, *leaves_ours, beta)
    losses.mean().backward()
    assert torch.isfinite(losses).all()
    torch.testing.assert_close(losses.mean(), loss)
    for ours, theirs in zip(leaves_ours, leaves_trl):
        assert torch.isfinite(ours.grad).all()
        torch.testing.assert_close(ours.grad, theirs.grad)
