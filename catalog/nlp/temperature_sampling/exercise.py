"""Temperature sampling: one knob between greedy decoding and the model's own distribution.

A language model gives, for the next position, a vector of logits over the vocabulary.  Sampled
decoding draws the next token from ``softmax(logits / T)``:

* ``T = 1`` samples from the model's distribution as it is;
* ``T < 1`` sharpens it (likely tokens get likelier), and as ``T -> 0`` all the mass moves onto
  the largest logit: ``T = 0`` is greedy decoding, ``argmax``;
* ``T > 1`` flattens it, and as ``T -> inf`` it tends to the uniform distribution.

Dividing logits by T is the same as raising probabilities to the power ``1/T`` and renormalising;
Hinton et al.'s knowledge distillation (2015) uses the same softened softmax.

Truncation rules (top-k, top-p) run before this step and mark excluded tokens with ``-inf``:
such a token has probability exactly 0 at every temperature and is never drawn.

Mirror Hugging Face transformers' sampling step -- ``TemperatureLogitsWarper`` (logits / T),
then ``softmax`` and ``torch.multinomial`` in ``generate(do_sample=True)``, with ``T = 0``
meaning greedy decoding (``do_sample=False``) -- without calling the warper.  "Mirror" means the
same distribution, not the same draws: sample with ``torch.multinomial``, an inverse CDF or the
Gumbel-max trick, as you like.  Every random draw comes from the ``torch.Generator`` you are
given, so a seed reproduces a sample.
"""
from typing import Optional

import torch


def temperature_probs(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """The next-token distribution ``softmax(logits / temperature)`` along the last dimension.

    Args:
        logits: float tensor of shape ``(..., V)`` (any number of leading dimensions, V >= 1).
            Entries may be ``-inf`` (tokens excluded by an earlier filter), but every row has at
            least one finite entry.  It is not modified.
        temperature: a float >= 0 (an int is accepted too).  ``0`` means greedy decoding: each
            row's distribution is one-hot on the first index of its largest logit (the index
            ``torch.argmax`` returns).  A negative temperature raises ``ValueError``.

    The result must be finite and correct for huge logits (around +-1e4) and tiny temperatures
    (T = 1e-6, where ``logits / T`` reaches 1e6): compute the softmax stably.  ``-inf`` entries get exactly 0.
    The function is differentiable with respect to ``logits`` (for T > 0).

    Returns:
        a new tensor of the shape and dtype of ``logits`` whose rows sum to 1.
    """
    ### BEGIN SOLUTION
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:                                            # greedy: all mass on the argmax
        top = logits.argmax(dim=-1, keepdim=True)                   # (..., 1)
        return torch.zeros_like(logits).scatter(-1, top, 1.0)       # (..., V) one-hot
    # softmax subtracts each row's maximum before exp, so large logits / T cannot overflow
    return torch.softmax(logits / temperature, dim=-1)
    ### END SOLUTION


def sample_next_token(logits: torch.Tensor, temperature: float = 1.0,
                      generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Draw one token id per row from ``temperature_probs(logits, temperature)``.

    Args:
        logits: float tensor of shape ``(..., V)`` as in :func:`temperature_probs` (``-inf``
            entries allowed, at least one finite entry per row).  It is not modified.
        temperature: a float >= 0; ``0`` returns each row's ``argmax`` (first index on ties)
            without drawing anything.  A negative temperature raises ``ValueError``.
        generator: every random draw comes from it (so the same seed gives the same tokens);
            when None, torch's global generator is used.

    Rows are sampled independently; a token whose logit is ``-inf`` is never drawn.  Only the
    distribution is graded (the rate of every token over many draws, and that the same generator
    seed repeats the ids): how you turn random numbers into ids is yours to choose.

    Returns:
        an int64 tensor of shape ``logits.shape[:-1]`` (a 0-dim tensor for a 1-D input) holding
        token ids in ``[0, V)``.
    """
    ### BEGIN SOLUTION
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if temperature == 0:
        return logits.argmax(dim=-1)                                # (...) greedy, no randomness
    probs = temperature_probs(logits, temperature)                  # (..., V)
    flat = probs.reshape(-1, probs.size(-1))                        # (N, V): multinomial is 1-D/2-D only
    ids = torch.multinomial(flat, num_samples=1, generator=generator)   # (N, 1)
    return ids.reshape(logits.shape[:-1])                           # (...)
    ### END SOLUTION
