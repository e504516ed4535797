"""Hidden graders of llm/distillation: Hinton's loss against F.kl_div(batchmean) * T^2 + F.cross_entropy
on random classification and token batches (temperatures, alphas, ignore_index), the generalised JSD
against TRL's GKDTrainer.generalized_jsd_loss formula (tests/test_twins_llm_distillation.py runs
TRL's own function against these oracles) for beta from 0 to 1, gradients w.r.t. the student and
none into the teacher, batches with nothing counted, and logits of 1e4."""
import math

import torch
import torch.nn.functional as F

from mlkata.checks import Fail, check, expect, expect_close, visible_module

V = visible_module("llm/distillation")


def oracle_hinton(student, teacher, labels, temperature=2.0, alpha=0.5, ignore_index=-100):
    C = student.shape[-1]
    keep = labels.reshape(-1) != ignore_index
    s, t, y = student.reshape(-1, C)[keep].double(), teacher.reshape(-1, C)[keep].double(), labels.reshape(-1)[keep]
    soft = F.kl_div(F.log_softmax(s / temperature, -1), F.log_softmax(t / temperature, -1), log_target=True,
                    reduction="batchmean") * temperature ** 2
    return alpha * soft + (1 - alpha) * F.cross_entropy(s, y)


def oracle_jsd(student, teacher, labels, beta=0.5, temperature=1.0, ignore_index=-100):
    """TRL's generalized_jsd_loss (reduction='batchmean', with labels), in float64."""
    log_s = F.log_softmax(student.double() / temperature, -1)
    log_t = F.log_softmax(teacher.double() / temperature, -1)
    if beta == 0:
        div = F.kl_div(log_s, log_t, reduction="none", log_target=True)
    elif beta == 1:
        div = F.kl_div(log_t, log_s, reduction="none", log_target=True)
    else:
        b = torch.tensor(beta, dtype=torch.float64)
        log_m = torch.logsumexp(torch.stack([log_s + torch.log1p(-b), log_t + torch.log(b)]), dim=0)
        div = b * F.kl_div(log_m, log_t, reduction="none", log_target=True) + \
            (1 - b) * F.kl_div(log_m, log_s, reduction="none", log_target=True)
    mask = labels != ignore_index
    return div[mask].sum() / mask.sum().clamp_min(1)


def oracle_grad(fn, student, teacher, labels, **options):
    x = student.detach().double().requires_grad_(True)
    fn(x, teacher.double(), labels, **options).backward()
    return x.grad


def logits_pair(seed, shape, scale=2.0, dtype=torch.float32, p_ignore=0.0):
    """(student, teacher, labels): correlated random logits of ``shape`` (..., C), some labels ignored."""
    g = torch.Generator().manual_seed(seed)
    teacher = torch.randn(*shape, generator=g, dtype=torch.float64) * scale
    student = 0.6 * teacher + torch.randn(*shape, generator=g, dtype=torch.float64) * scale * 0.8
    labels = torch.randint(shape[-1], shape[:-1], generator=g)
    if p_ignore:
        drop = torch.rand(shape[:-1], generator=g) < p_ignore
        drop.view(-1)[0] = False
        labels[drop] = -100
    return student.to(dtype), teacher.to(dtype), labels


def jsd_options(beta, **options):
    """generalized_jsd's keyword arguments, with beta = 0.5 left out: its default is part of the contract."""
    return options if beta == 0.5 else {"beta": beta, **options}


def loss_of(got, what):
    return V.scalar(got, what)


def expect_teacher_frozen(got, what):
    g = got.get("grad_teacher")
    expect(g is None or not bool(g.abs().gt(0).any()), "the teacher is frozen: detach its logits so that no "
           "gradient flows into it (it would train the teacher towards the student)",
           f"{what}: the teacher's logits received a non-zero gradient")


@check("distillation_loss agrees with alpha * T^2 * KL(batchmean) + (1 - alpha) * CE on random classification batches",
       points=2)
def hinton_random(run):
    for seed, (N, C), T, alpha in [(0, (8, 5), 2.0, 0.5), (1, (16, 10), 4.0, 0.9), (2, (3, 7), 1.0, 0.3),
                                   (3, (32, 3), 8.0, 0.7)]:
        s, t, y = logits_pair(seed, (N, C))
        got = loss_of(run(V.hinton, s, t, y, {"temperature": T, "alpha": alpha}), f"seed {seed}")
        expect_close(got, oracle_hinton(s, t, y, T, alpha), "loss = alpha * T^2 * mean_i KL(softmax(t_i/T) || "
                     "softmax(s_i/T)) + (1 - alpha) * mean_i CE(s_i, y_i): the KL summed over classes, the means over "
                     "examples", rtol=1e-5, atol=1e-6, what=f"loss (N={N}, C={C}, T={T}, alpha={alpha})")


