"""The wire between the learner's process and the judge: every plain value survives the trip
exactly, and no byte string a hostile child can write yields anything but plain data."""
import io
import os
import pickle

import pytest
import torch

from mlkata import wire

DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.complex64, torch.complex128,
          torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64]


def _sample(dtype: torch.dtype, shape) -> torch.Tensor:
    if dtype.is_complex:
        return torch.randn(shape, dtype=dtype)
    return (torch.randn(shape) * 50).to(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(), (0,), (3,), (2, 0, 4), (2, 3, 5)], ids=str)
def test_tensors_come_back_with_their_dtype_shape_and_values(dtype, shape):
    x = _sample(dtype, shape)
    for move in (wire.roundtrip, lambda v: pickle.loads(wire.dumps_request(v))):
        y = move(x)
        assert type(y) is torch.Tensor and y.dtype == dtype and y.shape == x.shape
        assert torch.equal(y, x)


def test_views_parameters_and_non_contiguous_tensors_arrive_as_plain_copies():
    base = torch.arange(24.0).reshape(4, 6)
    value = {"t": base.t(), "row": base[1], "p": torch.nn.Parameter(torch.ones(2)), "size": torch.Size([2, 3])}
    got = wire.roundtrip(value)
    assert torch.equal(got["t"], base.t()) and got["t"].is_contiguous()
    assert torch.equal(got["row"], base[1]) and type(got["p"]) is torch.Tensor and not got["p"].requires_grad
    assert got["size"] == (2, 3)


def test_size_one_dimensions_with_odd_strides_still_travel():
    pair = torch.randn(1, 2)
    chosen, _ = pair.unbind(dim=-1)                # shape [1], stride (2,): "contiguous", yet not
    column = torch.randn(3, 1).t()                 # shape [1, 3] from a transpose
    for x in (chosen, chosen.clone(), column, column.clone(), torch.randn(4, 1, 2)[:, :, 0]):
        assert torch.equal(wire.roundtrip(x), x)
        assert torch.equal(pickle.loads(wire.dumps_request(x)), x)


def test_containers_and_scalars_keep_their_types():
    value = [1, 2.5, True, None, "s", (1, [2, {"k": 3}]), {"a": [torch.tensor(1)], 4: ()}]
    got = wire.roundtrip(value)
    assert got[:5] == [1, 2.5, True, None, "s"] and type(got[5]) is tuple and type(got[5][1]) is list
    assert torch.equal(got[6]["a"][0], torch.tensor(1)) and got[6][4] == ()


def test_objects_with_behaviour_become_opaque_descriptions():
    class Liar:
        def __eq__(self, other):
            return True

    class Sub(torch.Tensor):
        pass

    got = wire.roundtrip({"liar": Liar(), "sub": torch.ones(2).as_subclass(Sub), "raw": b"tensor"})
    assert got["liar"]["__opaque__"] == "Liar" and got["sub"]["__opaque__"] == "Sub"
    assert got["raw"]["__opaque__"] == "bytes"      # so no learner's value can pose as a packed tensor


def test_requests_keep_requires_grad_and_the_aliasing_of_one_tensor():
    x = torch.randn(3, requires_grad=True)
    a, b = pickle.loads(wire.dumps_request((x, x)))
    assert a is b and a.requires_grad and torch.equal(a.detach(), x.detach())
    view = torch.arange(6.0)[2:]
    got = pickle.loads(wire.dumps_request(view))       # a view goes through torch's own pickling
    assert torch.equal(got, view)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_a_reply_that_names_any_global_is_refused():
    for payload in (pickle.dumps(_Evil()), pickle.dumps(torch.ones(2)), pickle.dumps(io.BytesIO())):
        with pytest.raises(pickle.UnpicklingError, match="only plain data"):
            wire.decode(payload)


@pytest.mark.parametrize("forged", [
    (wire.TENSOR, "float32", (1000, 1000), b"\0" * 8),          # claims more than it holds
    (wire.TENSOR, "float32", (-1,), b""),
    (wire.TENSOR, "no_such_dtype", (1,), b"\0" * 4),
    (wire.TENSOR, "float32", [2], b"\0" * 8),
])
def test_forged_tensors_are_refused(forged):
    with pytest.raises(ValueError):
        wire.decode(pickle.dumps(forged))


def test_a_deep_web_of_shared_lists_is_read_in_linear_time():
    node: list = []
    for _ in range(wire.MAX_DEPTH):            # 2**32 paths if each were walked separately
        node = [node, node]
    got = wire.decode(pickle.dumps(node))
    for _ in range(wire.MAX_DEPTH):
        assert got[0] is got[1]
        got = got[0]


@pytest.mark.parametrize("flood, words", [
    (lambda: _nested(wire.MAX_DEPTH + 2), "nested more than"),
    (lambda: [0.5] * (wire.MAX_ITEMS + 1), "more than"),
    (lambda: {"k": [1] * wire.MAX_ITEMS, "j": [2] * 10}, "more than"),
    (lambda: 10 ** 100, "bits"),
    (lambda: {10 ** 100: 1}, "bits"),
    (lambda: "x" * (wire.MAX_STR + 1), "characters"),
])
def test_replies_that_would_keep_the_judge_busy_are_refused(flood, words):
    """A hostile child may write any pickle: depth, size and scalar sizes are bounded, so the
    judge's comparisons and messages on a reply stay cheap."""
    with pytest.raises(ValueError, match=words):
        wire.decode(pickle.dumps(flood()))


def _nested(depth: int) -> list:
    node: list = []
    for _ in range(depth):
        node = [node]
    return node


def test_replies_within_the_bounds_still_read():
    value = {"ids": list(range(100_000)), "big": 2 ** 200, "name": "x" * 1000, "deep": _nested(wire.MAX_DEPTH - 1)}
    assert wire.decode(pickle.dumps(value)) == value


def test_oversized_replies_are_refused():
    with pytest.raises(ValueError, match="exceeds"):
        wire.decode(b"\0" * (wire.MAX_BYTES + 1))
