"""2-D convolution and pooling, channels_last (NHWC), with TensorFlow's padding rules.

Tap ``(i, j)`` of a window meets one input pixel per output pixel; together they form a
strided slice of the padded input (``_tap``). Pooling takes the max or the mean over the
taps, and each gradient adds ``gy`` back into those slices. ``Conv2D`` and its filter
gradient compute the same sums from a view of every window at once (``_windows``, im2col),
so they need a single matrix product.

``T(x, k, g) = <conv2d(x, k), g>`` is linear in each of its three arguments, and its three
partial derivatives are the three convolution ops: ``Conv2D`` (d/dg), ``Conv2DBackpropInput``
(d/dx) and ``Conv2DBackpropFilter`` (d/dk). So the backward of each is made of the other
two, and gradients of any order come for free.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..op import Op, result_dtype
from ..tensor import Shape, Tensor
from .state import as_tensor

Pads = tuple[tuple[int, int], tuple[int, int]]
PADDINGS = ("valid", "same")


# --- window geometry ------------------------------------------------------------------


def _pair(value: Any, what: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v >= 1 for v in pair):
        raise ValueError(f"{what} must be a positive int or a tuple of 2 positive ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def _padding(value: Any, what: str) -> str:
    padding = value.lower() if isinstance(value, str) else value
    if padding not in PADDINGS:
        raise ValueError(f'{what}: padding must be "valid" or "same", got {value!r}')
    return padding


def _out_size(n: int | None, k: int | None, s: int, padding: str) -> int | None:
    """Output length along one axis; ``None`` when not known before run time."""
    if n is None:
        return None
    if padding == "same":
        return -(-n // s)  # ceil(n / s), whatever the window size
    return None if k is None else (n - k) // s + 1


def _pads(n: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """TensorFlow's (before, after) padding along one axis."""
    if padding == "valid":
        return 0, 0
    total = max((-(-n // s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2  # an odd total puts the extra pixel after


def _static_shape(x: Tensor, ksize: tuple[int | None, int | None], strides: tuple[int, int],
                  padding: str, channels: int | None, what: str) -> Shape:
    """The output shape, or a build-time error when the window does not fit."""
    out = tuple(_out_size(n, k, s, padding) for n, k, s in zip(x.shape[1:3], ksize, strides))
    for o in out:
        if o is not None and o <= 0:
            raise ValueError(
                f"{what}: the {ksize[0]}x{ksize[1]} window does not fit in {x.name} of shape "
                f'{x.shape} with padding="valid". Use padding="same" or a smaller window.'
            )
    return (x.shape[0], *out, channels)


class Geometry(NamedTuple):
    """Run-time window layout: output size ``(oh, ow)`` and the input's padding."""

    out: tuple[int, int]
    pads: Pads

    @classmethod
    def of(cls, hw: tuple[int, ...], ksize: tuple[int, ...], strides: tuple[int, int],
           padding: str, what: str) -> Geometry:
        (h, w), (kh, kw), (sh, sw) = hw, ksize, strides
        if padding == "valid" and (kh > h or kw > w):
            raise ValueError(f"{what}: a {kh}x{kw} window does not fit in a {h}x{w} input "
                             'with padding="valid"')
        if padding == "same":
            out = (-(-h // sh), -(-w // sw))
        else:
            out = ((h - kh) // sh + 1, (w - kw) // sw + 1)
        return cls(out, (_pads(h, kh, sh, padding), _pads(w, kw, sw, padding)))

    def padded(self, hw: tuple[int, ...]) -> tuple[int, int]:
        (t, b), (left, r) = self.pads
        return hw[0] + t + b, hw[1] + left + r


def _pad(x: np.ndarray, pads: Pads, value: float = 0) -> np.ndarray:
    if pads == ((0, 0), (0, 0)):
        return x
    return np.pad(x, ((0, 0), *pads, (0, 0)), constant_values=value)


def _crop(a: np.ndarray, pads: Pads, hw: tuple[int, ...]) -> np.ndarray:
    (t, _), (left, _) = pads
    return a[:, t : t + hw[0], left : left + hw[1], :]


def _tap(a: np.ndarray, i: int, j: int, out: tuple[int, int], strides: tuple[int, int]) -> np.ndarray:
    """The pixels of padded ``a`` that tap ``(i, j)`` meets, one per output pixel (a view).

    Within one tap, distinct output pixels meet distinct input pixels, so ``+=`` into this
    view never loses a contribution (no ``np.add.at`` needed).
    """
    (oh, ow), (sh, sw) = out, strides
    return a[:, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw, :]


def _windows(a: np.ndarray, ksize: tuple[int, int], out: tuple[int, int],
             strides: tuple[int, int]) -> np.ndarray:
    """Every window of padded ``a`` as a view of shape ``(batch, oh, ow, c, kh, kw)``."""
    (oh, ow), (sh, sw) = out, strides
    all_windows = np.lib.stride_tricks.sliding_window_view(a, ksize, axis=(1, 2))
    return all_windows[:, : sh * (oh - 1) + 1 : sh, : sw * (ow - 1) + 1 : sw]


def _taps(kh: int, kw: int) -> list[tuple[int, int]]:
    """Tap offsets in row-major order: this order decides which of tied maxima wins."""
    return [(i, j) for i in range(kh) for j in range(kw)]


def _expect(a: np.ndarray, shape: tuple[int, ...], what: str) -> None:
    if a.shape != shape:
        raise ValueError(f"{what}: expected an array of shape {shape}, got {a.shape}")


# --- convolution ----------------------------------------------------------------------


class Conv2D(Op):
    """Cross-correlation of ``x (batch, h, w, cin)`` with ``kernel (kh, kw, cin, cout)``.

    Like TensorFlow (and unlike the textbook), the kernel is not flipped. With ``"same"``
    padding an odd total pad puts the extra row/column at the bottom/right, not the top.
    """

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
        shape = _static_shape(x, kernel.shape[:2], self.strides, self.padding, kernel.shape[3], "conv2d")
        return shape, result_dtype(x.dtype, kernel.dtype)

    def forward(self, x: np.ndarray, k: np.ndarray) -> np.ndarray:
        kh, kw, cin, _ = k.shape
        if x.shape[3] != cin:  # a None channel dim escaped the build-time check
            raise ValueError(f"conv2d: x of shape {x.shape} has {x.shape[3]} channels, "
                             f"but kernel of shape {k.shape} expects {cin}")
        g = Geometry.of(x.shape[1:3], (kh, kw), self.strides, self.padding, "conv2d")
        windows = _windows(_pad(x, g.pads), (kh, kw), g.out, self.strides)
        # One big matrix product (im2col): tensordot copies the windows into rows.
        return np.tensordot(windows, k, axes=([4, 5, 3], [0, 1, 2]))

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        x, k = self.inputs
        return [
            Conv2DBackpropInput.apply(x, k, gy, strides=self.strides, padding=self.padding),
            Conv2DBackpropFilter.apply(x, k, gy, strides=self.strides, padding=self.padding),
        ]


class Conv2DBackpropInput(Op):
    """``d<conv2d(x, k), gy>/dx``: the transposed convolution of ``gy`` with ``k``.

    Inputs ``(x, kernel, gy)``; ``x`` gives only its run-time shape, because with a stride
    several input sizes lead to the same output size (7 and 8 both give 4 with stride 2).
    """

    def infer(self, x: Tensor, kernel: Tensor, gy: Tensor) -> tuple[Shape, str]:
        return x.shape, result_dtype(kernel.dtype, gy.dtype)

    def forward(self, x: np.ndarray, k: np.ndarray, gy: np.ndarray) -> np.ndarray:
        n, h, w, cin = np.shape(x)
        kh, kw, _, cout = k.shape
        g = Geometry.of((h, w), (kh, kw), self.strides, self.padding, self.type)
        _expect(gy, (n, *g.out, cout), f"{self.type} gy")
        gxp = np.zeros((n, *g.padded((h, w)), cin), dtype=np.result_type(k, gy))
        for i, j in _taps(kh, kw):
            tap = _tap(gxp, i, j, g.out, self.strides)
            tap += np.tensordot(gy, k[i, j], axes=([3], [1]))
        return _crop(gxp, g.pads, (h, w))

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

    def infer(self, x: Tensor, kernel: Tensor, gy: Tensor) -> tuple[Shape, str]:
        return kernel.shape, result_dtype(x.dtype, gy.dtype)

    def forward(self, x: np.ndarray, k: np.ndarray, gy: np.ndarray) -> np.ndarray:
        kh, kw, _, cout = np.shape(k)
        g = Geometry.of(x.shape[1:3], (kh, kw), self.strides, self.padding, self.type)
        _expect(gy, (x.shape[0], *g.out, cout), f"{self.type} gy")
        windows = _windows(_pad(x, g.pads), (kh, kw), g.out, self.strides)
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


# --- pooling --------------------------------------------------------------------------


class Pool(Op):
    """Base of the pooling ops: attrs ``pool_size``, ``strides``, ``padding``."""

    def pooled_shape(self, x: Tensor) -> Shape:
        if x.ndim != 4:
            raise ValueError(
                f"pool2d: x must have rank 4 (batch, h, w, channels); {x.name} has shape {x.shape}"
            )
        return _static_shape(x, self.pool_size, self.strides, self.padding, x.shape[3], "pool2d")

    def geometry(self, x: np.ndarray) -> Geometry:
        return Geometry.of(np.shape(x)[1:3], self.pool_size, self.strides, self.padding, self.type)

    def counts(self, hw: tuple[int, ...], g: Geometry, dtype: Any) -> np.ndarray:
        """How many real (unpadded) pixels each window holds, shaped ``(oh, ow, 1)``."""
        sizes = []
        for n, k, s, o, (before, _) in zip(hw, self.pool_size, self.strides, g.out, g.pads):
            start = np.arange(o) * s - before
            sizes.append(np.minimum(start + k, n) - np.maximum(start, 0))
        return np.multiply.outer(*sizes)[..., None].astype(dtype)

    def argmax(self, x: np.ndarray, g: Geometry) -> np.ndarray:
        """Index (in ``_taps`` order) of the first maximum of each window."""
        xp = _pad(x, g.pads, _lowest(x.dtype))
        taps = _taps(*self.pool_size)
        best = _tap(xp, *taps[0], g.out, self.strides).copy()
        index = np.zeros(best.shape, dtype=np.intp)
        for t, (i, j) in enumerate(taps[1:], start=1):
            tap = _tap(xp, i, j, g.out, self.strides)
            later = tap > best  # strictly greater: on a tie the first maximum wins, as in TF
            np.copyto(best, tap, where=later)
            np.copyto(index, t, where=later)
        return index


def _lowest(dtype: Any) -> Any:
    """The padding value that never wins a max: -inf, or the smallest integer."""
    return -np.inf if np.dtype(dtype).kind == "f" else np.iinfo(dtype).min


class MaxPool(Pool):
    """The maximum of each window; ``"same"`` padding pixels never win (they are -inf)."""

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        return self.pooled_shape(x), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        g = self.geometry(x)
        xp = _pad(x, g.pads, _lowest(x.dtype))
        y = np.full((x.shape[0], *g.out, x.shape[3]), _lowest(x.dtype), dtype=x.dtype)
        for i, j in _taps(*self.pool_size):
            np.maximum(y, _tap(xp, i, j, g.out, self.strides), out=y)
        return y

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [MaxPoolGrad.apply(self.inputs[0], gy, **self.attrs)]


class MaxPoolGrad(Pool):
    """``gy`` routed back to the first maximum of each window of ``x``; zeros elsewhere.

    Linear in ``gy``; piecewise constant in ``x`` (no gradient flows to ``x``).
    """

    def infer(self, x: Tensor, gy: Tensor) -> tuple[Shape, str]:
        return x.shape, gy.dtype

    def forward(self, x: np.ndarray, gy: np.ndarray) -> np.ndarray:
        g = self.geometry(x)
        _expect(gy, (x.shape[0], *g.out, x.shape[3]), f"{self.type} gy")
        index = self.argmax(x, g)
        gxp = np.zeros((x.shape[0], *g.padded(x.shape[1:3]), x.shape[3]), dtype=gy.dtype)
        for t, (i, j) in enumerate(_taps(*self.pool_size)):
            tap = _tap(gxp, i, j, g.out, self.strides)
            tap += np.where(index == t, gy, 0)
        return _crop(gxp, g.pads, x.shape[1:3])

    def backward(self, ggx: Tensor) -> list[Tensor | None]:
        return [None, MaxPoolGradGrad.apply(self.inputs[0], ggx, **self.attrs)]


class MaxPoolGradGrad(Pool):
    """``ggx`` picked at the first maximum of each window of ``x``: the adjoint of ``MaxPoolGrad``."""

    def infer(self, x: Tensor, ggx: Tensor) -> tuple[Shape, str]:
        return self.pooled_shape(x), ggx.dtype

    def forward(self, x: np.ndarray, ggx: np.ndarray) -> np.ndarray:
        g = self.geometry(x)
        _expect(ggx, x.shape, f"{self.type} ggx")
        index = self.argmax(x, g)
        up = _pad(ggx, g.pads)
        y = np.zeros((x.shape[0], *g.out, x.shape[3]), dtype=ggx.dtype)
        for t, (i, j) in enumerate(_taps(*self.pool_size)):
            y += np.where(index == t, _tap(up, i, j, g.out, self.strides), 0)
        return y

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [None, MaxPoolGrad.apply(self.inputs[0], gy, **self.attrs)]


class AvgPool(Pool):
    """The mean of each window. With ``"same"`` padding the padded zeros are *not* counted:
    a corner window of a 3x3 pool averages 4 pixels, not 9 (as in TensorFlow)."""

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        if np.dtype(x.dtype).kind != "f":
            raise TypeError(f"avg pooling needs a float tensor; {x.name} is {x.dtype}. Cast it first.")
        return self.pooled_shape(x), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        g = self.geometry(x)
        xp = _pad(x, g.pads)
        y = np.zeros((x.shape[0], *g.out, x.shape[3]), dtype=x.dtype)
        for i, j in _taps(*self.pool_size):
            y += _tap(xp, i, j, g.out, self.strides)
        y /= self.counts(x.shape[1:3], g, x.dtype)
        return y

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [AvgPoolGrad.apply(self.inputs[0], gy, **self.attrs)]


class AvgPoolGrad(Pool):
    """Each window's ``gy / count`` spread over its pixels. ``x`` gives only its shape."""

    def infer(self, x: Tensor, gy: Tensor) -> tuple[Shape, str]:
        return x.shape, gy.dtype

    def forward(self, x: np.ndarray, gy: np.ndarray) -> np.ndarray:
        n, h, w, c = np.shape(x)
        g = self.geometry(x)
        _expect(gy, (n, *g.out, c), f"{self.type} gy")
        share = gy / self.counts((h, w), g, gy.dtype)
        gxp = np.zeros((n, *g.padded((h, w)), c), dtype=gy.dtype)
        for i, j in _taps(*self.pool_size):
            tap = _tap(gxp, i, j, g.out, self.strides)
            tap += share
        return _crop(gxp, g.pads, (h, w))

    def backward(self, ggx: Tensor) -> list[Tensor | None]:
        return [None, AvgPool.apply(ggx, **self.attrs)]


# --- the functions users call -------------------------------------------------------


def conv2d(x: Any, kernel: Any, strides: Any = (1, 1), padding: str = "valid",
           dilation_rate: Any = (1, 1)) -> Tensor:
    """2-D convolution, channels_last: ``x (batch, h, w, cin)``, ``kernel (kh, kw, cin, cout)``."""
    if _pair(dilation_rate, "conv2d: dilation_rate") != (1, 1):
        raise ValueError(f"conv2d: only dilation_rate=(1, 1) is supported, got {dilation_rate!r}")
    return Conv2D.apply(as_tensor(x), as_tensor(kernel), strides=_pair(strides, "conv2d: strides"),
                        padding=_padding(padding, "conv2d"))


def pool2d(x: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
           pool_mode: str = "max") -> Tensor:
    """2-D max or average pooling, channels_last; ``strides`` defaults to ``pool_size``."""
    ops = {"max": MaxPool, "avg": AvgPool}
    if pool_mode not in ops:
        raise ValueError(f'pool2d: pool_mode must be "max" or "avg", got {pool_mode!r}')
    pool_size = _pair(pool_size, "pool2d: pool_size")
    strides = pool_size if strides is None else _pair(strides, "pool2d: strides")
    return ops[pool_mode].apply(as_tensor(x), pool_size=pool_size, strides=strides,
                                padding=_padding(padding, "pool2d"))
