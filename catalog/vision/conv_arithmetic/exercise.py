"""Convolution arithmetic: output sizes and receptive fields, without running the layers.

Designing a CNN means knowing, before anything runs, how big every feature map is and how much
of the image each output pixel sees.  Write the three formulas an interviewer expects you to
derive on the whiteboard (Dumoulin & Visin, "A guide to convolution arithmetic for deep
learning", 2016; Araujo et al., "Computing receptive fields of convolutional neural networks",
Distill 2019), with exactly the semantics of PyTorch's ``nn.Conv2d``, ``nn.ConvTranspose2d``
and ``nn.MaxPool2d`` along one spatial axis.

* A conv layer's window, dilated, spans ``dilation * (kernel_size - 1) + 1`` pixels of the
  zero-padded input and moves ``stride`` pixels at a time.
* A transposed conv is the gradient of a conv: it maps a conv's output size back to its input
  size; ``output_padding`` resolves the ambiguity that floor division left behind.
* Max pooling uses the conv formula, but with ``ceil_mode=True`` it rounds up -- keeping a last,
  partial window only if that window starts inside the input or its left padding.
* Stacking layers, the receptive field of one output pixel grows by ``(k - 1) * dilation``
  input-steps per layer, where one step of layer l is the product of the strides before it
  (the *jump*).
"""
from typing import Dict, List, Optional, Tuple


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                     transposed: bool = False, output_padding: int = 0) -> int:
    """Output length along one axis of ``nn.Conv2d`` (or of ``nn.ConvTranspose2d`` if ``transposed``).

    Args:
        size: input length (>= 1); kernel_size, stride, dilation >= 1; padding, output_padding >= 0
            (all ints).  ``output_padding`` is used only when ``transposed``.

    Returns:
        conv:       ``(size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1``
        transposed: ``(size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1``

    Raises:
        ValueError: when the result would be < 1 (a conv's dilated kernel does not fit the padded
            input; a transposed conv's padding eats the whole output), or, for a transposed conv,
            when ``output_padding >= stride`` and ``output_padding >= dilation`` both hold (torch's
            rule: ``output_padding`` must be smaller than at least one of the two; with
            ``stride=1, dilation=2``, ``output_padding=1`` is allowed).
    """
    ### BEGIN SOLUTION
    span = dilation * (kernel_size - 1) + 1          # pixels covered by one dilated window
    if transposed:
        if output_padding >= stride and output_padding >= dilation:
            raise ValueError(f"output_padding={output_padding} must be smaller than stride or dilation")
        out = (size - 1) * stride - 2 * padding + span + output_padding
    else:
        out = (size + 2 * padding - span) // stride + 1
    if out < 1:
        raise ValueError(f"output size {out} < 1 for input size {size}")
    return out
    ### END SOLUTION


def pool_output_size(size: int, kernel_size: int, stride: Optional[int] = None, padding: int = 0,
                     dilation: int = 1, ceil_mode: bool = False) -> int:
    """Output length along one axis of ``nn.MaxPool2d``.

    Args:
        size, kernel_size, dilation: ints >= 1; stride: int >= 1, or None meaning ``kernel_size``;
        padding: int >= 0 (implicit -inf padding on both sides); ceil_mode: round up instead of down.

    Returns:
        ``(size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1`` rounded down, or up
        with ``ceil_mode`` -- but in ceil mode the last window must start inside the input or its
        left padding: if ``(out - 1) * stride >= size + padding``, the output is one shorter.

    Raises:
        ValueError: if ``padding > kernel_size // 2`` or the output would be shorter than 1.
    """
    ### BEGIN SOLUTION
    stride = kernel_size if stride is None else stride
    if padding > kernel_size // 2:
        raise ValueError(f"padding={padding} must be at most half the kernel size {kernel_size}")
    room = size + 2 * padding - dilation * (kernel_size - 1) - 1   # how far the window can slide
    if ceil_mode:
        out = -(-room // stride) + 1                                # ceil division
        if (out - 1) * stride >= size + padding:                    # last window starts in the right padding
            out -= 1
    else:
        out = room // stride + 1
    if out < 1:
        raise ValueError(f"output size {out} < 1 for input size {size}")
    return out
    ### END SOLUTION


def receptive_field(layers: List[Dict[str, int]]) -> Tuple[int, int, float]:
    """Receptive field of the last layer of a stack of conv/pool layers, along one axis.

    Args:
        layers: the stack, first layer first; each a dict with ``"kernel_size"`` and optionally
            ``"stride"`` (default 1), ``"padding"`` (default 0) and ``"dilation"`` (default 1).
            Conv and pooling layers count the same.  An empty list is the identity.

    Returns:
        ``(rf, jump, start)``:
        * ``rf`` (int): how many consecutive input pixels span the window that one output pixel of
          the last layer depends on (from the first to the last one, holes of dilation included);
        * ``jump`` (int): how many input pixels apart two neighbouring outputs' windows are (the
          product of all strides);
        * ``start`` (float): input coordinate of the *centre* of output pixel 0's window, counting
          input pixel 0 as coordinate 0 (padding can make it negative; even spans give .5).
    """
    ### BEGIN SOLUTION
    rf, jump, start = 1, 1, 0.0
    for layer in layers:
        k = layer["kernel_size"]
        s, p, d = layer.get("stride", 1), layer.get("padding", 0), layer.get("dilation", 1)
        span = d * (k - 1) + 1                      # window of this layer, in its own input pixels
        start += ((span - 1) / 2 - p) * jump        # centre of window 0, in input coordinates
        rf += (span - 1) * jump                     # each extra pixel of this layer is `jump` input pixels
        jump *= s
    return rf, jump, start
    ### END SOLUTION
