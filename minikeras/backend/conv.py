"""Keras's convolution family: ``K.conv1d/2d/3d``, transposed, separable and depthwise
convolutions, ``K.pool2d/3d``, image resizing and zero padding, with Keras 2.2's signatures.

The graph computes channels_last; ``data_format="channels_first"`` (Theano's layout) moves the
channel axis last and back around the op. Kernels have the same layout in both formats
(``(*ksize, in, out)``), as in Keras.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import graph as G
from .config import normalize_data_format
from .ops import repeat_elements

Tensor = G.Tensor


def _padding(padding: Any, allowed: tuple[str, ...] = ("valid", "same")) -> str:
    """Keras's check: ``'Invalid padding: full'``."""
    if not isinstance(padding, str) or padding.lower() not in allowed:
        raise ValueError("Invalid padding: " + str(padding))
    return padding.lower()


def _to_last(x: Tensor, data_format: str) -> Tensor:
    if data_format == "channels_last":
        return x
    return G.transpose(x, (0, *range(2, x.ndim), 1))


def _to_first(x: Tensor, data_format: str) -> Tensor:
    if data_format == "channels_last":
        return x
    return G.transpose(x, (0, x.ndim - 1, *range(1, x.ndim - 1)))


def _channels_last_op(x: Any, data_format: str | None, rank: int, what: str, run: Any) -> Tensor:
    """``run`` applied to ``x`` moved to channels_last, and the result moved back."""
    data_format = normalize_data_format(data_format)
    x = G.as_tensor(x)
    if x.ndim != rank + 2:
        raise ValueError(f"{what}: x must have rank {rank + 2}; {x.name} has shape {x.shape}")
    return _to_first(run(_to_last(x, data_format)), data_format)


def conv1d(x: Any, kernel: Any, strides: int = 1, padding: str = "valid", data_format: str | None = None,
           dilation_rate: int = 1) -> Tensor:
    """1-D convolution of ``x (batch, steps, in)`` with ``kernel (k, in, out)``; ``"causal"``
    padding pads only the start, so step ``t`` never sees steps after ``t``."""
    padding = _padding(padding, ("valid", "same", "causal"))
    return _channels_last_op(x, data_format, 1, "conv1d", lambda v: G.conv1d(
        v, kernel, strides=strides, padding=padding, dilation_rate=dilation_rate))


def conv2d(x: Any, kernel: Any, strides: Any = (1, 1), padding: str = "valid",
           data_format: str | None = None, dilation_rate: Any = (1, 1)) -> Tensor:
    """2-D convolution of ``x`` (batch, rows, cols, channels) with ``kernel`` (kh, kw, in, out)."""
    padding = _padding(padding)
    return _channels_last_op(x, data_format, 2, "conv2d", lambda v: G.conv2d(
        v, kernel, strides=strides, padding=padding, dilation_rate=dilation_rate))


def conv3d(x: Any, kernel: Any, strides: Any = (1, 1, 1), padding: str = "valid",
           data_format: str | None = None, dilation_rate: Any = (1, 1, 1)) -> Tensor:
    """3-D convolution of ``x (batch, d, h, w, in)`` with ``kernel (kd, kh, kw, in, out)``."""
    padding = _padding(padding)
    return _channels_last_op(x, data_format, 3, "conv3d", lambda v: G.conv3d(
        v, kernel, strides=strides, padding=padding, dilation_rate=dilation_rate))


def _output_spatial(output_shape: Any, data_format: str, rank: int, what: str) -> tuple[int, ...]:
    shape = tuple(output_shape)
    if len(shape) != rank + 2:
        raise ValueError(f"{what}: output_shape must have {rank + 2} entries (batch included), "
                         f"got {output_shape!r}")
    spatial = shape[1:-1] if data_format == "channels_last" else shape[2:]
    if not all(isinstance(d, (int, np.integer)) for d in spatial):
        raise ValueError(f"{what}: the spatial sizes of output_shape must be known ints, "
                         f"got {output_shape!r}")
    return tuple(int(d) for d in spatial)


def _conv_transpose(x: Any, kernel: Any, output_shape: Any, strides: Any, padding: str,
                    data_format: str | None, dilation_rate: Any, rank: int) -> Tensor:
    what = f"conv{rank}d_transpose"
    padding = _padding(padding)
    fmt = normalize_data_format(data_format)
    spatial = _output_spatial(output_shape, fmt, rank, what)
    return _channels_last_op(x, fmt, rank, what, lambda v: G.conv_transpose(
        v, kernel, spatial, strides=strides, padding=padding, dilation_rate=dilation_rate))


