"""Convolutions, channels_last, in 1, 2 or 3 spatial axes: windows to rows, then one matrix product.

``conv(x, k) = Im2Col(x) @ k`` with the kernel ``(*ksize, cin, cout)`` read as a
``(taps * cin, cout)`` matrix. Nothing here is a new primitive, so the gradients are those of
``Im2Col``, ``MatMul`` and ``Reshape``: the filter gradient is ``rows^T @ gy`` (the forward's
rows, reused), the input gradient ``Col2Im(gy @ k^T)``. A transposed convolution is that input
gradient on its own; a depthwise convolution weighs the rows tap by tap instead of mixing
channels.

Like TensorFlow (and unlike the textbook) the kernel is not flipped. With ``"same"``
padding an odd total pad puts the extra pixel at the end, not the start.
"""

from __future__ import annotations

import math as _pymath
from typing import Any

from ..tensor import Tensor
from .array import reshape
from .linalg import matmul
from .patches import col2im, im2col
from .reduce import sum as reduce_sum
from .state import as_tensor
from .windows import int_tuple, padding_of

__all__ = ["conv1d", "conv2d", "conv3d", "conv_nd", "conv_transpose", "depthwise_conv"]

_AXES = {1: "(batch, steps, channels)", 2: "(batch, h, w, channels)", 3: "(batch, d, h, w, channels)"}


def _check(x: Tensor, kernel: Tensor, n: int, what: str, kernel_axes: str) -> None:
    for t, role, rank in ((x, f"x {_AXES.get(n, '')}", n + 2), (kernel, f"kernel {kernel_axes}", n + 2)):
        if t.ndim != rank:
            raise ValueError(f"{what}: {role} must have rank {rank}; {t.name} has shape {t.shape}")
    cin, kin = x.shape[-1], kernel.shape[n]
    if None not in (cin, kin) and cin != kin:
        raise ValueError(
            f"{what}: x {x.name} of shape {x.shape} has {cin} channels but kernel "
            f"{kernel.name} of shape {kernel.shape} expects {kin} input channels "
            f"(kernel shape is {kernel_axes})."
        )


def _rows_times(rows: Tensor, matrix: Tensor, transpose_b: bool = False) -> Tensor:
    """``rows (batch, *out, p) @ matrix``: one 2-D product when the sizes allow, keeping the layout."""
    cols = matrix.shape[0] if transpose_b else matrix.shape[1]
    if None in rows.shape[1:] or cols is None:  # unknown sizes: a (slower) stacked product
        return matmul(rows, matrix, transpose_b=transpose_b)
    flat = matmul(reshape(rows, (-1, rows.shape[-1])), matrix, transpose_b=transpose_b)
    return reshape(flat, (-1, *rows.shape[1:-1], cols))


def conv_nd(x: Any, kernel: Any, strides: Any = 1, padding: str = "valid", dilation_rate: Any = 1,
            what: str = "conv", rank: int | None = None) -> Tensor:
    """N-D convolution, channels_last: ``x (batch, *spatial, cin)``, ``kernel (*ksize, cin, cout)``;
    ``rank`` (the number of spatial axes) defaults to the kernel's rank - 2."""
    x, kernel = as_tensor(x), as_tensor(kernel)
    n = kernel.ndim - 2 if rank is None else rank
    _check(x, kernel, n, what, "(*ksize, cin, cout)" if n not in (1, 2, 3) else
           ("(k, cin, cout)", "(kh, kw, cin, cout)", "(kd, kh, kw, cin, cout)")[n - 1])
    ksize = kernel.shape[:n]
    if None in ksize:
        raise ValueError(f"{what}: the kernel's window size must be known; {kernel.name} has "
                         f"shape {kernel.shape}")
    rows = im2col(x, ksize, int_tuple(strides, n, f"{what}: strides"),
                  padding_of(padding, what, ("valid", "same", "causal") if n == 1 else ("valid", "same")),
                  int_tuple(dilation_rate, n, f"{what}: dilation_rate"), channels=kernel.shape[n])
    cin, cout = kernel.shape[n], kernel.shape[n + 1]
    taps = _pymath.prod(ksize)  # type: ignore[arg-type]
    matrix = reshape(kernel, (-1 if cin is None else taps * cin, -1 if cout is None else cout))
    return _rows_times(rows, matrix)


