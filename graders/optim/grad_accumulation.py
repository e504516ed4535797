"""Hidden graders of optim/grad_accumulation: parameters after N accumulated steps equal those of
training on the concatenated batches (the oracle), for equal and unequal micro-batches, token
counts with ignored labels, a short last group, stale gradients at entry; the number of optimizer
steps; the returned losses."""
from mlkata.checks import check, expect, expect_close, visible_module

V = visible_module("optim/grad_accumulation")


def _same_as_full_batch(run, problem, k, rule, what, **kw):
    want, want_losses = V.full_batch_train(problem, k)
    got = run(V.train, problem, k, **kw)
    expect_close(got["params"], want, rule, rtol=1e-9, atol=1e-12, what=what)
    return got, want_losses


@check("equal micro-batches: after several steps the parameters equal full-batch training (k = 2, 4, 8)", points=2)
def equal_sizes(run):
    for k, seed in ((2, 10), (4, 11), (8, 12)):
        make = V.make_problem("regression", seed, [3] * (3 * k), lr=0.05)
        _same_as_full_batch(run, make, k, "weight each micro-batch's mean loss by 1/k, accumulate the gradients, "
                            "step once per group", f"parameters after 3 steps of {k} micro-batches of 3 samples, "
                            f"vs 3 steps on batches of {3 * k}")


@check("unequal micro-batches are weighted by their sample count n_i / N, not 1/k", points=2)
def unequal_sizes(run):
    problem = V.make_problem("regression", 20, [1, 7, 2, 6, 5, 3, 8, 1])
    _same_as_full_batch(run, problem, 4, "with unequal micro-batches scale each mean loss by n_i / N (its share of "
                        "the group's samples): 1/k would over-weight the small micro-batches",
                        "parameters after 2 steps of micro-batches sized [1, 7, 2, 6] and [5, 3, 8, 1]")


@check("token losses are weighted by labelled-token counts (count_fn), ignoring padded labels", points=2)
def token_counts(run):
    problem = V.make_problem("tokens", 30, [6, 20, 3, 11, 9, 16], lr=0.2)
    _same_as_full_batch(run, problem, 3, "weight each micro-batch by count_fn(y) / total count of the group -- the "
                        "number of tokens its mean loss averages over, not its number of rows",
                        "parameters after 2 steps over token micro-batches with ignored labels")


@check("the default count_fn counts samples (y.shape[0]), not elements: sequences padded to another length in "
       "every micro-batch")
def default_counts_samples(run):
    problem = V.make_problem("sequences", 45, [3, 5, 2, 4, 6, 1], lr=0.05)
    _same_as_full_batch(run, problem, 3, "without count_fn a micro-batch has y.shape[0] units (its samples): y.numel() "
                        "counts every padded position and target column, and differs between micro-batches padded to "
                        "different lengths", "parameters after 2 steps over sequence micro-batches of 3, 5, 2 | 4, 6, 1 "
                        "samples padded to different lengths")


@check("a micro-batch with no unit at all (every label ignored) contributes nothing -- no NaN")
def zero_unit_micro_batch(run):
    problem = V.make_problem("tokens", 46, [6, (5, 0), 9, 7, (4, 0), 3], lr=0.2)
    rule = ("a micro-batch with n_i = 0 units has weight 0 and an undefined (NaN) mean loss: skip it, since NaN * 0 "
            "is still NaN and would poison the group's gradients or its returned loss")
    got, want_losses = _same_as_full_batch(run, problem, 3, rule, "parameters after 2 steps, micro-batches 2 and 5 "
                                           "holding only ignored labels")
    expect_close(got["losses"], want_losses, rule, rtol=1e-9, atol=1e-12, what="the returned losses")


@check("a shorter last group still gets its own step, scaled by its own total")
def short_last_group(run):
    problem = V.make_problem("regression", 40, [4] * 7)
    got, _ = _same_as_full_batch(run, problem, 3, "the last group may hold fewer than accumulation_steps micro-"
                                 "batches: still one step, with weights n_i / N of that group (1/1 here, not 1/3)",
                                 "parameters after 7 micro-batches with accumulation_steps = 3")
    expect(got["steps"] == 3, "7 micro-batches in groups of 3 make 3 optimizer steps (3 + 3 + 1)",
           f"optimizer.step() was called {got['steps']} times")


@check("gradients left in .grad before the call are discarded")
def stale_gradients(run):
    problem = V.make_problem("regression", 50, [4] * 4)
    _same_as_full_batch(run, problem, 2, "zero the gradients before each group's first backward, including the "
                        "first group (the parameters may arrive with old gradients in .grad)",
                        "parameters when .grad held 100.0 everywhere before the call", stale_grads=True)


@check("exactly one optimizer step per group, for any number of micro-batches")
def step_counts(run):
    for n, k in ((5, 5), (5, 2), (6, 1), (9, 4), (3, 8)):
        problem = V.make_problem("regression", 60 + n, [2] * n)
        got = run(V.train, problem, k)
        want = -(-n // k)
        expect(got["steps"] == want, "call optimizer.step() once per group of accumulation_steps micro-batches "
               "(a shorter last group counts)", f"{n} micro-batches with accumulation_steps = {k} should make "
               f"{want} step(s); optimizer.step() was called {got['steps']} times")
        expect(isinstance(got["losses"], list) and len(got["losses"]) == want, "return one loss per optimizer step",
               f"expected a list of {want} floats, your code returned {got['losses']!r}"[:300])


@check("the returned losses are the full-batch means of each group, for unequal sizes and token counts too")
def losses_unequal(run):
    for kind, sizes, k in (("regression", [1, 7, 2, 6, 5, 3, 8], 3), ("tokens", [6, 20, 3, 11, 9, 16], 2)):
        problem = V.make_problem(kind, 70, sizes)
        _, want = V.full_batch_train(problem, k)
        got = run(V.train, problem, k)
        expect_close(got["losses"], want, "the loss of a step is the mean over all units of its group: "
                     "sum_i n_i / N * loss_i, not the plain average of the micro-batch means", rtol=1e-9, atol=1e-12,
                     what=f"returned losses ({kind}, micro-batch sizes {sizes}, k = {k})")
