"""Plain data between the learner's code and the checks.

What the learner's code returns is reduced to plain data (tensors, numbers, strings, None,
lists, tuples, dicts) and serialised with ``torch.save``; the reader uses
``torch.load(weights_only=True)``, which refuses every other type.  So a hostile submission
can only ever hand the judge *values*, never objects with behaviour (an ``__eq__`` that always
says True, a tensor subclass that lies about itself, a pickle that runs code).

Pytest mode makes the same round trip, so both modes see exactly the same values.
"""
from __future__ import annotations

import io
from typing import Any

import torch

MAX_BYTES = 256 * 2**20   # a reply larger than this is refused


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


def encode(x: Any) -> bytes:
    buf = io.BytesIO()
    torch.save(plain(x), buf)
    return buf.getvalue()


def decode(data: bytes) -> Any:
    if len(data) > MAX_BYTES:
        raise ValueError(f"reply of {len(data)} bytes exceeds the {MAX_BYTES} byte limit")
    return torch.load(io.BytesIO(data), weights_only=True)


def roundtrip(x: Any) -> Any:
    return decode(encode(x))
