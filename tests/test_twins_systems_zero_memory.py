"""Twin of systems/zero_memory.  No library computes the paper's per-stage table, so the twin
measures what it counts: a mixed-precision Adam step in torch holds fp16 parameters and gradients
(2 + 2 bytes per parameter) and, on the fp32 master copy, ``torch.optim.Adam``'s ``exp_avg`` and
``exp_avg_sq`` (4 + 4 + 4 = 12 bytes: K); sharding every tensor of that state with
``torch.tensor_split``-style padding to ``ceil(Psi / N)`` gives the reference's per-GPU bytes for each
stage.  Also pinned: Table 1 of Rajbhandari et al. (2020), 7.5 B parameters on 64 GPUs."""
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "systems" / "zero_memory.py"), "_twin_ref_zero_memory")
GRADER = load_module(str(ROOT / "graders" / "systems" / "zero_memory.py"), "_twin_grader_zero_memory")


def measured_state(num_params):
    """nbytes of each kind of model state after one mixed-precision Adam step on a flat model."""
    model = torch.zeros(num_params, dtype=torch.float16, requires_grad=True)      # fp16 working parameters
    (model.float() * torch.linspace(-1, 1, num_params)).sum().backward()          # fp16 gradients
    master = model.detach().float().requires_grad_(True)                          # fp32 master copy
    opt = torch.optim.Adam([master])
    master.grad = model.grad.float()
    opt.step()
    state = opt.state[master]
    optimizer = master.nbytes + state["exp_avg"].nbytes + state["exp_avg_sq"].nbytes
    return {"params": model.nbytes, "grads": model.grad.nbytes, "optimizer": optimizer}


@pytest.mark.parametrize("num_params,world", [(1000, 4), (1001, 4), (37, 8), (4096, 1)])
@pytest.mark.parametrize("stage", [0, 1, 2, 3])
def test_per_gpu_bytes_match_a_measured_adam_state(num_params, world, stage):
    full = measured_state(num_params)
    shard = measured_state(-(-num_params // world))              # one rank's padded shard of every tensor
    partitioned = {"params": stage >= 3, "grads": stage >= 2, "optimizer": stage >= 1}
    want = {k: shard[k] if partitioned[k] else full[k] for k in full}
    want["total"] = sum(want.values())
    assert REF.model_state_bytes(num_params, world, stage) == want
    assert GRADER.V.states_oracle(num_params, world, stage) == want


def test_table_one_of_the_paper():
    gb = [REF.model_state_bytes(7_500_000_000, 64, s)["total"] / 1e9 for s in range(4)]
    assert gb == pytest.approx([120.0, 31.4, 16.6, 1.88], abs=0.05)


def test_max_params_agrees_with_the_grader():
    for memory, n, stage in ((80 * 10 ** 9, 1024, 3), (10 ** 7 + 3, 3, 1), (16, 1, 0)):
        assert REF.max_params(memory, n, stage) == GRADER.max_params_oracle(memory, n, stage)
