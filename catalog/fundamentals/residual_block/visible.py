"""Visible checks: the residual block's parameter names and shapes, its output shape, and what
it computes when the convolution weights are zero (then only the skip connection is left)."""
import torch

from mlkata.checks import Fail, check, expect, expect_close, expect_equal, expect_tensor, probe


@probe
def build(sub, args):
    """Build ResidualBlock(*args); report whether it is an nn.Module and its state_dict shapes."""
    torch.manual_seed(0)
    block = sub.ResidualBlock(*args)
    return {"is_module": isinstance(block, torch.nn.Module),
            "shapes": {k: tuple(v.shape) for k, v in block.state_dict().items()}}


@probe
def forward(sub, x, args, state=None, mode="train", upstream=None):
    """Build ResidualBlock(*args), load ``state``, run it on x in ``mode``; with ``upstream``,
    also backpropagate it and report the gradients of x and of every parameter."""
    torch.manual_seed(0)
    block = sub.ResidualBlock(*args)
    shapes = {k: tuple(v.shape) for k, v in block.state_dict().items()}
    if state is not None:
        try:
            block.load_state_dict(state)
        except RuntimeError as e:
            return {"shapes": shapes, "load_error": str(e)[:1000]}
    block.train(mode == "train")
    xin = x if upstream is None else x.clone().requires_grad_(True)
    out = block(xin)
    grads = None
    if upstream is not None:
        out.backward(upstream)
        grads = {"x": xin.grad, **{n: p.grad for n, p in block.named_parameters()}}
    return {"shapes": shapes, "out": out, "state_after": dict(block.state_dict()), "x_after": x, "grads": grads}


def block_name(args):
    return "ResidualBlock(" + ", ".join(str(a) for a in args) + ")"


def expected_shapes(cin, cout=None, stride=1):
    """The state_dict of torchvision's BasicBlock(cin, cout, stride): key -> shape."""
    cout = cin if cout is None else cout

    def bn(prefix):
        return {f"{prefix}.weight": (cout,), f"{prefix}.bias": (cout,), f"{prefix}.running_mean": (cout,),
                f"{prefix}.running_var": (cout,), f"{prefix}.num_batches_tracked": ()}

    shapes = {"conv1.weight": (cout, cin, 3, 3), **bn("bn1"), "conv2.weight": (cout, cout, 3, 3), **bn("bn2")}
    if stride != 1 or cout != cin:
        shapes.update({"downsample.0.weight": (cout, cin, 1, 1), **bn("downsample.1")})
    return shapes


def expect_structure(shapes, args):
    """Judge side: the block's state_dict keys and shapes are torchvision's BasicBlock's."""
    want = expected_shapes(*args)
    rule = (f"{block_name(args)} has submodules conv1, bn1, conv2, bn2 (and downsample = Sequential(1x1 conv, "
            "BatchNorm2d) when the shape changes); convolutions have no bias")
    if not isinstance(shapes, dict):
        raise Fail(rule, f"could not read the block's state_dict: {shapes!r}"[:300])
    missing = [k for k in want if k not in shapes]
    extra = [k for k in shapes if k not in want]
    if missing or extra:
        raise Fail(rule, (f"missing state_dict keys: {missing}\n" if missing else "") +
                   (f"unexpected state_dict keys: {extra}" if extra else ""))
    for k, shape in want.items():
        if tuple(shapes[k]) != shape:
            raise Fail(rule, f"{k} has shape {list(shapes[k])}, expected {list(shape)}")


def default_state(args, beta2=None):
    """A state_dict with all convolution weights zero and fresh batch norms (gamma 1, beta 0,
    running mean 0, running var 1); ``beta2`` replaces bn2.bias."""
    state = {}
    for k, shape in expected_shapes(*args).items():
        if k.endswith("num_batches_tracked"):
            state[k] = torch.tensor(0)
        elif k.endswith("running_var") or (k.endswith(".weight") and len(shape) == 1):
            state[k] = torch.ones(shape)
        else:
            state[k] = torch.zeros(shape)
    if beta2 is not None:
        state["bn2.bias"] = beta2.clone()
    return state


def output_of(got, args, shape):
    """Judge side: structure first, then a loadable state, then a tensor of the right shape."""
    expect_structure(got["shapes"], args)
    if "load_error" in got:
        raise Fail("the block's state_dict has torchvision BasicBlock's keys and shapes",
                   f"load_state_dict failed: {got['load_error']}")
    return expect_tensor(got["out"], f"{block_name(args)} maps (N, C_in, H, W) to "
                                     f"(N, C_out, (H - 1) // stride + 1, (W - 1) // stride + 1)", shape=shape)


X = torch.randn(2, 4, 6, 6, generator=torch.Generator().manual_seed(0))


@check("ResidualBlock(4) has torchvision's conv1, bn1, conv2, bn2 and no shortcut parameters; with all "
       "convolution weights zero the branch adds nothing: out = relu(x), in train and eval mode")
def zero_branch_is_relu(run):
    got = run(build, [4])
    expect(got["is_module"], "ResidualBlock subclasses torch.nn.Module", "it is not an nn.Module")
    expect_structure(got["shapes"], [4])
    for mode in ("train", "eval"):
        got = run(forward, X, [4], default_state([4]), mode)
        expect_close(output_of(got, [4], X.shape), X.relu(),
                     "out = relu(branch + x); with zero conv weights and fresh batch norms the branch is 0",
                     what=f"output in {mode} mode")


@check("ResidualBlock(4, 8, 2) maps (2, 4, 6, 6) to (2, 8, 3, 3); with zero conv weights, out = relu(bn2.bias)")
def projection_output(run):
    beta2 = torch.tensor([1.0, -1.0, 0.5, -2.0, 0.25, 3.0, -0.5, 0.0])
    got = run(forward, X, [4, 8, 2], default_state([4, 8, 2], beta2), "train")
    # Training mode, zero convolutions: bn2 and the shortcut's BatchNorm see all-zero inputs and
    # output their shifts, bn2.bias and 0.
    want = beta2.view(1, 8, 1, 1).relu().expand(2, 8, 3, 3)
    expect_close(output_of(got, [4, 8, 2], (2, 8, 3, 3)), want,
                 "the projection shortcut (1x1 conv with the stride, BatchNorm2d) makes x the branch's shape; "
                 "out = relu(branch + shortcut(x))", what="output (train mode, zero conv weights)")


@check("the last ReLU comes after the addition: with zero conv weights, out = relu(x + bn2.bias)")
def relu_after_addition(run):
    beta2 = torch.tensor([1.0, -1.0, 0.5, -2.0])
    got = run(forward, X, [4], default_state([4], beta2), "train")
    # In training mode bn2 sees an all-zero input: it outputs its shift, bn2.bias, in every position.
    want = (X + beta2.view(1, 4, 1, 1)).relu()
    expect_close(output_of(got, [4], X.shape), want,
                 "out = relu(bn2(conv2(...)) + x): add first, then apply the ReLU once",
                 what="output (train mode, zero conv weights, bn2.bias = [1, -1, 0.5, -2])")


@check("x itself is not modified")
def input_untouched(run):
    beta2 = torch.tensor([1.0, -1.0, 0.5, -2.0])
    got = run(forward, X, [4], default_state([4], beta2), "train")
    expect_close(output_of(got, [4], X.shape), (X + beta2.view(1, 4, 1, 1)).relu(),
                 "out = relu(bn2(conv2(...)) + x)", what="output (train mode, zero conv weights)")
    expect_equal(got["x_after"], X, "do not modify x: add with out + identity, not in place into x",
                 what="x after the forward pass")
