"""Hidden graders of fundamentals/gradient_flow: the initializations' statistics (mean, std and
normal shape of every weight matrix, with bounds a correct implementation misses less than once
in 10^6 runs), the gradient norms against autograd on models of many shapes, leftover gradients,
the vanishing diagnosis and the phenomenon itself (sigmoid + Xavier vanishes, ReLU + He does not)."""
import math

import torch

from mlkata.checks import Z_STRICT, Fail, check, expect, expect_close, expect_equal, visible_module

V = visible_module("fundamentals/gradient_flow")


def data(seed, n, d_in, d_out):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d_in, generator=g), torch.randn(n, d_out, generator=g)


def random_spec(depth, d_in, width, d_out, act="Sigmoid"):
    sizes = [d_in] + [width] * (depth - 1) + [d_out]
    spec = []
    for i in range(depth):
        spec.append(("Linear", sizes[i], sizes[i + 1]))
        if i < depth - 1:
            spec.append((act,))
    return spec


def random_state(spec, seed):
    g = torch.Generator().manual_seed(seed)
    state = {}
    for k, v in V.build_model(spec).state_dict().items():
        fan_in = v.shape[1] if v.dim() == 2 else 1
        state[k] = torch.randn(v.shape, generator=g) * (1.5 / math.sqrt(fan_in))
    return state


def weight_stats(w):
    w = w.double().flatten()
    mean, std = w.mean(), w.std()
    kurt = (((w - mean) / std) ** 4).mean()
    return float(mean), float(std), float(kurt), w.numel()


@check("weights are normal with mean 0 and std sqrt(2 / (fan_in + fan_out)) (xavier) or sqrt(2 / fan_in) (he), "
       "on non-square layers", points=2)
def init_statistics(run):
    for init, seed in (("xavier", 1), ("he", 2), ("xavier", 3)):
        kwargs = {"activation": "relu", "init": init} if seed < 3 else {"activation": "relu"}   # the default
        got = run(V.build, [512, 256, 128, 3], kwargs, seed=seed)
        for i, (fan_in, fan_out) in enumerate(((512, 256), (256, 256), (256, 128))):
            w = got["state"].get(f"{2 * i}.weight")
            expect(isinstance(w, torch.Tensor) and tuple(w.shape) == (fan_out, fan_in),
                   "make_mlp(512, 256, 128, depth=3): Linear(512, 256), Linear(256, 256), Linear(256, 128)",
                   f"layer {i} weight: expected shape [{fan_out}, {fan_in}], got {V.describe(w)}")
            want = math.sqrt(2 / (fan_in + fan_out)) if init == "xavier" else math.sqrt(2 / fan_in)
            formula = "sqrt(2 / (fan_in + fan_out))" if init == "xavier" else "sqrt(2 / fan_in)"
            mean, std, kurt, n = weight_stats(w)
            where = (f"init={init!r}" if "init" in kwargs else "init left to its default ('xavier')") + \
                f", layer {i} (fan_in {fan_in}, fan_out {fan_out}, {n} weights)"
            if abs(std / want - 1) > Z_STRICT * math.sqrt(1 / (2 * n)):
                raise Fail(f"{init} init draws weights with std {formula} (a standard deviation, not a variance; "
                           "fan_in is weight.shape[1] of an nn.Linear)",
                           f"{where}: sample std {std:.5g}, expected {want:.5g}")
            expect(abs(mean) <= Z_STRICT * want / math.sqrt(n), "weights have mean 0",
                   f"{where}: sample mean {mean:.3g}")
            expect(abs(kurt - 3) <= Z_STRICT * math.sqrt(24 / n),
                   "weights are drawn from a normal distribution (normal_, not uniform_)",
                   f"{where}: the sample kurtosis is {kurt:.3f}; a normal distribution has 3, a uniform one 1.8")
            expect_equal(got["state"][f"{2 * i}.bias"], torch.zeros(fan_out), "every bias starts at 0",
                         what=f"layer {i} bias ({where})")


