"""Hidden graders of fundamentals/gradient_clipping: agreement with torch.nn.utils on random
inputs, every norm type, the container forms the contract allows, and the edge cases."""
import math

import torch

from mlkata.checks import check, expect, expect_close, visible_module

V = visible_module("fundamentals/gradient_clipping")


def random_grads(seed: int, with_none: bool = True, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    n = int(torch.randint(1, 5, (1,), generator=g))
    grads = []
    for _ in range(n):
        shape = tuple(int(s) for s in torch.randint(1, 5, (int(torch.randint(1, 4, (1,), generator=g)),), generator=g))
        scale = float(10 ** torch.empty(1).uniform_(-2, 2, generator=g))
        grads.append((torch.randn(shape, generator=g) * scale).to(dtype))
    if with_none:
        grads.insert(int(torch.randint(0, n + 1, (1,), generator=g)), None)
    return grads


def torch_clip_norm(grads, max_norm, norm_type):
    params = []
    for gr in grads:
        p = torch.zeros(1, requires_grad=True) if gr is None else torch.zeros_like(gr, requires_grad=True)
        p.grad = None if gr is None else gr.clone()
        params.append(p)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    return total, [p.grad for p in params]


def _agree(run, seeds, norm_type, rule):
    for seed in seeds:
        grads = random_grads(seed)
        want_total, want_grads = torch_clip_norm(grads, 1.0, norm_type)
        max_norm = float(want_total) * (0.5 if seed % 2 else 2.0)   # half the cases clip, half do not
        want_total, want_grads = torch_clip_norm(grads, max_norm, norm_type)
        got = run(V.clip_norm, grads, max_norm, norm_type)
        expect_close(got["total"], want_total, rule, what=f"returned norm (norm_type={norm_type}, seed {seed})")
        expect_close(got["grads"], want_grads, rule, what=f"gradients after clipping (norm_type={norm_type}, seed {seed})")


@check("agrees with torch.nn.utils.clip_grad_norm_ for the 2-norm on random gradients", points=2)
def agrees_l2(run):
    _agree(run, range(8), 2.0, "match torch.nn.utils.clip_grad_norm_ (norm_type=2)")


@check("agrees with torch for norm_type 1, 3.5 and 0.5 (any positive p)", points=2)
def agrees_other_p(run):
    for p in (1.0, 3.5, 0.5):
        _agree(run, range(10, 14), p, f"the global p-norm is (sum |g|^p)^(1/p) over all entries (p={p})")


@check("norm_type=inf uses the largest absolute entry of any gradient", points=2)
def agrees_inf(run):
    _agree(run, range(20, 25), math.inf, "for norm_type=inf the global norm is max |g| over all gradients")


@check("parameters whose .grad is None are skipped, and a lone tensor or a generator is accepted")
def containers(run):
    grads = [torch.tensor([3.0, 4.0]), None, torch.tensor([12.0])]
    got = run(V.clip_norm, grads, 1.0, 2.0, "generator")
    want_total, want_grads = torch_clip_norm(grads, 1.0, 2.0)
    expect_close(got["total"], want_total, "accept any iterable of parameters -- a generator can be read only once",
                 what="returned norm (generator)")
    expect_close(got["grads"], want_grads, "accept any iterable of parameters -- a generator can be read only once",
                 what="gradients (generator)")
    got = run(V.clip_norm, [torch.tensor([[6.0, 8.0]])], 5.0, 2.0, "tensor")
    expect_close(got["total"], 10.0, "accept a single tensor as parameters", what="returned norm (one tensor)")
    expect_close(got["grads"], [torch.tensor([[3.0, 4.0]])], "accept a single tensor as parameters",
                 rtol=1e-5, what="gradient (one tensor)")


@check("with no gradients at all, returns 0 and changes nothing; one gradient among Nones is clipped")
def no_gradients(run):
    got = run(V.clip_norm, [None, None], 1.0, 2.0)
    expect_close(got["total"], 0.0, "with no gradients the global norm is 0", what="returned norm")
    got = run(V.clip_norm, [None, torch.tensor([0.0, -8.0, 6.0]), None], 2.0, 2.0)
    rule = "parameters whose .grad is None are skipped; the others are clipped as usual"
    expect_close(got["total"], 10.0, rule, what="returned norm (one gradient [0, -8, 6] among Nones)")
    expect_close(got["grads"][1], torch.tensor([0.0, -8.0, 6.0]) * (2.0 / (10.0 + 1e-6)), rule,
                 what="the gradient after clipping to max_norm 2")


@check("clips in place and returns the norm measured before clipping")
def in_place_and_before(run):
    grads = [torch.full((4,), 10.0)]
    got = run(V.clip_norm, grads, 1.0, 2.0)
    expect(all(got["in_place"]), "clip the existing .grad tensors in place (mul_), do not assign new tensors",
           f"p.grad is still the same tensor object: {got['in_place']}")
    expect_close(got["total"], 20.0, "return the total norm before clipping, not after", what="returned norm")


@check("keeps each gradient's dtype and works in float64")
def float64(run):
    grads = random_grads(40, dtype=torch.float64)
    want_total, want_grads = torch_clip_norm(grads, 0.1, 2.0)
    got = run(V.clip_norm, grads, 0.1, 2.0)
    expect_close(got["grads"], want_grads, "gradients keep their dtype (float64 here)", check_dtype=True,
                 rtol=1e-10, atol=1e-12, what="gradients after clipping")


@check("stays finite and correct for huge gradients (entries around 1e15)")
def huge(run):
    grads = [torch.full((3,), 1e15), torch.tensor([-2e15])]
    want_total, want_grads = torch_clip_norm(grads, 1.0, 2.0)
    got = run(V.clip_norm, grads, 1.0, 2.0)
    expect_close(got["total"], want_total, "compute the norm without overflow", rtol=1e-4, what="returned norm")
    expect_close(got["grads"], want_grads, "clipped gradients have norm max_norm", rtol=1e-4, atol=1e-6,
                 what="gradients after clipping")


@check("clip_grad_value_ agrees with torch.nn.utils.clip_grad_value_, skips None, returns None", points=2)
def value_agrees(run):
    for seed in range(50, 56):
        grads = random_grads(seed)
        clip = float(torch.rand(1, generator=torch.Generator().manual_seed(seed))) + 0.05
        params = [None if gr is None else torch.zeros_like(gr, requires_grad=True) for gr in grads]
        for p, gr in zip(params, grads):
            if p is not None:
                p.grad = gr.clone()
        torch.nn.utils.clip_grad_value_([p for p in params if p is not None], clip)
        want = [None if p is None else p.grad for p in params]
        container = "generator" if seed % 2 else "list"
        got = run(V.clip_value, grads, clip, container)
        expect_close(got["grads"], want, "clamp each entry into [-clip_value, clip_value]; skip .grad None",
                     what=f"gradients after clipping (seed {seed}, {container})")
        expect(got["returned"] is None, "clip_grad_value_ returns None", f"it returned {got['returned']!r}")
        expect(all(got["in_place"]), "clip the existing .grad tensors in place",
               f"p.grad is still the same tensor object: {got['in_place']}")
