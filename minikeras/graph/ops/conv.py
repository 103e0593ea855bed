"""2-D convolution, channels_last (NHWC), with TensorFlow's padding rules.

``Conv2D`` and its filter gradient compute their sums from a view of every window at once
(``window_view``, im2col), so they need a single matrix product.

``T(x, k, g) = <conv2d(x, k), g>`` is linear in each of its three arguments, and its three
partial derivatives are the three convolution ops: ``Conv2D`` (d/dg), ``Conv2DBackpropInput``
(d/dx) and ``Conv2DBackpropFilter`` (d/dk). So the backward of each is made of the other
two, and gradients of any order come for free.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..op import Op, result_dtype
from ..tensor import Shape, Tensor
from .state import as_tensor
from .windows import (
    Geometry,
    crop_hw,
    expect_shape,
    int_pair,
    pad_hw,
    padding_of,
    static_shape,
    tap_offsets,
    tap_view,
    window_view,
)

__all__ = ["conv2d"]


class Conv2D(Op):
    """Cross-correlation of ``x (batch, h, w, cin)`` with ``kernel (kh, kw, cin, cout)``.

    Like TensorFlow (and unlike the textbook), the kernel is not flipped. With ``"same"``
    padding an odd total pad puts the extra row/column at the bottom/right, not the top.
    """

    strides: tuple[int, int]
    padding: str

    def infer(self, x: Tensor, kernel: Tensor) -> tuple[Shape, str]:
        for t, role in ((x, "x (batch, h, w, channels)"), (kernel, "kernel (kh, kw, cin, cout)")):
            if t.ndim != 4:
                raise ValueError(f"conv2d: {role} must have rank 4; {t.name} has shape {t.shape}")
        cin, kin = x.shape[3], kernel.shape[2]
        if None not in (cin, kin) and cin != kin:
            raise ValueError(
                f"conv2d: x {x.name} of shape {x.shape} has {cin} channels but kernel "
                f"{kernel.name} of shape {kernel.shape} expects {kin} input channels "
                "(kernel shape is (kh, kw, cin, cout))."
            )
        ksize = (kernel.shape[0], kernel.shape[1])
        shape = static_shape(x, ksize, self.strides, self.padding, kernel.shape[3], "conv2d")
        return shape, result_dtype(x.dtype, kernel.dtype)

    def forward(self, x: np.ndarray, k: np.ndarray) -> np.ndarray:
        kh, kw, cin, _ = k.shape
        if x.shape[3] != cin:  # a None channel dim escaped the build-time check
            raise ValueError(f"conv2d: x of shape {x.shape} has {x.shape[3]} channels, "
                             f"but kernel of shape {k.shape} expects {cin}")
        g = Geometry.of(x.shape[1:3], (kh, kw), self.strides, self.padding, "conv2d")
        windows = window_view(pad_hw(x, g.pads), (kh, kw), g.out, self.strides)
        # One big matrix product (im2col): tensordot copies the windows into rows.
        return np.tensordot(windows, k, axes=([4, 5, 3], [0, 1, 2]))

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        x, k = self.inputs
        return [
            Conv2DBackpropInput.apply(x, k, gy, strides=self.strides, padding=self.padding),
            Conv2DBackpropFilter.apply(x, k, gy, strides=self.strides, padding=self.padding),
        ]


def conv2d(x: Any, kernel: Any, strides: Any = (1, 1), padding: str = "valid",
           dilation_rate: Any = (1, 1)) -> Tensor:
    """2-D convolution, channels_last: ``x (batch, h, w, cin)``, ``kernel (kh, kw, cin, cout)``."""
    if int_pair(dilation_rate, "conv2d: dilation_rate") != (1, 1):
        raise ValueError(f"conv2d: only dilation_rate=(1, 1) is supported, got {dilation_rate!r}")
    return Conv2D.apply(as_tensor(x), as_tensor(kernel), strides=int_pair(strides, "conv2d: strides"),
                        padding=padding_of(padding, "conv2d"))


class Conv2DBackpropInput(Op):
    """``d<conv2d(x, k), gy>/dx``: the transposed convolution of ``gy`` with ``k``.

    Inputs ``(x, kernel, gy)``; ``x`` gives only its run-time shape, because with a stride
    several input sizes lead to the same output size (7 and 8 both give 4 with stride 2).
    """

    strides: tuple[int, int]
    padding: str

    def infer(self, x: Tensor, kernel: Tensor, gy: Tensor) -> tuple[Shape, str]:
        return x.shape, result_dtype(kernel.dtype, gy.dtype)

    def forward(self, x: np.ndarray, k: np.ndarray, gy: np.ndarray) -> np.ndarray:
        n, h, w, cin = np.shape(x)
        kh, kw, _, cout = k.shape
        g = Geometry.of((h, w), (kh, kw), self.strides, self.padding, self.type)
        expect_shape(gy, (n, *g.out, cout), f"{self.type} gy")
        gxp = np.zeros((n, *g.padded((h, w)), cin), dtype=np.result_type(k, gy))
        for i, j in tap_offsets(kh, kw):
            tap = tap_view(gxp, i, j, g.out, self.strides)
            tap += np.tensordot(gy, k[i, j], axes=([3], [1]))
        return crop_hw(gxp, g.pads, (h, w))

    def backward(self, ggx: Tensor) -> list[Tensor | None]:
        # <this, ggx> = T(ggx, k, gy): differentiate T in k and in gy.
        _, k, gy = self.inputs
        return [
            None,
            Conv2DBackpropFilter.apply(ggx, k, gy, strides=self.strides, padding=self.padding),
            Conv2D.apply(ggx, k, strides=self.strides, padding=self.padding),
        ]


class Conv2DBackpropFilter(Op):
    """``d<conv2d(x, k), gy>/dk``: each tap's input slice contracted with ``gy``.

    Inputs ``(x, kernel, gy)``; ``kernel`` gives only its shape.
    """

    strides: tuple[int, int]
    padding: str

    def infer(self, x: Tensor, kernel: Tensor, gy: Tensor) -> tuple[Shape, str]:
        return kernel.shape, result_dtype(x.dtype, gy.dtype)

    def forward(self, x: np.ndarray, k: np.ndarray, gy: np.ndarray) -> np.ndarray:
        kh, kw, _, cout = np.shape(k)
        g = Geometry.of(x.shape[1:3], (kh, kw), self.strides, self.padding, self.type)
        expect_shape(gy, (x.shape[0], *g.out, cout), f"{self.type} gy")
        windows = window_view(pad_hw(x, g.pads), (kh, kw), g.out, self.strides)
        gk = np.tensordot(windows, gy, axes=([0, 1, 2], [0, 1, 2]))  # (cin, kh, kw, cout)
        return np.ascontiguousarray(gk.transpose(1, 2, 0, 3))

    def backward(self, ggk: Tensor) -> list[Tensor | None]:
        # <this, ggk> = T(x, ggk, gy): differentiate T in x and in gy.
        x, _, gy = self.inputs
        return [
            Conv2DBackpropInput.apply(x, ggk, gy, strides=self.strides, padding=self.padding),
            None,
            Conv2D.apply(x, ggk, strides=self.strides, padding=self.padding),
        ]