def conv2d_transpose(x: Any, kernel: Any, output_shape: Any, strides: Any = (1, 1), padding: str = "valid",
                     data_format: str | None = None, dilation_rate: Any = (1, 1)) -> Tensor:
    """The transposed ("de-") convolution: ``kernel (kh, kw, out, in)``; ``output_shape`` is the
    full output shape (its batch entry is not used), since a stride makes it ambiguous."""
    return _conv_transpose(x, kernel, output_shape, strides, padding, data_format, dilation_rate, 2)


def conv3d_transpose(x: Any, kernel: Any, output_shape: Any, strides: Any = (1, 1, 1),
                     padding: str = "valid", data_format: str | None = None) -> Tensor:
    """3-D transposed convolution: ``kernel (kd, kh, kw, out, in)``."""
    return _conv_transpose(x, kernel, output_shape, strides, padding, data_format, 1, 3)


def depthwise_conv2d(x: Any, depthwise_kernel: Any, strides: Any = (1, 1), padding: str = "valid",
                     data_format: str | None = None, dilation_rate: Any = (1, 1)) -> Tensor:
    """Each input channel convolved with its own ``depth_multiplier`` filters:
    ``depthwise_kernel (kh, kw, in, depth_multiplier)``, ``in * depth_multiplier`` outputs."""
    padding = _padding(padding)
    return _channels_last_op(x, data_format, 2, "depthwise_conv2d", lambda v: G.depthwise_conv(
        v, depthwise_kernel, strides=strides, padding=padding, dilation_rate=dilation_rate))


def _separable(x: Any, depthwise_kernel: Any, pointwise_kernel: Any, strides: Any, padding: str,
               data_format: str | None, dilation_rate: Any, rank: int) -> Tensor:
    padding = _padding(padding, ("valid", "same", "causal") if rank == 1 else ("valid", "same"))

    def run(v: Tensor) -> Tensor:
        depthwise = G.depthwise_conv(v, depthwise_kernel, strides=strides, padding=padding,
                                     dilation_rate=dilation_rate)
        return G.conv_nd(depthwise, pointwise_kernel, what=f"separable_conv{rank}d", rank=rank)
    return _channels_last_op(x, data_format, rank, f"separable_conv{rank}d", run)


def separable_conv1d(x: Any, depthwise_kernel: Any, pointwise_kernel: Any, strides: int = 1,
                     padding: str = "valid", data_format: str | None = None,
                     dilation_rate: int = 1) -> Tensor:
    """A depthwise convolution, then a 1-wide one mixing channels (``pointwise_kernel (1, in * dm, out)``)."""
    return _separable(x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate, 1)


def separable_conv2d(x: Any, depthwise_kernel: Any, pointwise_kernel: Any, strides: Any = (1, 1),
                     padding: str = "valid", data_format: str | None = None,
                     dilation_rate: Any = (1, 1)) -> Tensor:
    """A depthwise convolution, then a 1x1 one mixing channels (``pointwise_kernel (1, 1, in * dm, out)``)."""
    return _separable(x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate, 2)


def _pool(x: Any, pool_size: Any, strides: Any, padding: str, data_format: str | None, pool_mode: str,
          rank: int) -> Tensor:
    padding = _padding(padding)
    if pool_mode not in ("max", "avg"):
        raise ValueError("Invalid pooling mode: " + str(pool_mode))
    return _channels_last_op(x, data_format, rank, f"pool{rank}d", lambda v: G.pool_nd(
        v, tuple(pool_size), strides=strides, padding=padding, pool_mode=pool_mode, what=f"pool{rank}d"))


def pool1d(x: Any, pool_size: Any, strides: Any = 1, padding: str = "valid", data_format: str | None = None,
           pool_mode: str = "max") -> Tensor:
    """Max or average pooling of ``x (batch, steps, channels)``."""
    size = (pool_size,) if isinstance(pool_size, int) else pool_size
    step = (strides,) if isinstance(strides, int) else strides
    return _pool(x, size, step, padding, data_format, pool_mode, 1)


def pool2d(x: Any, pool_size: Any, strides: Any = (1, 1), padding: str = "valid",
           data_format: str | None = None, pool_mode: str = "max") -> Tensor:
    """Max or average pooling; unlike the layers, Keras's ``K.pool2d`` defaults to stride 1."""
    size = (pool_size,) * 2 if isinstance(pool_size, int) else pool_size
    return _pool(x, size, strides, padding, data_format, pool_mode, 2)


