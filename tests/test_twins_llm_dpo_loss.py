"""Library twin of llm/dpo_loss: the reference and the grader's oracle agree with TRL's sigmoid DPO
loss (loss, rewards, gradients) on random inputs and through a toy language model.

TRL is not a dependency (and TRL 1.x has no standalone DPO loss function), so
``trl_dpo_compute_loss`` below re-states, in our own code, the default path of
``trl/trainer/dpo_trainer.py``, ``DPOTrainer._compute_loss`` (huggingface/trl, TRL 1.x) with
``loss_type="sigmoid"``, ``f_divergence_type="reverse_kl"``, ``loss_weights=[1.0]``, no ``ld_alpha``
and no weighting: per-token log-probs of the completion tokens are summed per sequence; the
batch is laid out [chosen; rejected] and split with ``chunk(2)``; ``delta_score`` is the chosen
log-ratio minus the rejected log-ratio; the loss is ``(-logsigmoid(beta * delta_score)).mean()``,
and the logged rewards are ``beta * logratio.detach()``.  (TRL before 1.0 had the same formula as
a method, ``DPOTrainer.dpo_loss``, returning per-pair losses and the rewards -- our contract.)
"""
import pytest
import torch
import torch.nn.functional as F

from mlkata.engine import load_module
from helpers import ROOT


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "llm" / "dpo_loss.py"), "twin_solution_llm_dpo_loss")


@pytest.fixture(scope="module")
def oracle():
    return load_module(str(ROOT / "graders" / "llm" / "dpo_loss.py"), "twin_grader_llm_dpo_loss")


def trl_dpo_compute_loss(logps: torch.Tensor, ref_logps: torch.Tensor, beta: float):
    """TRL's DPOTrainer._compute_loss from the per-sequence log-probs on: (loss, chosen_rewards, rejected_rewards)."""
    chosen_logps, rejected_logps = logps.chunk(2, dim=0)              # batch is [chosen; rejected]
    ref_chosen_logps, ref_rejected_logps = ref_logps.chunk(2, dim=0)
    chosen_logratios = chosen_logps - ref_chosen_logps
    rejected_logratios = rejected_logps - ref_rejected_logps
    delta_score = chosen_logratios - rejected_logratios               # reverse KL: scores are the log-ratios
    per_sequence_loss = -F.logsigmoid(beta * delta_score)
    loss = per_sequence_loss.mean() * 1.0                             # loss_weights = [1.0]
    return loss, beta * chosen_logratios.detach(), beta * rejected_logratios.detach()


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
