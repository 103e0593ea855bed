"""Windows to rows and back: the two linear maps a convolution is made of.

``Im2Col`` copies every window of ``x (batch, *spatial, c)`` into one row, so a convolution
is that op followed by one matrix product with the kernel read as ``(taps * c, filters)``.
The filter gradient is then a ``MatMul`` of the same rows (no second copy), and the input
gradient is ``Col2Im``, which adds each row back over its window. The two are adjoint
(``<Im2Col(x), r> = <x, Col2Im(r)>``), so each is the other's gradient, to any order.

The rows keep the output's spatial layout ``(batch, *out, taps * c)``: a row's entries run
over taps (row-major, as the kernel's leading axes) and, within a tap, over channels.
"""

from __future__ import annotations

import math as _pymath
from typing import Any

import numpy as np

from ..op import Op
from ..tensor import Shape, Tensor
from .state import as_tensor
from .windows import (
    Geometry,
    crop_spatial,
    dilated,
    expect_shape,
    int_tuple,
    pad_spatial,
    padding_of,
    scratch_of,
    static_shape,
    tap_index,
    tap_offsets,
)

__all__ = ["col2im", "im2col"]


class Windows(Op):
    """Base of the two: attrs ``ksize``, ``strides``, ``dilation``, ``padding``."""

    ksize: tuple[int, ...]
    strides: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: str

    @property
    def span(self) -> tuple[int, ...]:
        return tuple(dilated(k, d) for k, d in zip(self.ksize, self.dilation))

    def geometry(self, spatial: tuple[int, ...]) -> Geometry:
        return Geometry.of(spatial, self.span, self.strides, self.padding, self.type)

    def views(self, a: np.ndarray, g: Geometry) -> list[np.ndarray]:
        """The view of padded ``a`` that each tap meets, one per output pixel, in tap order."""
        return [a[index] for index in tap_index(tap_offsets(self.ksize, self.dilation), g.out, self.strides)]