@check("distillation_loss on token batches (B, T, V): positions labelled ignore_index count in neither term")
def hinton_tokens(run):
    for seed, options in [(10, {}), (11, {"temperature": 3.0, "alpha": 0.8}), (12, {"ignore_index": -1})]:
        s, t, y = logits_pair(seed, (3, 6, 11), p_ignore=0.3)
        if "ignore_index" in options:
            y[y == -100] = -1
        got = loss_of(run(V.hinton, s, t, y, options), f"seed {seed}")
        expect_close(got, oracle_hinton(s, t, y, **options), "every (sequence, position) is one example; those whose "
                     "label is ignore_index are left out of both means", rtol=1e-5, atol=1e-6,
                     what=f"loss ({options or 'defaults'})")


@check("distillation_loss: gradient w.r.t. the student agrees (float64), and the teacher gets none", points=2)
def hinton_gradients(run):
    for seed, options in [(20, {}), (21, {"temperature": 5.0, "alpha": 1.0})]:
        s, t, y = logits_pair(seed, (6, 9), dtype=torch.float64)
        got = run(V.hinton, s, t, y, options, grad=True)
        loss_of(got, f"seed {seed}")
        if got["grad_student"] is None:
            raise Fail("the loss is differentiable w.r.t. student_logits", "no gradient reached the student")
        expect_close(got["grad_student"], oracle_grad(oracle_hinton, s, t, y, **options), "d loss / d student = "
                     "alpha * T * (softmax(s/T) - softmax(t/T)) / n + (1 - alpha) * (softmax(s) - onehot) / n",
                     rtol=1e-7, atol=1e-10, what=f"d loss / d student_logits ({options or 'defaults'})")
        expect_teacher_frozen(got, f"distillation_loss ({options or 'defaults'})")


@check("generalized_jsd agrees with TRL's generalized JSD for beta in {0, 0.1, 0.5 (the default), 0.9, 1} and "
       "temperatures", points=2)
def jsd_random(run):
    for seed, beta, T in [(30, 0.0, 1.0), (31, 0.1, 1.0), (32, 0.5, 2.0), (33, 0.9, 0.7), (34, 1.0, 1.5)]:
        s, t, y = logits_pair(seed, (2, 5, 13), p_ignore=0.2)
        got = loss_of(run(V.jsd, s, t, y, jsd_options(beta, temperature=T)), f"seed {seed}")
        expect_close(got, oracle_jsd(s, t, y, beta, T), "JSD_beta = beta KL(p_t || m) + (1 - beta) KL(p_s || m) with "
                     "m = beta p_t + (1 - beta) p_s (beta 0 and 1: the plain KLs; 0.5 when not given), summed over "
                     "the vocabulary, averaged over counted positions", rtol=1e-5, atol=1e-6,
                     what=f"loss (beta={beta}, T={T})")


@check("generalized_jsd: gradient w.r.t. the student agrees, none reaches the teacher; nothing counted gives 0")
def jsd_gradients_and_empty(run):
    s, t, y = logits_pair(40, (2, 4, 7), dtype=torch.float64)
    for beta in (0.0, 0.5, 1.0):
        got = run(V.jsd, s, t, y, jsd_options(beta), grad=True)
        loss_of(got, f"beta {beta}")
        if got["grad_student"] is None:
            raise Fail("the loss is differentiable w.r.t. student_logits", "no gradient reached the student")
        expect_close(got["grad_student"], oracle_grad(oracle_jsd, s, t, y, beta=beta), "the gradient of the JSD "
                     "w.r.t. the student's logits", rtol=1e-7, atol=1e-10, what=f"d loss / d student (beta={beta})")
        expect_teacher_frozen(got, f"generalized_jsd (beta={beta})")
    got = loss_of(run(V.jsd, s, t, torch.full_like(y, -100)), "every label -100")
    expect_close(got, 0.0, "with no counted position the sum (0) is divided by max(count, 1): the loss is 0, not nan",
                 what="loss with every label ignored")


@check("stability: logits of size 1e4 give the exact finite losses", points=1)
def huge_logits(run):
    s, t, y = logits_pair(50, (4, 6), scale=1e4, dtype=torch.float64)
    got = loss_of(run(V.hinton, s, t, y, {"temperature": 2.0}), "huge logits")
    expect(bool(torch.isfinite(got)), "use log_softmax (stable): exp of 1e4 overflows", f"your loss is {got.item()}")
    expect_close(got, oracle_hinton(s, t, y), "Hinton's loss of huge logits", rtol=1e-6, what="distillation_loss")
    for beta in (0.0, 0.5):
        got = loss_of(run(V.jsd, s, t, y, jsd_options(beta)), f"huge logits, beta {beta}")
        expect(bool(torch.isfinite(got)), "build the mixture in log space (logsumexp): probabilities of exactly 0 "
               "make log m = -inf", f"beta {beta}: your loss is {got.item()}")
        expect_close(got, oracle_jsd(s, t, y, beta), "the JSD of huge logits", rtol=1e-6, atol=1e-6,
                     what=f"generalized_jsd (beta={beta})")
