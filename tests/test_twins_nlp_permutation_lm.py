"""Library twins of nlp/permutation_lm:

* transformers' ``DataCollatorForPermutationLanguageModeling.torch_mask_tokens`` (with a minimal
  stand-in tokenizer): its perm_mask equals the reference's ``xlnet_perm_mask`` for the targets it
  chose and an order that puts them in the order its perm_mask implies;
* a tiny random ``XLNetLMHeadModel``: with the reference's perm_mask and target_mapping, a predicted
  token's logits do not change when any token it may not see (its own included) changes, and do
  change when a token it may see changes -- the masks mean to XLNet what the exercise says.
"""
import pytest
import torch

from mlkata.engine import load_module
from helpers import ROOT

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def ref():
    return load_module(str(ROOT / "solutions" / "nlp" / "permutation_lm.py"), "twin_solution_nlp_permutation_lm")


class StandInTokenizer:
    """What the collator reads of a tokenizer: the mask and pad tokens, and special-token detection."""
    mask_token, mask_token_id = "<mask>", 3
    pad_token, pad_token_id = "<pad>", 0

    def get_special_tokens_mask(self, ids, already_has_special_tokens=True):
        return [1 if i in (1, 2) else 0 for i in ids]                   # 1, 2: <cls>, <sep>


@pytest.mark.parametrize("seed", range(6))
def test_collator_perm_mask_equals_the_reference(ref, seed):
    torch.manual_seed(seed)
    collator = transformers.DataCollatorForPermutationLanguageModeling(tokenizer=StandInTokenizer(),
                                                                       plm_probability=1 / 3, max_span_length=3)
    # no <cls>/<sep>: the collator keeps such functional tokens at their rank in the order (they see only the
    # targets before them), where the exercise makes every non-target plain context (rank -1)
    ids = torch.randint(4, 50, (3, 16))
    _, perm_mask, _, labels = collator.torch_mask_tokens(ids.clone())
    for b in range(3):
        is_target = labels[b] != -100
        targets = torch.nonzero(is_target).flatten().tolist()
        # a target sees exactly the targets before it: how many it sees is its rank among them
        seen = {p: int((perm_mask[b, p, targets] == 0).sum()) for p in targets}
        context = [p for p in range(16) if not is_target[p]]
        order = torch.tensor(context + sorted(targets, key=seen.get))
        ours, mapping = ref.xlnet_perm_mask(order, is_target)
        torch.testing.assert_close(ours, perm_mask[b], rtol=0, atol=0)
        torch.testing.assert_close(mapping, torch.eye(16)[is_target], rtol=0, atol=0)


def tiny_xlnet():
    torch.manual_seed(0)
    config = transformers.XLNetConfig(vocab_size=40, d_model=16, n_layer=2, n_head=2, d_inner=32, dropout=0.0)
    return transformers.XLNetLMHeadModel(config).eval()


@pytest.mark.parametrize("seed", range(3))
def test_xlnet_sees_exactly_what_the_masks_allow(ref, seed):
    model = tiny_xlnet()
    g = torch.Generator().manual_seed(seed)
    T = 8
    ids = torch.randint(4, 40, (1, T), generator=g)
    order = torch.randperm(T, generator=g)
    is_target = torch.zeros(T, dtype=torch.bool)
    is_target[torch.randperm(T, generator=g)[:3]] = True
    perm_mask, mapping = ref.xlnet_perm_mask(order, is_target)

    def logits(x):
        with torch.no_grad():
            return model(x, perm_mask=perm_mask[None], target_mapping=mapping[None]).logits[0]   # (K, V)

    base = logits(ids)
    for k, p in enumerate(torch.nonzero(is_target).flatten().tolist()):
        for q in range(T):
            changed = ids.clone()
            changed[0, q] = 4 + (changed[0, q] - 4 + 7) % 36
            moved = not torch.allclose(logits(changed)[k], base[k], atol=1e-6)
            assert moved == (perm_mask[p, q] == 0).item(), (p, q)
