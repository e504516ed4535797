"""One rank of the gloo twin of systems/ring_allreduce (tests/test_twins_systems_ring_allreduce.py
starts four of these): ``python gloo_ring_worker.py RANK WORLD PORT``.  Runs all_reduce,
reduce_scatter and all_gather on sub-groups of 2, 3 and all ranks over 127.0.0.1 and prints one
JSON line of plain lists."""
import json
import sys

import torch
import torch.distributed as dist

LENGTHS = {2: 7, 3: 11, 4: 10}      # uneven for the all-reduce
RS_LENGTHS = {2: 6, 3: 9, 4: 12}    # divisible for gloo's reduce_scatter (equal-size chunks)


def buffer(world, rank, n, salt):
    """Rank ``rank``'s buffer, the same in the workers and in the test (float64)."""
    return torch.randn(n, generator=torch.Generator().manual_seed(1000 * salt + 10 * world + rank),
                       dtype=torch.float64)


def main(rank, world, port):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    out = {}
    try:
        groups = {2: dist.new_group([0, 1]), 3: dist.new_group([0, 1, 2]), 4: dist.group.WORLD}
        for w, group in groups.items():
            if rank >= w:
                continue
            t = buffer(w, rank, LENGTHS[w], 1)
            dist.all_reduce(t, op=dist.ReduceOp.SUM, group=group)
            out[f"all_reduce_{w}"] = t.tolist()
            n = RS_LENGTHS[w]
            mine = torch.empty(n // w, dtype=torch.float64)
            dist.reduce_scatter(mine, list(buffer(w, rank, n, 2).tensor_split(w)), op=dist.ReduceOp.SUM, group=group)
            out[f"reduce_scatter_{w}"] = mine.tolist()
            gathered = [torch.empty(n // w, dtype=torch.float64) for _ in range(w)]
            dist.all_gather(gathered, mine, group=group)
            out[f"all_gather_{w}"] = torch.cat(gathered).tolist()
    finally:
        dist.destroy_process_group()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