class Im2Col(Windows):
    """Every window of ``x`` as a row: ``(batch, *spatial, c) -> (batch, *out, taps * c)``.

    The rows hold ``taps`` times as many numbers as ``x`` (9x for a 3x3 kernel): the price of
    doing a convolution as one matrix product. ``channels``, when set, is checked at run time
    (the kernel's input channels, for an ``x`` whose channels were unknown at build time).
    """

    channels: int | None = None

    #: Past this many bytes of rows, ``rows_times`` works through the batch in chunks.
    CHUNK_BYTES = 1 << 23  # 8 MiB

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        if x.ndim != len(self.ksize) + 2:
            raise ValueError(f"{self.type}: x must have rank {len(self.ksize) + 2} (batch, "
                             f"{len(self.ksize)} spatial axes, channels); {x.name} has shape {x.shape}")
        c = x.shape[-1]
        width = None if c is None else _pymath.prod(self.ksize) * c
        return static_shape(x, self.span, self.strides, self.padding, width, self.type), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.channels is not None and x.shape[-1] != self.channels:
            raise ValueError(f"{self.type}: x of shape {x.shape} has {x.shape[-1]} channels, but the "
                             f"kernel expects {self.channels}")
        g = self.geometry(x.shape[1:-1])
        views = self.views(pad_spatial(x, g.pads, scratch=scratch_of(self, "_padded")), g)
        c = x.shape[-1]
        rows = scratch_of(self).empty((x.shape[0], *g.out, len(views), c), x.dtype)
        for t, view in enumerate(views):  # one strided copy per tap, into contiguous rows
            np.copyto(rows[..., t, :], view)
        return rows.reshape((x.shape[0], *g.out, len(views) * c))

    def rows_times(self, x: np.ndarray, matrix: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``Im2Col(x)`` as a ``(pixels, taps * c)`` matrix times ``matrix``, with at most about
        ``CHUNK_BYTES`` of rows alive at once (a few images' worth at a time).

        The compiled plan calls this when nothing but the product reads the rows (a plan that
        computes no gradient, such as ``predict``'s): the rows of 2,000 MNIST images through a
        3x3x32 convolution are 1.3 GB, the result a ninth of that. Every output row is the same
        GEMM dot product of the same numbers, whole or in chunks, so the result is bit-equal.
        ``out``, if given, is an array of the result's shape and dtype to write it into.
        """
        g = self.geometry(x.shape[1:-1])
        pixels = _pymath.prod(g.out)
        n = max(1, self.CHUNK_BYTES // max(1, pixels * np.shape(matrix)[0] * x.itemsize))
        if x.shape[0] <= n:
            rows = self.forward(x)
            return np.matmul(rows.reshape((-1, rows.shape[-1])), matrix, out=out)
        if out is None:
            out = np.empty((x.shape[0] * pixels, np.shape(matrix)[1]), np.result_type(x, matrix))
        for a in range(0, x.shape[0], n):
            # The last chunk ends at the last image, overlapping the one before (its rows are
            # written twice, the same bits): every chunk has one size, so one kept buffer serves.
            a = min(a, x.shape[0] - n)
            # No name holds a chunk's rows past its line: the next chunk reuses their buffer.
            np.matmul(self.forward(x[a:a + n]).reshape((n * pixels, -1)), matrix,
                      out=out[a * pixels:(a + n) * pixels])
        return out

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        attrs = {k: v for k, v in self.attrs.items() if k != "channels"}
        return [col2im(gy, self.inputs[0], **attrs)]


def im2col(x: Any, ksize: Any, strides: Any = 1, padding: str = "valid", dilation: Any = 1,
           channels: int | None = None) -> Tensor:
    """The windows of ``x`` (channels_last, any number of spatial axes) as rows."""
    x = as_tensor(x)
    n = max(x.ndim - 2, 1)
    ksize = int_tuple(ksize, n, "im2col: ksize")
    return Im2Col.apply(x, ksize=ksize, strides=int_tuple(strides, n, "im2col: strides"),
                        dilation=int_tuple(dilation, n, "im2col: dilation"),
                        padding=padding_of(padding, "im2col", ("valid", "same", "causal")),
                        channels=None if x.shape[-1] is not None else channels)


class Col2Im(Windows):
    """Each row added back over its window: the adjoint (and gradient) of ``Im2Col``.

    The result's spatial size is not decided by the rows (with a stride, inputs of 7 and 8
    pixels both give 4 windows): it is the attr ``spatial`` or, when that is empty, the
    run-time shape of a second input ``like`` (the input of the ``Im2Col``).
    """

    spatial: tuple[int, ...] = ()

    def infer(self, rows: Tensor, like: Tensor | None = None) -> tuple[Shape, str]:
        if like is not None:
            return like.shape, rows.dtype
        width, taps = rows.shape[-1], _pymath.prod(self.ksize)
        return (rows.shape[0], *self.spatial, None if width is None else width // taps), rows.dtype

    def forward(self, rows: np.ndarray, like: np.ndarray | None = None) -> np.ndarray:
        taps_n = _pymath.prod(self.ksize)
        shape = np.shape(like) if like is not None else \
            (rows.shape[0], *self.spatial, rows.shape[-1] // taps_n)
        spatial, c = tuple(shape[1:-1]), shape[-1]
        g = self.geometry(spatial)
        out = scratch_of(self).zeros((shape[0], *g.padded(spatial), c), rows.dtype)
        views = self.views(out, g)
        expect_shape(rows, (shape[0], *g.out, len(views) * c), f"{self.type} rows")
        by_tap = rows.reshape((shape[0], *g.out, len(views), c))
        for t, view in enumerate(views):
            view += by_tap[..., t, :]
        return crop_spatial(out, g.pads, spatial)

    def backward(self, gx: Tensor) -> list[Tensor | None]:
        attrs = {k: v for k, v in self.attrs.items() if k != "spatial"}
        return [Im2Col.apply(gx, **attrs)] + [None] * (len(self.inputs) - 1)


def col2im(rows: Any, like: Tensor | None, ksize: tuple[int, ...], strides: tuple[int, ...],
           dilation: tuple[int, ...], padding: str, spatial: tuple[int, ...] = ()) -> Tensor:
    """Rows added back over their windows into an array of ``like``'s shape, or of the given
    ``spatial`` size (see ``Col2Im``)."""
    inputs = [as_tensor(rows)] + ([] if like is None else [like])
    return Col2Im.apply(*inputs, ksize=ksize, strides=strides, dilation=dilation, padding=padding,
                        spatial=tuple(spatial))
