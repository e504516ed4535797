"""The judge's reading of a submission's source (mlkata/policy.py) and the dispatcher-level record
of torch calls (engine.op_record): what they refuse, and proof that honest code never trips them."""
import pytest
import torch

from mlkata import catalog, engine, policy
from helpers import ROOT, VARIANTS

HONEST = sorted([*ROOT.glob("solutions/*/*.py"), *ROOT.glob("catalog/*/*/exercise.py"),
                 *VARIANTS.glob("*/*/alt_*.py"), *VARIANTS.glob("*/*/bug_*.py")])


def test_no_reference_and_no_variant_is_refused():
    """Every reference and every variant (correct or buggy: bugs are honest mistakes, not attacks)
    passes the policy -- it refuses only what an honest solution never needs."""
    refused = {str(p.relative_to(ROOT)): [v.describe() for v in policy.violations(p.read_text())]
               for p in HONEST}
    assert len(HONEST) > 500
    assert {k: v for k, v in refused.items() if v} == {}


@pytest.mark.parametrize("source, construct", [
    ("import gc\n", "import gc"),
    ("import ctypes.util\n", "import ctypes.util"),
    ("from ctypes import CDLL\n", "from ctypes import ..."),
    ("import sys\nsys.modules['mlkata.engine']\n", "sys.modules"),
    ("import sys as s\nf = s._getframe(1)\n", "sys._getframe"),
    ("def f():\n    pass\nf.__globals__\n", ".__globals__"),
    ("import torch\ntorch.nn.utils.clip_grad_norm_.__kwdefaults__\n", ".__kwdefaults__"),
    ("x = (lambda: 0).__code__\n", ".__code__"),
    ("import torch\ntorch._C._nn.max_pool2d_with_indices\n", "torch._C"),
    ("import torch\ntorch.ops.aten.convolution\n", "torch.ops"),
    ("from torch import _C\n", "torch._C"),
    ("import torch\ngetattr(torch, '_C')\n", "torch._C"),
    ("import torch\ngetattr(torch, '_' + 'C')\n", "getattr(..., <computed name>)"),
    ("import torch\nn = 'x'\nsetattr(torch, n, 1)\n", "setattr(..., <computed name>)"),
    ("import functools, torch\nfunctools.reduce(getattr, ['_C'], torch)\n", "getattr"),
    ("import _posixsubprocess\n", "import _posixsubprocess"),
    ("import os\nos.fork()\n", "os.fork"),
    ("import os\nos.execv('/bin/sh', ['sh'])\n", "os.execv"),
    ("from os import system\n", "os.system"),
    ("import signal\n", "import signal"),
    ("import resource\n", "import resource"),
    ("import importlib\n", "import importlib"),
    ("__import__('o' + 's')\n", "__import__()"),
    ("eval('1')\n", "eval()"),
    ("exec('x = 1')\n", "exec()"),
    ("compile('1', 'f', 'eval')\n", "compile()"),
    ("import mlkata.engine\n", "import mlkata.engine"),
    ("import os\nos.open('x', 0, dir_fd=3)\n", "dir_fd="),
    ("import os\nopen(f'/proc/{os.getppid()}/mem')\n", "'/proc/'"),
    ("import torch\ntorch.__dict__['_C']\n", ".__dict__"),
    ("vars(object)\n", "vars()"),
    ("().__class__.__mro__[1].__subclasses__()\n", ".__subclasses__"),
    ("import threading\n", "import threading"),
    ("import socket\n", "import socket"),
])
def test_each_rule_names_the_construct_and_its_line(source, construct):
    found = policy.violations("x = 0\n" + source)
    assert construct in [v.what for v in found], [v.describe() for v in found]
    hit = next(v for v in found if v.what == construct)
    assert hit.line >= 2 and hit.why
    message = policy.message(found)
    assert message.startswith("not allowed in a graded submission") and f"line {hit.line}" in message


@pytest.mark.parametrize("source", [
    "import torch\nimport torch.nn.functional as F\ny = F.softmax(torch.ones(3), -1)\n",
    "class M:\n    def __init__(self):\n        for n in ('a', 'b'):\n            setattr(self, n, 1)\n",
    "import math, itertools, collections, heapq, functools, dataclasses, typing\n",
    "x = getattr(object(), 'cache', None)\n",
    "import os\np = os.path.join('a', 'b')\n",
    "def f(*a, **k):\n    return sorted(k)\n",
    "import numpy as np\nnp.random.default_rng(0)\n",
])
def test_ordinary_python_is_not_refused(source):
    assert policy.violations(source) == []


def test_a_file_that_does_not_parse_is_left_to_the_import_error():
    assert policy.violations("def f(:\n") == []


@pytest.mark.parametrize("route", [
    lambda x: torch.ops.aten.max_pool2d_with_indices(x, [2, 2]),
    lambda x: torch.ops.aten.max_pool2d_with_indices.default(x, [2, 2]),
    lambda x: torch._C._nn.max_pool2d_with_indices(x, 2),
    lambda x: torch.max_pool2d(x, 2),
    lambda x: torch.nn.functional.max_pool2d(x, 2),
    lambda x: torch.nn.MaxPool2d(2)(x),
    lambda x: torch.nn.modules.pooling.F.max_pool2d(x, 2),
])
def test_the_op_record_sees_a_forbidden_op_however_it_is_reached(route):
    forbidden = list(catalog.get("vision/max_pool2d").forbidden)
    x = torch.randn(1, 1, 4, 4)
    with engine.op_record(forbidden) as seen:
        route(x)
    assert seen, "the call went unseen"


def test_the_op_record_sees_the_original_even_when_captured_before_any_wrapper():
    forbidden = list(catalog.get("vision/conv2d_unfold").forbidden)
    captured = torch._C._VariableFunctions.conv2d
    with engine.op_record(forbidden) as seen:
        captured(torch.randn(1, 1, 4, 4), torch.randn(1, 1, 3, 3))
    assert seen in (["torch.conv2d"], ["torch.nn.functional.conv2d"])      # one C binding, two names


def test_the_op_record_ignores_ops_an_honest_solution_uses():
    forbidden = list(catalog.get("vision/max_pool2d").forbidden)
    x = torch.randn(1, 1, 4, 4)
    with engine.op_record(forbidden) as seen:
        torch.nn.functional.unfold(x, 2).max(dim=1)
        torch.nn.functional.pad(x, (1, 1, 1, 1), value=float("-inf")).amax()
    assert seen == []
