"""nlp/greedy_decode against Hugging Face transformers: ``GenerationMixin.generate(do_sample=False,
num_beams=1)`` on a tiny, randomly initialised ``GPT2LMHeadModel`` (built from a ``GPT2Config``,
nothing downloaded) generates exactly what the reference (solutions/nlp/greedy_decode.py) and the
grader's row-by-row oracle (graders/nlp/greedy_decode.py) generate when ``step_fn`` is the same
model's next-token log-softmax -- for every choice of eos id, so that rows finish at different
steps, are padded with ``pad_token_id`` and generation stops once all have finished.
"""
import pytest
import torch

transformers = pytest.importorskip("transformers")

from mlkata.engine import load_module  # noqa: E402
from helpers import ROOT  # noqa: E402

REF = load_module(str(ROOT / "solutions" / "nlp" / "greedy_decode.py"), "twins_nlp_greedy_decode_reference")
ORACLE = load_module(str(ROOT / "graders" / "nlp" / "greedy_decode.py"), "twins_nlp_greedy_decode_grader")

VOCAB = 10


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    # initializer_range 0.5, not GPT-2's 0.02: a near-zero random GPT-2 just repeats its last token
    config = transformers.GPT2Config(vocab_size=VOCAB, n_positions=64, n_embd=32, n_layer=2, n_head=2,
                                     bos_token_id=0, eos_token_id=1, initializer_range=0.5)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)            # a tiny model: intra-op threads only contend (10x slower on 2 busy cores)
    yield transformers.GPT2LMHeadModel(config).eval()
    torch.set_num_threads(threads)


class ModelLM:
    """``step_fn`` (and ``row`` for the grader's oracle) from the model: log-softmax of the last logits."""

    def __init__(self, model):
        self.model = model
        self.rows = {}

    @torch.no_grad()
    def __call__(self, prefixes):
        return torch.log_softmax(self.model(prefixes).logits[:, -1].double(), dim=-1)   # (n, vocab)

    def row(self, prefix):
        key = tuple(prefix)
        if key not in self.rows:
            self.rows[key] = self(torch.tensor([prefix]))[0]
        return self.rows[key]


def hf_greedy(model, prompts, max_new_tokens, eos_id, pad_id):
    out = model.generate(prompts, attention_mask=torch.ones_like(prompts), do_sample=False, num_beams=1,
                         max_new_tokens=max_new_tokens, eos_token_id=eos_id, pad_token_id=pad_id)
    return out[:, prompts.size(1):]


@pytest.mark.parametrize("seed", range(2))
def test_reference_and_oracle_match_generate(model, seed):
    g = torch.Generator().manual_seed(seed)
    prompts = torch.randint(VOCAB, (4, 3 + seed), generator=g)
    lm = ModelLM(model)
    widths = set()
    for eos_id in range(VOCAB):
        pad_id = (eos_id + 3) % VOCAB
        want = hf_greedy(model, prompts, 12, eos_id, pad_id)
        got = REF.greedy_decode(lm, prompts, 12, eos_id, pad_id)
        assert torch.equal(got, want), f"eos_id={eos_id}: reference {got.tolist()} vs generate {want.tolist()}"
        assert torch.equal(ORACLE.oracle(lm, prompts, 12, eos_id, pad_id), want)
        widths.add(want.size(1))
    assert len(widths) > 1 and 12 in widths          # some eos ids end early, some never come


def test_generate_pads_finished_rows_and_stops_when_all_have_finished(model):
    prompts = torch.randint(VOCAB, (8, 4), generator=torch.Generator().manual_seed(9))
    lm = ModelLM(model)
    cases = 0
    for eos_id in range(VOCAB):
        want = hf_greedy(model, prompts, 20, eos_id, pad_id=(eos_id + 1) % VOCAB)
        ended = [(r == eos_id).nonzero()[0, 0].item() for r in want if (r == eos_id).any()]
        if len(ended) == len(want) and want.size(1) < 20 and len(set(ended)) > 1:
            cases += 1                                # rows end at different steps, all before the limit
            assert torch.equal(REF.greedy_decode(lm, prompts, 20, eos_id, (eos_id + 1) % VOCAB), want)
            assert want.size(1) == max(ended) + 1
    assert cases > 0
