"""Plain data between the learner's code and the checks.

What the learner's code returns is reduced to plain data (tensors, numbers, strings, None,
lists, tuples, dicts) and serialised; the reader accepts nothing else.  So a hostile submission
can only ever hand the judge *values*, never objects with behaviour (an ``__eq__`` that always
says True, a tensor subclass that lies about itself, a pickle that runs code).

The format is a pickle of builtin containers in which each tensor travels as
``(TENSOR, dtype name, shape, raw bytes)``.  The reader's unpickler refuses every global, so
the bytes can only build str/bytes/numbers/containers, whatever a hostile child writes into
the pipe; tensors are rebuilt from checked dtype, shape and length.  (Plain data never holds
``bytes``, so a learner's value cannot pass for a packed tensor.)  It replaced ``torch.save`` /
``torch.load(weights_only=True)``, which were most of a check's cost (about 1 ms per reply).

Pytest mode makes the same round trip, so both modes see exactly the same values.
"""
from __future__ import annotations

import io
import math
import pickle
from typing import Any

import torch

# What a reply may hold, so that the judge's own work on it stays bounded (a hostile child could
# otherwise hand it a list nested 10^5 deep, 10^8 tiny items, or a 10^7-digit integer whose
# comparison or printing takes minutes).
MAX_BYTES = 256 * 2**20   # a reply larger than this is refused
MAX_DEPTH = 32            # containers inside containers (plain() itself stops at 20)
MAX_ITEMS = 1_000_000     # container entries in the whole reply (tensors count as one)
MAX_INT_BITS = 256        # |int| < 2**256
MAX_STR = 1_000_000       # characters of one string


def plain(x: Any, _depth: int = 0) -> Any:
    """Reduce ``x`` to plain data; anything else becomes ``{"__opaque__": type, "repr": ...}``."""
    if _depth > 20:
        return {"__opaque__": "nested too deeply", "repr": ""}
    if x is None or type(x) in (bool, int, float, str):
        return x
    if type(x) is torch.Tensor or type(x) is torch.nn.Parameter:
        t = x.detach()
        if t.layout != torch.strided:
            t = t.to_dense()
        return t.clone().contiguous() if not t.is_complex() else t.clone()
    if type(x) in (list, tuple):
        items = [plain(v, _depth + 1) for v in x]
        return items if type(x) is list else tuple(items)
    if type(x) is dict:
        return {_key(k): plain(v, _depth + 1) for k, v in x.items()}
    if type(x) is torch.Size:
        return tuple(int(v) for v in x)
    if type(x).__module__ == "numpy" and hasattr(x, "dtype"):
        try:
            import numpy as np
            return plain(torch.from_numpy(np.array(x, copy=True)) if getattr(x, "ndim", 0) else x.item(), _depth + 1)
        except Exception:  # noqa: BLE001 - e.g. object arrays
            pass
    return {"__opaque__": type(x).__name__, "repr": _safe_repr(x)}


def _key(k: Any) -> Any:
    return k if type(k) in (str, int, float, bool) else _safe_repr(k)


def _safe_repr(x: Any) -> str:
    try:
        return object.__repr__(x)[:120]
    except Exception:  # noqa: BLE001
        return "?"


TENSOR = b"tensor"
_DTYPES = {str(d).removeprefix("torch."): d for d in vars(torch).values() if isinstance(d, torch.dtype)}


def encode(x: Any) -> bytes:
    return pickle.dumps(_pack(plain(x)), protocol=pickle.HIGHEST_PROTOCOL)


def _pack(x: Any) -> Any:
    """Plain data with each tensor replaced by its packed tuple."""
    if type(x) is torch.Tensor:
        try:
            raw = _raw_bytes(x)
        except (RuntimeError, TypeError):      # e.g. quantized dtypes: no byte view
            return {"__opaque__": f"tensor of dtype {x.dtype}", "repr": ""}
        return (TENSOR, str(x.dtype).removeprefix("torch."), tuple(x.shape), raw)
    if type(x) is list:
        return [_pack(v) for v in x]
    if type(x) is tuple:
        return tuple(_pack(v) for v in x)
    if type(x) is dict:
        return {k: _pack(v) for k, v in x.items()}
    return x


