"""Visible checks: a LoRA layer starts as its base layer, adds (alpha / r) x A^T B^T, trains only A
and B, and gives the same output merged and unmerged."""
import torch

from mlkata.checks import Fail, check, expect, expect_close, probe


@probe
def lora(sub, weight, bias, r, alpha, steps, x=None, A=None, B=None, dropout=0.0, train=False, seed=0,
         grad_out=None):
    """Build ``sub.LoRALinear`` around an ``nn.Linear`` holding ``weight``/``bias`` (after
    ``torch.manual_seed(seed)``), optionally overwrite lora_A / lora_B, put it in train or eval
    mode, then run ``steps`` in order and report one record per step:

    * ``"state"``: names of the parameters that require grad, lora_A, lora_B, weight, bias,
      scaling, merged;
    * ``"forward"``: the output for ``x``;
    * ``"backward"``: the output for ``x``, then backpropagate ``(out * grad_out).sum()`` and
      report the gradients of lora_A, lora_B, weight and bias;
    * ``"merge"`` / ``"unmerge"``: call the method, report what it returned.
    """
    out_features, in_features = weight.shape
    base = torch.nn.Linear(in_features, out_features, bias=bias is not None, dtype=weight.dtype)
    with torch.no_grad():
        base.weight.copy_(weight)
        if bias is not None:
            base.bias.copy_(bias)
    torch.manual_seed(seed)
    layer = sub.LoRALinear(base, r=r, alpha=alpha, dropout=dropout)
    for name in ("lora_A", "lora_B"):
        if not isinstance(getattr(layer, name, None), torch.Tensor):
            return {"problem": f"layer.{name} must be a tensor parameter (nn.Parameter), "
                               f"found {type(getattr(layer, name, None)).__name__}"}
    with torch.no_grad():
        if A is not None:
            layer.lora_A.copy_(A)
        if B is not None:
            layer.lora_B.copy_(B)
    layer.train(train)
    records = []
    for step in steps:
        if step == "state":
            bias_now = getattr(layer, "bias", None)
            records.append({
                "trainable": sorted(n for n, p in layer.named_parameters() if p.requires_grad),
                "A": layer.lora_A.detach().clone(), "B": layer.lora_B.detach().clone(),
                "weight": layer.weight.detach().clone(),
                "bias": bias_now.detach().clone() if isinstance(bias_now, torch.Tensor) else bias_now,
                "scaling": getattr(layer, "scaling", None), "merged": getattr(layer, "merged", None)})
        elif step == "forward":
            records.append(layer(x).detach())
        elif step == "backward":
            for p in layer.parameters():
                p.grad = None
            out = layer(x)
            if out.requires_grad:
                (out * grad_out).sum().backward()
            records.append({"out": out.detach(), "differentiable": out.requires_grad,
                            "A": layer.lora_A.grad, "B": layer.lora_B.grad,
                            "weight": getattr(layer.weight, "grad", None),
                            "bias": getattr(getattr(layer, "bias", None), "grad", None)})
        elif step in ("merge", "unmerge"):
            records.append(getattr(layer, step)())
    return {"problem": None, "records": records}


def records(got):
    """The per-step records of a lora probe, or a Fail naming what the layer lacks."""
    if got["problem"]:
        raise Fail("LoRALinear keeps lora_A ([r, in]) and lora_B ([out, r]) as nn.Parameter tensors",
                   got["problem"])
    return got["records"]


def formula(weight, bias, A, B, scaling, x):
    """The explicit LoRA formula, computed here: x W^T + b + scaling x A^T B^T."""
    out = x @ weight.T + scaling * (x @ A.T @ B.T)
    return out if bias is None else out + bias


W = torch.tensor([[1.0, 0.0, 2.0], [0.0, -1.0, 1.0]])          # (out 2, in 3)
BIAS = torch.tensor([0.5, -0.5])
X = torch.tensor([[1.0, 2.0, 3.0], [0.0, 1.0, -1.0]])           # (2, in 3)


@check("at initialisation (B = 0) the layer computes exactly what the base layer computes")
def starts_as_base(run):
    got = records(run(lora, W, BIAS, 2, 4.0, ["state", "forward"], x=X))
    state, out = got
    expect_close(state["B"], torch.zeros(2, 2), "lora_B starts at zeros ([out, r])", what="lora_B at init")
    expect_close(out, X @ W.T + BIAS, "with B = 0 the update B A is 0: output = x W^T + b", what="output at init")


@check("forward = x W^T + b + (alpha / r) * x A^T B^T")
def small_formula(run):
    A = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])        # (r 2, in 3)
    B = torch.tensor([[1.0, 0.0], [1.0, -1.0]])                 # (out 2, r 2)
    # x W^T + b = [[7.5, 0.5], [-1.5, -2.5]];  alpha 1, r 2: scaling 0.5
    # x A^T = [[4, 2], [-1, 1]];  (x A^T) B^T = [[4, 2], [-1, -2]]
    got = records(run(lora, W, BIAS, 2, 1.0, ["forward"], x=X, A=A, B=B))
    want = torch.tensor([[7.5, 0.5], [-1.5, -2.5]]) + 0.5 * torch.tensor([[4.0, 2.0], [-1.0, -2.0]])
    expect_close(got[0], want, "output = x W^T + b + (alpha / r) * x A^T B^T (here alpha / r = 0.5)", what="output")


@check("only lora_A and lora_B require grad; the base weight and bias are frozen copies the layer computes with")
def only_lora_trainable(run):
    A = torch.tensor([[0.5, -1.0, 0.0], [1.0, 1.0, 1.0]])       # (r 2, in 3)
    B = torch.tensor([[0.0, 1.0], [2.0, 0.0]])                  # (out 2, r 2)
    state, out = records(run(lora, W, BIAS, 2, 4.0, ["state", "forward"], x=X, A=A, B=B))
    expect_close(out, formula(W, BIAS, A, B, 2.0, X), "output = x W^T + b + (alpha / r) * x A^T B^T",
                 what="output with the base layer's weight and bias")
    expect(state["trainable"] == ["lora_A", "lora_B"],
           "freeze the base layer: the only parameters with requires_grad=True are lora_A and lora_B",
           f"parameters that require grad: expected ['lora_A', 'lora_B'], your layer has {state['trainable']}")
    expect_close(state["weight"], W, "layer.weight holds the base layer's weight [out, in]", what="weight")
    expect_close(state["bias"], BIAS, "layer.bias holds the base layer's bias", what="bias")


@check("merge() folds (alpha / r) B A into the weight: the merged layer gives the same output")
def merge_same_output(run):
    A = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    B = torch.tensor([[1.0, 0.0], [1.0, -1.0]])
    got = records(run(lora, W, BIAS, 2, 1.0, ["forward", "merge", "state", "forward"], x=X, A=A, B=B))
    before, _, state, after = got
    expect_close(state["weight"], W + 0.5 * B @ A, "merge() adds scaling * B @ A ([out, r] @ [r, in]) to the weight",
                 what="weight after merge")
    expect(state["merged"] is True, "merge() sets layer.merged to True", f"layer.merged is {state['merged']!r}")
    expect_close(after, before, "a merged layer computes x W'^T + b with W' = W + scaling B A: the same output as "
                 "unmerged (do not add the LoRA path a second time)", what="output after merge vs before")
