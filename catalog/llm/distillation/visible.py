"""Visible checks: the two terms of Hinton's loss, and the JSD's end points on a tiny case."""
import math

import torch

from mlkata.checks import Fail, check, describe, expect_close, probe


@probe
def hinton(sub, student, teacher, labels, options=None, grad=False):
    s = student.detach().clone().requires_grad_(True) if grad else student
    t = teacher.detach().clone().requires_grad_(True) if grad else teacher
    out = sub.distillation_loss(s, t, labels, **(options or {}))
    return _report(out, s, t, grad)


@probe
def jsd(sub, student, teacher, labels, options=None, grad=False):
    s = student.detach().clone().requires_grad_(True) if grad else student
    t = teacher.detach().clone().requires_grad_(True) if grad else teacher
    out = sub.generalized_jsd(s, t, labels, **(options or {}))
    return _report(out, s, t, grad)


def _report(out, s, t, grad):
    report = {"loss": out, "grad_student": None, "grad_teacher": None}
    if grad and isinstance(out, torch.Tensor) and out.requires_grad:
        out.backward()
        report["grad_student"], report["grad_teacher"] = s.grad, t.grad
    return report


def scalar(got, what):
    out = got["loss"]
    if not isinstance(out, torch.Tensor) or out.dim() != 0 or not out.dtype.is_floating_point:
        raise Fail("the loss is a 0-dim float tensor", f"{what}: your code returned {describe(out)}")
    return out


def kl(p, q):
    return sum(a * (math.log(a) - math.log(b)) for a, b in zip(p, q) if a > 0)


def softmax(xs, T=1.0):
    e = [math.exp(x / T) for x in xs]
    return [v / sum(e) for v in e]


S = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
Tt = torch.tensor([[1.0, 1.0, -2.0], [0.0, 2.0, 0.0]])
Y = torch.tensor([0, 1])


@check("alpha = 1: only the soft term, T^2 * mean KL(teacher_T || student_T)")
def soft_term(run):
    got = scalar(run(hinton, S, Tt, Y, {"temperature": 2.0, "alpha": 1.0}), "distillation_loss(alpha=1, T=2)")
    want = 4.0 * (kl(softmax([1, 1, -2], 2), softmax([2, 0, -1], 2)) + kl(softmax([0, 2, 0], 2), softmax([0.5, 0.5, 0], 2))) / 2
    expect_close(got, want, "soft term = T^2 * KL(softmax(teacher / T) || softmax(student / T)), summed over classes, "
                 "averaged over the 2 examples", what="loss")


@check("alpha = 0: only the hard term, the student's cross-entropy at temperature 1")
def hard_term(run):
    got = scalar(run(hinton, S, Tt, Y, {"temperature": 4.0, "alpha": 0.0}), "distillation_loss(alpha=0, T=4)")
    want = (-math.log(softmax([2, 0, -1])[0]) - math.log(softmax([0.5, 0.5, 0])[1])) / 2
    expect_close(got, want, "hard term = mean of -log softmax(student_logits)[label] (the temperature does not apply)",
                 what="loss")


@check("generalized_jsd: beta = 0 is KL(teacher || student), beta = 1 is KL(student || teacher)")
def jsd_end_points(run):
    for beta, want in ((0.0, kl(softmax([1, 1, -2]), softmax([2, 0, -1]))),
                       (1.0, kl(softmax([2, 0, -1]), softmax([1, 1, -2])))):
        got = scalar(run(jsd, S[:1], Tt[:1], Y[:1], {"beta": beta}), f"generalized_jsd(beta={beta})")
        expect_close(got, want, "the end points of the generalised JSD are the forward (beta = 0) and reverse "
                     "(beta = 1) KL", what=f"loss (beta = {beta})")