def _raw_bytes(t: torch.Tensor) -> bytes:
    flat = t.reshape(-1)
    if flat.numel() and flat.stride(0) != 1:       # "contiguous" size-1 dims may keep any stride
        flat = flat.clone(memory_format=torch.contiguous_format)
    return flat.view(torch.uint8).numpy().tobytes()


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"a reply may hold only plain data, not {module}.{name}")


def decode(data: bytes) -> Any:
    """Read what :func:`encode` wrote -- or whatever else a hostile child sent: only plain data
    comes out, or an exception."""
    if len(data) > MAX_BYTES:
        raise ValueError(f"reply of {len(data)} bytes exceeds the {MAX_BYTES} byte limit")
    return _unpack(_PlainUnpickler(io.BytesIO(data)).load(), {}, 0, [MAX_ITEMS])


def _unpack(x: Any, seen: dict[int, Any], depth: int, budget: list[int]) -> Any:
    # `seen` keeps shared sub-objects shared: a reply built as a deep DAG of references to the
    # same list must not cost time exponential in its depth
    kind = type(x)
    if kind not in (list, tuple, dict):
        return _scalar(x)
    if id(x) in seen:
        return seen[id(x)]
    if depth > MAX_DEPTH:
        raise ValueError(f"the reply is nested more than {MAX_DEPTH} containers deep")
    budget[0] -= len(x)
    if budget[0] < 0:
        raise ValueError(f"the reply holds more than {MAX_ITEMS} values")
    if kind is tuple and len(x) == 4 and x[0] == TENSOR:
        out = _tensor(*x[1:])
    elif kind is list:
        out = [_unpack(v, seen, depth + 1, budget) for v in x]
    elif kind is tuple:
        out = tuple(_unpack(v, seen, depth + 1, budget) for v in x)
    else:
        out = {_scalar(k): _unpack(v, seen, depth + 1, budget) for k, v in x.items()}
    seen[id(x)] = out
    return out


def _scalar(x: Any) -> Any:
    if type(x) is int and x.bit_length() > MAX_INT_BITS:
        raise ValueError(f"the reply holds an integer of {x.bit_length()} bits (more than {MAX_INT_BITS})")
    if type(x) is str and len(x) > MAX_STR:
        raise ValueError(f"the reply holds a string of {len(x)} characters (more than {MAX_STR})")
    return x


def _tensor(dtype_name: Any, shape: Any, raw: Any) -> torch.Tensor:
    dtype = _DTYPES.get(dtype_name) if type(dtype_name) is str else None
    if dtype is None or type(raw) is not bytes or type(shape) is not tuple or \
            not all(type(n) is int and n >= 0 for n in shape):
        raise ValueError("malformed tensor in the reply")
    itemsize = torch.empty((), dtype=dtype).element_size()
    if math.prod(shape) * itemsize != len(raw):
        raise ValueError(f"a tensor of shape {list(shape)} and dtype {dtype_name} cannot hold {len(raw)} bytes")
    if not raw:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8).view(dtype).reshape(shape)


def roundtrip(x: Any) -> Any:
    return decode(encode(x))


# --------------------------------------------------------------------------------------------
# Requests: from the trusted judge to its child, so ordinary pickle -- but torch pickles each
# tensor through the legacy torch.save/torch.load (~0.3 ms a tensor); whole tensors go raw.
# --------------------------------------------------------------------------------------------

def dumps_request(obj: Any) -> bytes:
    buf = io.BytesIO()
    _RequestPickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buf.getvalue()


class _RequestPickler(pickle.Pickler):
    def reducer_override(self, obj: Any):
        if type(obj) is torch.Tensor and _whole(obj):
            raw = _raw_bytes(obj)
            return _request_tensor, (str(obj.dtype).removeprefix("torch."), tuple(obj.shape), raw, obj.requires_grad)
        return NotImplemented


def _whole(t: torch.Tensor) -> bool:
    """A CPU leaf tensor that owns all of its storage: nothing torch's own pickling keeps
    (views sharing storage, grads, hooks, quantization) would be lost by sending its bytes."""
    return t.device.type == "cpu" and t.layout == torch.strided and t._base is None and t.grad_fn is None \
        and t.grad is None and not t.is_quantized and t.is_contiguous() and t.storage_offset() == 0 \
        and t.untyped_storage().nbytes() == t.numel() * t.element_size()


def _request_tensor(dtype_name: str, shape: tuple, raw: bytes, requires_grad: bool) -> torch.Tensor:
    return _tensor(dtype_name, shape, raw).requires_grad_(requires_grad)
