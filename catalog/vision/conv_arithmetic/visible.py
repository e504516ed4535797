"""Visible checks: output sizes of familiar layers and the receptive field of a small stack."""
from mlkata.checks import check, expect_close, expect_equal, probe


@probe
def sizes(sub, fn_name, cases):
    """Call ``fn_name(**case)`` for every case; report each result, or the name of the exception."""
    fn = getattr(sub, fn_name)
    out = []
    for case in cases:
        try:
            out.append({"value": fn(**case)})
        except NotImplementedError:
            raise
        except Exception as e:  # noqa: BLE001 - the check decides whether this error was expected
            out.append({"raised": type(e).__name__, "message": str(e)[:200]})
    return out


@probe
def fields(sub, stacks):
    """``receptive_field`` of every stack, as lists (rf, jump, start)."""
    return [list(sub.receptive_field(layers)) for layers in stacks]


def fmt(case):
    return ", ".join(f"{k}={v}" for k, v in case.items())


def value_of(result):
    """The returned value, or a description of the exception raised instead."""
    if isinstance(result, dict) and "value" in result:
        return result["value"]
    if isinstance(result, dict) and "raised" in result:
        return f"raised {result['raised']}: {result['message']}"
    return result


@check("ResNet-style convs: 224 -> 112 with a 7x7 stride-2 pad-3 conv; a 3x3 pad-1 conv keeps the size")
def conv_sizes(run):
    cases = [dict(size=224, kernel_size=7, stride=2, padding=3), dict(size=32, kernel_size=3, padding=1),
             dict(size=32, kernel_size=3, stride=2, padding=1), dict(size=10, kernel_size=3, dilation=2)]
    got = run(sizes, "conv_output_size", cases)
    for g, case, w in zip(got, cases, [112, 32, 16, 6]):
        expect_equal(value_of(g), w, "out = (size + 2*padding - dilation*(kernel_size - 1) - 1) // stride + 1",
                     what=f"conv_output_size({fmt(case)})")


@check("a 4x4 stride-2 pad-1 transposed conv doubles the size (16 -> 32), as in DCGAN")
def transposed_sizes(run):
    cases = [dict(size=16, kernel_size=4, stride=2, padding=1, transposed=True),
             dict(size=7, kernel_size=3, stride=2, padding=1, output_padding=1, transposed=True)]
    got = run(sizes, "conv_output_size", cases)
    for g, case, w in zip(got, cases, [32, 14]):
        expect_equal(value_of(g), w, "transposed: out = (size - 1)*stride - 2*padding + dilation*(kernel_size "
                     "- 1) + output_padding + 1", what=f"conv_output_size({fmt(case)})")


@check("max pooling: stride defaults to kernel_size; ceil_mode keeps the last partial window (5 -> 2 or 3)")
def pool_sizes(run):
    cases = [dict(size=5, kernel_size=2), dict(size=5, kernel_size=2, ceil_mode=True),
             dict(size=112, kernel_size=3, stride=2, padding=1)]
    got = run(sizes, "pool_output_size", cases)
    for g, case, w in zip(got, cases, [2, 3, 56]):
        expect_equal(value_of(g), w, "floor((size + 2*padding - dilation*(k - 1) - 1) / stride) + 1, rounded up "
                     "in ceil_mode; stride=None means stride = kernel_size", what=f"pool_output_size({fmt(case)})")


@check("two stacked 3x3 convs see 5 pixels; a stride-2 layer first makes the next 3x3 conv see 2 pixels per step")
def small_stacks(run):
    stacks = [[], [{"kernel_size": 3}, {"kernel_size": 3}],
              [{"kernel_size": 2, "stride": 2}, {"kernel_size": 3, "padding": 1}]]
    got = run(fields, stacks)
    for g, layers, w in zip(got, stacks, [[1, 1, 0.0], [5, 1, 2.0], [6, 2, 0.5]]):
        expect_close(g, w, "rf grows by (k - 1) * dilation * jump per layer; jump is the product of earlier strides; "
                     "start is the centre of output 0's window", what=f"(rf, jump, start) of {layers}")