@check("make_mlp: depth 1 and 2, sigmoid modules, and ValueError for depth 0 or an unknown activation/init")
def structure_edges(run):
    for args, kwargs, types in (([4, 6, 3, 1], {"activation": "sigmoid"}, ["Linear"]),
                                ([4, 6, 3, 2], {"activation": "sigmoid"}, ["Linear", "Sigmoid", "Linear"]),
                                ([4, 6, 3, 4], {"activation": "sigmoid", "init": "he"},
                                 ["Linear", "Sigmoid", "Linear", "Sigmoid", "Linear", "Sigmoid", "Linear"])):
        got = run(V.build, args, kwargs, seed=0)
        rule = "depth Linear layers with one activation module between consecutive layers, none after the last"
        V.expect_types(got["types"], types, rule, f"make_mlp{tuple(args)}")
        spec = V.spec_of(got["types"], got["state"])
        sizes = [s[1:] for s in spec if s[0] == "Linear"]
        want = list(zip([4] + [6] * (args[3] - 1), [6] * (args[3] - 1) + [3]))
        expect_equal([tuple(s) for s in sizes], want, "sizes in_features -> width -> ... -> width -> out_features",
                     what=f"(in, out) of each Linear of make_mlp{tuple(args)}")
    for args, kwargs in (([4, 6, 3, 0], {}), ([4, 6, 3, 2], {"activation": "gelu"}),
                         ([4, 6, 3, 2], {"init": "uniform"})):
        got = run(V.raises_value_error, args, kwargs)
        expect(got == "ValueError", "make_mlp raises ValueError for depth < 1 or an unknown activation or init",
               f"make_mlp{tuple(args)} with {kwargs}: " + ("nothing was raised" if got is None else f"raised {got}"))


@check("the same generator seed gives the same weights; another seed gives others")
def reproducible(run):
    a = run(V.build, [8, 16, 4, 3], {"init": "he"}, seed=5, global_seed=1)
    b = run(V.build, [8, 16, 4, 3], {"init": "he"}, seed=5, global_seed=2)
    c = run(V.build, [8, 16, 4, 3], {"init": "he"}, seed=6, global_seed=1)
    rule = "take every random draw from `generator` when one is given (weight.normal_(..., generator=generator))"
    for k in a["state"]:
        expect_equal(b["state"].get(k), a["state"][k], rule, what=f"{k} with the same seed (another global seed)")
    expect(not torch.equal(a["state"]["0.weight"], c["state"]["0.weight"]), rule,
           "generators seeded 5 and 6 gave the same first-layer weights")


@check("layer_grad_norms agrees with autograd on networks of depth 1 to 8, sigmoid, ReLU and tanh", points=2)
def norms_agree(run):
    cases = [(1, 5, 7, 3, "Sigmoid"), (2, 6, 9, 2, "ReLU"), (4, 10, 16, 4, "Tanh"), (8, 12, 20, 5, "Sigmoid"),
             (6, 3, 32, 1, "ReLU")]
    for i, (depth, d_in, width, d_out, act) in enumerate(cases):
        spec = random_spec(depth, d_in, width, d_out, act)
        state = random_state(spec, 10 + i)
        x, t = data(20 + i, 16, d_in, d_out)
        got = run(V.norms, spec, state, x, t)
        V.expect_norms(got["norms"], V.oracle_norms(spec, state, x, t),
                       f"norms of a depth-{depth} {act} network ({d_in} -> {width} -> {d_out})")


@check("only nn.Linear weights count: a LayerNorm's weight and the biases are not layers")
def only_linear_weights(run):
    spec = [("Linear", 6, 8), ("LayerNorm", 8), ("ReLU",), ("Linear", 8, 8), ("LayerNorm", 8), ("ReLU",),
            ("Linear", 8, 3)]
    state = random_state(spec, 30)
    state.update({k: torch.ones(8) + 0.1 * torch.arange(8.0) for k in ("1.weight", "4.weight")})
    x, t = data(31, 10, 6, 3)
    got = run(V.norms, spec, state, x, t)
    V.expect_norms(got["norms"], V.oracle_norms(spec, state, x, t), "norms of Linear-LayerNorm-ReLU-... (3 Linear)")