def conv1d(x: Any, kernel: Any, strides: Any = 1, padding: str = "valid", dilation_rate: Any = 1) -> Tensor:
    """1-D convolution: ``x (batch, steps, cin)``, ``kernel (k, cin, cout)``; also ``"causal"`` padding."""
    return conv_nd(x, kernel, strides, padding, dilation_rate, "conv1d", 1)


def conv2d(x: Any, kernel: Any, strides: Any = (1, 1), padding: str = "valid",
           dilation_rate: Any = (1, 1)) -> Tensor:
    """2-D convolution, channels_last: ``x (batch, h, w, cin)``, ``kernel (kh, kw, cin, cout)``."""
    return conv_nd(x, kernel, strides, padding, dilation_rate, "conv2d", 2)


def conv3d(x: Any, kernel: Any, strides: Any = (1, 1, 1), padding: str = "valid",
           dilation_rate: Any = (1, 1, 1)) -> Tensor:
    """3-D convolution: ``x (batch, d, h, w, cin)``, ``kernel (kd, kh, kw, cin, cout)``."""
    return conv_nd(x, kernel, strides, padding, dilation_rate, "conv3d", 3)


def conv_transpose(x: Any, kernel: Any, output_spatial: Any, strides: Any = 1, padding: str = "valid",
                   dilation_rate: Any = 1) -> Tensor:
    """The transposed convolution (the input gradient of ``conv``): ``x (batch, *spatial, cin)``,
    ``kernel (*ksize, cout, cin)``, output ``(batch, *output_spatial, cout)``.

    Several output sizes give the same input size under a stride, so the output's spatial
    size must be given.
    """
    x, kernel = as_tensor(x), as_tensor(kernel)
    n = kernel.ndim - 2
    what = f"conv{n}d_transpose"
    if x.ndim != n + 2 or kernel.shape[n + 1] not in (None, x.shape[-1]):
        raise ValueError(f"{what}: x {x.name} of shape {x.shape} does not match kernel {kernel.name} "
                         f"of shape {kernel.shape} (kernel shape is (*ksize, out_channels, in_channels))")
    ksize = tuple(int(k) for k in kernel.shape[:n])  # type: ignore[arg-type]
    strides = int_tuple(strides, n, f"{what}: strides")
    dilation = int_tuple(dilation_rate, n, f"{what}: dilation_rate")
    padding = padding_of(padding, what)
    spatial = int_tuple(output_spatial, n, f"{what}: output_shape")
    matrix = reshape(kernel, (-1, kernel.shape[n + 1] or -1))  # (taps * cout, cin)
    rows = _rows_times(x, matrix, transpose_b=True)
    return col2im(rows, None, ksize, strides, dilation, padding, spatial)


def depthwise_conv(x: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   dilation_rate: Any = 1) -> Tensor:
    """Each input channel convolved on its own with ``depth_multiplier`` filters:
    ``kernel (*ksize, cin, depth_multiplier)``, output channel ``c * depth_multiplier + m``."""
    x, kernel = as_tensor(x), as_tensor(kernel)
    n = kernel.ndim - 2
    what = f"depthwise_conv{n}d"
    _check(x, kernel, n, what, "(*ksize, cin, depth_multiplier)")
    ksize = tuple(int(k) for k in kernel.shape[:n])  # type: ignore[arg-type]
    cin, dm = kernel.shape[n], kernel.shape[n + 1]
    taps = _pymath.prod(ksize)
    paddings = ("valid", "same", "causal") if n == 1 else ("valid", "same")
    rows = im2col(x, ksize, int_tuple(strides, n, f"{what}: strides"), padding_of(padding, what, paddings),
                  int_tuple(dilation_rate, n, f"{what}: dilation_rate"))
    lead = rows.shape[:-1]
    by_tap = reshape(rows, (*(-1 if d is None else d for d in lead), taps, cin, 1))
    weights = reshape(kernel, (taps, cin, dm))
    y = reduce_sum(by_tap * weights, axis=n + 1)  # (batch, *out, cin, dm)
    return reshape(y, (*(-1 if d is None else d for d in lead), cin * dm))  # type: ignore[operator]