def pool3d(x: Any, pool_size: Any, strides: Any = (1, 1, 1), padding: str = "valid",
           data_format: str | None = None, pool_mode: str = "max") -> Tensor:
    """3-D max or average pooling; strides default to 1."""
    size = (pool_size,) * 3 if isinstance(pool_size, int) else pool_size
    return _pool(x, size, strides, padding, data_format, pool_mode, 3)


def _bilinear_matrix(n: int, factor: int) -> np.ndarray:
    """``(n * factor, n)`` weights of TensorFlow 1's ``resize_bilinear`` (Keras 2.2's): output
    pixel ``i`` reads input position ``i / factor`` (no half-pixel shift), clamped at the edge."""
    matrix = np.zeros((n * factor, n))
    for i in range(n * factor):
        s = i / factor
        lo = int(np.floor(s))
        hi, w = min(lo + 1, n - 1), s - lo
        matrix[i, lo] += 1 - w
        matrix[i, hi] += w
    return matrix


def _resize_axis_bilinear(x: Tensor, axis: int, factor: int) -> Tensor:
    n = x.shape[axis]
    if n is None:
        raise ValueError(f"resize_images: bilinear needs known spatial sizes; {x.name} has shape {x.shape}")
    perm = tuple(i for i in range(x.ndim) if i != axis) + (axis,)
    weights = G.constant(_bilinear_matrix(n, factor).T.astype(x.dtype))
    moved = G.matmul(G.transpose(x, perm), weights)
    return G.transpose(moved, tuple(int(i) for i in np.argsort(perm)))


def resize_images(x: Any, height_factor: int, width_factor: int, data_format: str | None = None,
                  interpolation: str = "nearest") -> Tensor:
    """Rows and columns scaled by integer factors: each pixel repeated (``"nearest"``) or
    interpolated (``"bilinear"``)."""
    fmt = normalize_data_format(data_format)
    x = G.as_tensor(x)
    rows, cols = (1, 2) if fmt == "channels_last" else (2, 3)
    if interpolation == "nearest":
        return repeat_elements(repeat_elements(x, height_factor, rows), width_factor, cols)
    if interpolation == "bilinear":
        return _resize_axis_bilinear(_resize_axis_bilinear(x, rows, height_factor), cols, width_factor)
    raise ValueError('interpolation should be one of "nearest" or "bilinear".')


def resize_volumes(x: Any, depth_factor: int, height_factor: int, width_factor: int,
                   data_format: str | None = None) -> Tensor:
    """Each voxel repeated ``depth_factor x height_factor x width_factor`` times."""
    fmt = normalize_data_format(data_format)
    first = 1 if fmt == "channels_last" else 2
    out = G.as_tensor(x)
    for axis, factor in zip(range(first, first + 3), (depth_factor, height_factor, width_factor)):
        out = repeat_elements(out, factor, axis)
    return out


def _pairs(padding: Any, n: int, what: str) -> tuple[tuple[int, int], ...]:
    pairs = tuple(tuple(p) for p in padding)
    if len(pairs) != n or not all(len(p) == 2 for p in pairs):
        raise ValueError(f"{what}: padding must be {n} pairs (before, after), got {padding!r}")
    return tuple((int(a), int(b)) for a, b in pairs)


def _spatial_padding(x: Any, pairs: tuple[tuple[int, int], ...], data_format: str | None) -> Tensor:
    fmt = normalize_data_format(data_format)
    body = ((0, 0), *pairs, (0, 0)) if fmt == "channels_last" else ((0, 0), (0, 0), *pairs)
    return G.pad(x, body)


def temporal_padding(x: Any, padding: Any = (1, 1)) -> Tensor:
    """Zeros before and after the steps of ``x (batch, steps, features)``."""
    (before, after), = _pairs([padding], 1, "temporal_padding")
    return G.pad(x, ((0, 0), (before, after), (0, 0)))


def spatial_2d_padding(x: Any, padding: Any = ((1, 1), (1, 1)), data_format: str | None = None) -> Tensor:
    """Zeros around the rows and columns of a 4-D tensor."""
    return _spatial_padding(x, _pairs(padding, 2, "spatial_2d_padding"), data_format)


def spatial_3d_padding(x: Any, padding: Any = ((1, 1), (1, 1), (1, 1)),
                       data_format: str | None = None) -> Tensor:
    """Zeros around the three spatial axes of a 5-D tensor."""
    return _spatial_padding(x, _pairs(padding, 3, "spatial_3d_padding"), data_format)
