"""Library twin of systems/ring_allreduce: torch.distributed's gloo collectives, run by real
processes on 127.0.0.1, agree with the reference's simulated ring (and the grader's simulation):

* ``all_reduce`` (SUM, and SUM / W for "mean") on uneven lengths, for W = 2, 3 and 4;
* ``reduce_scatter``: gloo's rank c receives the reduced chunk c, which the ring leaves on rank
  (c - 1) mod W (the chunk it owns);
* ``all_gather`` of the owned chunks rebuilds the reduced buffer.

Four worker processes (tests/gloo_ring_worker.py) serve every world size (sub-groups of ranks
[0, 1] and [0, 1, 2]); the test starts them itself, gives them a deadline, and kills any that remain."""
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from mlkata.engine import load_module

dist = pytest.importorskip("torch.distributed")
if not dist.is_available() or not dist.is_gloo_available():
    pytest.skip("torch.distributed with the gloo backend is not available", allow_module_level=True)

ROOT = Path(__file__).resolve().parent.parent
REF = load_module(str(ROOT / "solutions" / "systems" / "ring_allreduce.py"), "_twin_ref_ring_allreduce")
GRADER = load_module(str(ROOT / "graders" / "systems" / "ring_allreduce.py"), "_twin_grader_ring_allreduce")

WORLD = 4
DEADLINE_S = 300          # 4 interpreters importing torch take ~10-45 s on a loaded 2-core machine
WORKER = Path(__file__).resolve().parent / "gloo_ring_worker.py"
worker = load_module(str(WORKER), "_twin_gloo_ring_worker")
buffer, LENGTHS, RS_LENGTHS = worker.buffer, worker.LENGTHS, worker.RS_LENGTHS


@pytest.fixture(scope="module")
def gloo_results():
    """Start WORLD worker processes on 127.0.0.1, wait for their JSON lines (bounded), kill leftovers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(r), str(WORLD), str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in range(WORLD)]
    deadline = time.monotonic() + DEADLINE_S
    got = {}
    try:
        for rank, p in enumerate(procs):
            out, err = p.communicate(timeout=max(1.0, deadline - time.monotonic()))
            assert p.returncode == 0, f"gloo worker {rank} failed (exit {p.returncode}):\n{err[-2000:]}"
            got[rank] = json.loads(out.strip().splitlines()[-1])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=10)
    return got


@pytest.mark.parametrize("w", [2, 3, 4])
def test_all_reduce_matches_gloo(gloo_results, w):
    buffers = [buffer(w, r, LENGTHS[w], 1) for r in range(w)]
    after, _ = REF.ring_all_reduce(buffers)
    simulated, _ = GRADER.V.simulate(buffers, "all_reduce")
    for r in range(w):
        want = torch.tensor(gloo_results[r][f"all_reduce_{w}"], dtype=torch.float64)
        torch.testing.assert_close(after[r], want, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(simulated[r], want, rtol=1e-12, atol=1e-12)
    mean, _ = REF.ring_all_reduce(buffers, op="mean")
    torch.testing.assert_close(mean[0], torch.tensor(gloo_results[0][f"all_reduce_{w}"], dtype=torch.float64) / w,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("w", [2, 3, 4])
def test_reduce_scatter_and_all_gather_match_gloo(gloo_results, w):
    n = RS_LENGTHS[w]
    buffers = [buffer(w, r, n, 2) for r in range(w)]
    owned, _ = REF.ring_reduce_scatter(buffers)
    bounds = REF.chunk_bounds(n, w)
    for c in range(w):
        s, e = bounds[c]
        want = torch.tensor(gloo_results[c][f"reduce_scatter_{w}"], dtype=torch.float64)
        torch.testing.assert_close(owned[(c - 1) % w][s:e], want, rtol=1e-12, atol=1e-12)
    gathered, _ = REF.ring_all_gather(owned)
    for r in range(w):
        want = torch.tensor(gloo_results[r][f"all_gather_{w}"], dtype=torch.float64)
        torch.testing.assert_close(gathered[r], want, rtol=1e-12, atol=1e-12)
