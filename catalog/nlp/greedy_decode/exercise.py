"""Greedy decoding: generate a batch of continuations by always taking the most likely token.

An autoregressive language model gives, for every prefix, a distribution over the next token.
Greedy decoding appends the single most likely token, feeds the longer prefix back in, and
repeats -- the simplest decoder, what Hugging Face transformers'
``model.generate(do_sample=False, num_beams=1)`` does, and beam search with a beam of one.  It
is deterministic and cheap, but short-sighted: a likely first token can lead into an unlikely
continuation, which is what beam search (``nlp/beam_search``) looks further ahead to avoid.

In practice the prompts of a batch are decoded together, one model call per generated
position.  Sequences finish at different times: once a sequence has produced ``eos_id`` it is
done, and every later position is filled with ``pad_id`` while the others go on (exactly as
``generate`` pads finished sequences with ``pad_token_id``).  Decoding stops when every
sequence has finished, or after ``max_new_tokens`` positions.

``step_fn`` stands in for the language model, with the calling convention of
``nlp/beam_search``: a LongTensor ``[n, t]`` of prefixes in, next-token log-probabilities
``[n, vocab]`` out.
"""
from typing import Callable

import torch

StepFn = Callable[[torch.Tensor], torch.Tensor]


def greedy_decode(step_fn: StepFn, prompts: torch.Tensor, max_new_tokens: int, eos_id: int,
                  pad_id: int) -> torch.Tensor:
    """Greedily continue every prompt of a batch; return the generated tokens.

    Args:
        step_fn: takes a LongTensor ``[n, t]`` holding the current prefixes (prompt followed by
            the tokens generated so far) and returns next-token log-probabilities, a float
            tensor ``[n, vocab]`` of any float dtype; a banned token has ``-inf`` (never chosen).
        prompts: LongTensor ``[n, t0]`` (n >= 1, t0 >= 1): n prompts of equal length.  Not modified.
        max_new_tokens: the most tokens generated per sequence (an int >= 0).
        eos_id: the end token.  A sequence has finished once it has *generated* ``eos_id``
            (an ``eos_id`` inside the prompt does not count).
        pad_id: the token written after a sequence's ``eos_id``.

    Every step calls ``step_fn`` once, on all n prefixes (finished ones included, continued
    with ``pad_id``).  An unfinished sequence appends the token of largest log-probability --
    the smallest such id when several tie, as ``torch.argmax`` picks -- and a finished one
    appends ``pad_id``.  Decoding stops as soon as every sequence has finished, or after
    ``max_new_tokens`` steps.

    Returns:
        a LongTensor ``[n, L]``: row i holds the tokens generated for prompt i (``eos_id``
        included), padded with ``pad_id`` after it; ``L`` is the number of steps taken, so
        ``L <= max_new_tokens`` and ``L == 0`` when ``max_new_tokens == 0``.
    """
    ### BEGIN SOLUTION
    n = prompts.size(0)
    seqs = prompts.clone()                                         # (n, t0), grows by one column per step
    finished = torch.zeros(n, dtype=torch.bool)
    for _ in range(max_new_tokens):
        logp = step_fn(seqs)                                       # (n, vocab)
        nxt = logp.argmax(dim=-1)                                  # (n,)
        nxt = torch.where(finished, torch.full_like(nxt, pad_id), nxt)
        seqs = torch.cat([seqs, nxt[:, None]], dim=1)              # (n, t + 1)
        finished |= nxt == eos_id
        if finished.all():
            break
    return seqs[:, prompts.size(1):]                               # (n, L) generated tokens only
    ### END SOLUTION
