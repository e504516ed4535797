# BUG: leaves the RMSNorm weights out of the count.
"""Back-of-the-envelope accounting for a decoder-only transformer: parameters, FLOPs, KV cache.

Interviewers at labs that train large models expect you to size one on a whiteboard: how many
parameters a configuration has (and where they sit), how many floating-point operations a forward
and a training step cost (the "6 N per token" rule: a forward pass does about 2 FLOPs per parameter
per token, a backward pass twice that), and how much memory the KV cache needs at inference --
which, not the weights, limits the batch size of a serving engine, and which grouped-query
attention shrinks.

The architecture is Llama's: token embeddings, ``n_layer`` blocks of (RMSNorm, attention with
``n_head`` query heads and ``n_kv_head`` key/value heads of width ``d_model // n_head``, RMSNorm,
MLP), a final RMSNorm and an output head; no biases anywhere.  Every count here must be exact (the
graders compare with Hugging Face's ``LlamaForCausalLM.num_parameters()`` and with
``torch.utils.flop_counter.FlopCounterMode`` on the real model).  Builds on
``transformer/gqa_attention`` and ``llm/swiglu``.
"""
from dataclasses import dataclass


@dataclass
class Shape:
    """A model's sizes (given)."""
    vocab_size: int
    n_layer: int
    d_model: int
    n_head: int
    n_kv_head: int          # = n_head for multi-head attention, 1 for multi-query
    d_ff: int               # the MLP's hidden width
    gated_mlp: bool = True  # SwiGLU: gate, up and down projections (3 matrices); else up and down (2)
    tied_embeddings: bool = False   # the output head reuses the token embedding matrix


def param_count(shape: Shape) -> int:
    """The number of parameters.

    Embedding ``V * d``; per layer: the query and output projections ``d * d`` each, the key and
    value projections ``d * (n_kv_head * head_dim)`` each, the MLP ``3 * d * d_ff`` (gated) or
    ``2 * d * d_ff``, two RMSNorm weights of ``d``; the final RMSNorm ``d``; the output head
    ``d * V`` unless tied to the embedding.  ``head_dim = d // n_head``.
    """
    d, hd = shape.d_model, shape.d_model // shape.n_head
    attention = 2 * d * d + 2 * d * shape.n_kv_head * hd
    mlp = (3 if shape.gated_mlp else 2) * d * shape.d_ff
    per_layer = attention + mlp
    head = 0 if shape.tied_embeddings else d * shape.vocab_size
    return shape.vocab_size * d + shape.n_layer * per_layer + head


def forward_flops(shape: Shape, batch: int, seq_len: int) -> int:
    """Matrix-multiplication FLOPs of one forward pass over ``batch`` sequences of ``seq_len`` tokens.

    Count every matrix product, 2 FLOPs per multiply-add (what ``FlopCounterMode`` counts), and
    nothing else (norms, softmax, activations and the embedding lookup are free here):

    * every weight matrix of the layers and the output head, applied to each of the ``batch *
      seq_len`` tokens: 2 FLOPs per weight per token (the tied head still does its matmul; the
      embedding lookup does none);
    * attention, per layer: ``q k^T`` and ``(weights) v``, each ``2 * batch * n_head * seq_len^2 *
      head_dim`` -- the full ``[seq_len, seq_len]`` grid, masked or not, and over ``n_head`` heads
      even when keys and values have fewer.
    """
    d, hd, V = shape.d_model, shape.d_model // shape.n_head, shape.vocab_size
    tokens = batch * seq_len
    attention_weights = 2 * d * d + 2 * d * shape.n_kv_head * hd
    mlp_weights = (3 if shape.gated_mlp else 2) * d * shape.d_ff
    matmul_weights = shape.n_layer * (attention_weights + mlp_weights) + d * V
    scores = 2 * 2 * batch * shape.n_head * seq_len * seq_len * hd            # q k^T and weights @ v
    return 2 * tokens * matmul_weights + shape.n_layer * scores


def training_flops(shape: Shape, batch: int, seq_len: int) -> int:
    """FLOPs of one training step: the forward pass and a backward pass costing twice as much
    (gradients with respect to both the activations and the weights), so 3x the forward."""
    return 3 * forward_flops(shape, batch, seq_len)


def kv_cache_bytes(shape: Shape, batch: int, seq_len: int, bytes_per_value: int = 2) -> int:
    """Bytes of the KV cache holding ``seq_len`` tokens of ``batch`` sequences: keys AND values, in
    every layer, for ``n_kv_head`` heads of width ``head_dim``, ``bytes_per_value`` each (2 for
    float16 / bfloat16)."""
    hd = shape.d_model // shape.n_head
    return 2 * shape.n_layer * batch * seq_len * shape.n_kv_head * hd * bytes_per_value


def max_batch(shape: Shape, seq_len: int, memory_bytes: int, bytes_per_value: int = 2) -> int:
    """The largest batch whose weights (``param_count`` values of ``bytes_per_value`` bytes) plus KV
    cache for ``seq_len`` tokens per sequence fit in ``memory_bytes``; 0 if not even one sequence fits."""
    free = memory_bytes - param_count(shape) * bytes_per_value
    per_sequence = kv_cache_bytes(shape, 1, seq_len, bytes_per_value)
    return max(free // per_sequence, 0)
