# CORRECT, written differently: each rank holds a Python list of chunk tensors (tensor_split), a step
# is a list of messages built first and delivered after, buffers are re-assembled with torch.cat;
# the cost model counts the chunks each rank sends explicitly.
import torch


def chunk_bounds(numel, world):
    sizes = [numel // world + (c < numel % world) for c in range(world)]
    ends = [sum(sizes[:c + 1]) for c in range(world)]
    return [(e - s, e) for s, e in zip(sizes, ends)]


def _split(buffers):
    return [[c.clone() for c in b.tensor_split(len(buffers))] for b in buffers]


def _ring(chunks, first_chunk, combine):
    W = len(chunks)
    log = []
    for s in range(W - 1):
        messages = [(r, (r + 1) % W, (first_chunk(r) - s) % W, chunks[r][(first_chunk(r) - s) % W].clone())
                    for r in range(W)]
        for src, dst, c, data in messages:
            chunks[dst][c] = combine(chunks[dst][c], data)
        log.append([(src, dst, c) for src, dst, c, _ in messages])
    return log


def ring_reduce_scatter(buffers):
    chunks = _split(buffers)
    log = _ring(chunks, lambda r: r, lambda mine, got: mine + got)
    return [torch.cat(c) for c in chunks], log


def ring_all_gather(buffers):
    chunks = _split(buffers)
    log = _ring(chunks, lambda r: r + 1, lambda mine, got: got)
    return [torch.cat(c) for c in chunks], log


def ring_all_reduce(buffers, op="sum"):
    if op not in ("sum", "mean"):
        raise ValueError(op)
    W = len(buffers)
    reduced, log1 = ring_reduce_scatter(buffers)
    if op == "mean":
        chunks = _split(reduced)
        for r in range(W):
            chunks[r][(r + 1) % W] = chunks[r][(r + 1) % W] / W
        reduced = [torch.cat(c) for c in chunks]
    out, log2 = ring_all_gather(reduced)
    return out, log1 + log2


def ring_cost(numel, world, bytes_per_element, bandwidth, latency):
    sizes = [e - s for s, e in chunk_bounds(numel, world)]
    sent = [0] * world
    for r in range(world):
        for s in range(world - 1):
            sent[r] += sizes[(r - s) % world] + sizes[(r + 1 - s) % world]
    sent = [n * bytes_per_element for n in sent]
    steps = 2 * (world - 1)
    return {"steps": steps, "bytes_sent": sent,
            "seconds": steps * (latency + max(sizes) * bytes_per_element / bandwidth) if steps else 0.0}