@check("gradients left in .grad by an earlier backward pass do not leak in, and the weights are not changed")
def stale_gradients(run):
    spec = random_spec(3, 5, 8, 2)
    state = random_state(spec, 40)
    x, t = data(41, 12, 5, 2)
    got = run(V.norms, spec, state, x, t, stale=True)
    want = V.oracle_norms(spec, state, x, t)
    V.as_norms(got["norms"], len(want))
    expect_close(got["norms"], want, "backward() adds to .grad: clear leftover gradients first (model.zero_grad())",
                 rtol=1e-3, atol=0, what="norms (every .grad already held 7.0)")
    expect(got["changed"] == [], "layer_grad_norms only measures: the parameters stay as they were",
           f"these changed: {got['changed']}")


def _phenomenon(run, activation, init, depth, seed):
    x, t = data(50 + seed, 64, 32, 8)
    got = run(V.pipeline, [32, 64, 8, depth], {"activation": activation, "init": init}, x, t, seed)
    spec = V.spec_of(got["types"], got["state"])
    V.expect_norms(got["norms"], V.oracle_norms(spec, got["state"], x, t),
                   f"norms of your depth-{depth} {activation} network")
    n = V.as_norms(got["norms"], depth)
    # a network whose last layer gets no gradient at all (all-zero weights) shows no phenomenon: nan fails both checks
    return n, n[0] / n[-1] if n[-1] else float("nan"), got["vanish"]


@check("sigmoid + Xavier, 20 layers: the gradient vanishes (first/last < 1e-6) and gradients_vanish says so",
       points=2)
def sigmoid_deep_vanishes(run):
    for seed in (1, 2):
        n, ratio, vanish = _phenomenon(run, "sigmoid", "xavier", 20, seed)
        expect(ratio < 1e-6, "each sigmoid layer scales the gradient down (sigmoid' <= 1/4): after 19 of them "
                             "almost nothing is left", f"first / last norm = {ratio:.3g}")
        expect(V.as_bool(vanish, "gradients_vanish returns a bool", "gradients_vanish") is True,
               "gradients_vanish(norms) is True for a 20-layer sigmoid network", f"first / last = {ratio:.3g}")


@check("ReLU + He, 20 layers: the gradient reaches the first layer (first/last within 1e-2..1e2), "
       "gradients_vanish says False")
def relu_he_flows(run):
    for seed in (3, 4):
        n, ratio, vanish = _phenomenon(run, "relu", "he", 20, seed)
        expect(1e-2 < ratio < 1e2, "He initialization keeps the signal's variance constant through ReLU layers, "
                                   "so the first layer's gradient is about as large as the last's",
               f"first / last norm = {ratio:.3g}; norms: {['%.2g' % v for v in n]}")
        expect(V.as_bool(vanish, "gradients_vanish returns a bool", "gradients_vanish") is False,
               "gradients_vanish(norms) is False for a 20-layer ReLU network with He init", f"first / last = {ratio:.3g}")


@check("gradients_vanish: False when the last norm is 0, accepts a tensor, honours the threshold, returns a bool")
def vanish_edges(run):
    rule = "gradients_vanish is norms[0] / norms[-1] < threshold, and False when norms[-1] == 0"
    cases = (([0.0, 0.0], 1e-3, False), ([1e-5, 0.0], 1e-3, False), ([0.0, 1.0], 1e-3, True),
             ([2e-3, 5.0, 1.0], 1e-3, False), ([2e-3, 5.0, 1.0], 1e-2, True), ([3.0], 1e-3, False),
             (torch.tensor([1e-9, 1e-3, 1.0]), 1e-3, True), (torch.tensor([1.0, 1e-3, 1e-9]), 1e-3, False))
    for norms_, threshold, want in cases:
        what = f"gradients_vanish({norms_!r}, {threshold})"
        got = V.as_bool(run("gradients_vanish", norms_, threshold), "gradients_vanish returns a Python bool", what)
        expect_equal(got, want, rule, what=what)
    # the default threshold is 1e-3: ratios 7e-4 and 2e-3 fall on either side of it (and of 1e-2, 1e-4)
    for norms_, want in (([7e-4, 1.0], True), ([2e-3, 1.0], False)):
        got = V.as_bool(run("gradients_vanish", norms_), "gradients_vanish returns a Python bool",
                        f"gradients_vanish({norms_})")
        expect_equal(got, want, "the default threshold is 1e-3", what=f"gradients_vanish({norms_}) (default threshold)")
