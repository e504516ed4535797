# CORRECT, written differently: a table of every weight matrix's (rows, cols) drives both the parameter count and the matmul FLOPs; the cache and batch computed from a per-token cache size.
from dataclasses import dataclass


@dataclass
class Shape:
    vocab_size: int
    n_layer: int
    d_model: int
    n_head: int
    n_kv_head: int
    d_ff: int
    gated_mlp: bool = True
    tied_embeddings: bool = False


def _layer_matrices(s):
    d, kv = s.d_model, s.n_kv_head * (s.d_model // s.n_head)
    mats = [(d, d), (d, kv), (d, kv), (d, d), (d, s.d_ff), (s.d_ff, d)]
    if s.gated_mlp:
        mats.append((d, s.d_ff))
    return mats


def param_count(shape):
    layer = sum(a * b for a, b in _layer_matrices(shape)) + 2 * shape.d_model
    embeddings = shape.vocab_size * shape.d_model * (1 if shape.tied_embeddings else 2)
    return embeddings + shape.n_layer * layer + shape.d_model


def forward_flops(shape, batch, seq_len):
    per_token = shape.n_layer * sum(a * b for a, b in _layer_matrices(shape)) + shape.d_model * shape.vocab_size
    head_dim = shape.d_model // shape.n_head
    attention = shape.n_layer * 2 * (2 * batch * shape.n_head * seq_len ** 2 * head_dim)
    return 2 * batch * seq_len * per_token + attention


def training_flops(shape, batch, seq_len):
    f = forward_flops(shape, batch, seq_len)
    return f + 2 * f


def kv_cache_bytes(shape, batch, seq_len, bytes_per_value=2):
    per_token = 2 * shape.n_layer * shape.n_kv_head * (shape.d_model // shape.n_head) * bytes_per_value
    return per_token * seq_len * batch


def max_batch(shape, seq_len, memory_bytes, bytes_per_value=2):
    left = memory_bytes - bytes_per_value * param_count(shape)
    if left <= 0:
        return 0
    return left // kv_cache_bytes(shape, 1, seq_len, bytes_per_value)
