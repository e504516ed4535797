"""Masked language modelling: BERT's 80/10/10 corruption rule.

BERT (Devlin et al., 2019, "BERT: Pre-training of Deep Bidirectional Transformers") learns by
filling in blanks.  About 15% of the tokens of every sequence are *selected* as prediction
targets; the model sees a corrupted input and is trained, with cross-entropy, to recover the
original token at exactly those positions.  Unlike GPT's left-to-right objective, the model can
look both ways -- which is why the targets must be hidden from it.

Hiding every target behind ``[MASK]`` would create a mismatch: ``[MASK]`` never occurs at
fine-tuning time.  So a selected token becomes ``[MASK]`` 80% of the time, a random token 10%
of the time, and stays as it is 10% of the time: the model can never trust the token it sees
and has to keep a good representation of every position.  Special tokens (``[CLS]``,
``[SEP]``, padding) are never selected.

Implement the rule with the same statistics as ``transformers.DataCollatorForLanguageModeling``
(``mlm=True``, its default 80/10/10 rates) -- without calling it.  The labels use -100 for
"no target", the ``ignore_index`` of ``torch.nn.functional.cross_entropy``.
"""
from typing import Collection, Optional

import torch


def mask_tokens(
    input_ids: torch.Tensor,
    mask_token_id: int,
    vocab_size: int,
    special_token_ids: Collection[int],
    mlm_probability: float = 0.15,
    generator: Optional[torch.Generator] = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Corrupt ``input_ids`` for masked language modelling; return ``(inputs, labels)``.

    Args:
        input_ids: int64 token ids of any shape, e.g. (B, T).  Not modified.
        mask_token_id: the id of ``[MASK]``.
        vocab_size: random replacement tokens are drawn uniformly from ``range(vocab_size)``
            (so one may equal the original token or the mask id).
        special_token_ids: ids that are never selected (a list, tuple or set of ints; may be empty).
        mlm_probability: each non-special position is selected independently with this probability.
        generator: when given, every random draw comes from it, so the same seed gives the
            same result; when None, torch's global generator is used.  How many draws you make
            and in which order is yours: only the probabilities and the reproducibility are
            graded, never particular draws.

    Returns:
        inputs: int64, same shape as ``input_ids``.  A selected position holds ``mask_token_id``
            with probability 0.8, a random token with probability 0.1, and its original token
            with probability 0.1; every other position holds its original token.
        labels: int64, same shape: the original id at selected positions, -100 everywhere else.
    """
    ### BEGIN SOLUTION
    special = torch.isin(input_ids, torch.tensor(list(special_token_ids), dtype=torch.long))
    # Select the prediction targets: Bernoulli(mlm_probability) per position, 0 for specials.
    probs = torch.full(input_ids.shape, float(mlm_probability))
    probs.masked_fill_(special, 0.0)
    selected = torch.bernoulli(probs, generator=generator).bool()
    labels = torch.where(selected, input_ids, torch.full_like(input_ids, -100))

    inputs = input_ids.clone()
    # 80% of the selected positions become [MASK] ...
    masked = torch.bernoulli(torch.full(input_ids.shape, 0.8), generator=generator).bool() & selected
    inputs[masked] = mask_token_id
    # ... half of the remaining 20% get a random token, the other half keep their own.
    randomized = torch.bernoulli(torch.full(input_ids.shape, 0.5), generator=generator).bool() & selected & ~masked
    random_words = torch.randint(vocab_size, input_ids.shape, dtype=torch.long, generator=generator)
    inputs[randomized] = random_words[randomized]
    return inputs, labels
    ### END SOLUTION
