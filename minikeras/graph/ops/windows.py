"""Window geometry for convolution and pooling, channels_last (NHWC), TensorFlow's padding.

Tap ``(i, j)`` of a window meets one input pixel per output pixel; together they form a
strided slice of the padded input (``tap_view``). ``window_view`` is a view of every window at once
(im2col without the copy). Output sizes and paddings follow TensorFlow's rules.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..tensor import Shape, Tensor

Pads = tuple[tuple[int, int], tuple[int, int]]
PADDINGS = ("valid", "same")


def int_pair(value: Any, what: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and v >= 1 for v in pair):
        raise ValueError(f"{what} must be a positive int or a tuple of 2 positive ints, got {value!r}")
    return int(pair[0]), int(pair[1])


def padding_of(value: Any, what: str) -> str:
    padding = value.lower() if isinstance(value, str) else value
    if padding not in PADDINGS:
        raise ValueError(f'{what}: padding must be "valid" or "same", got {value!r}')
    return padding


def out_size(n: int | None, k: int | None, s: int, padding: str) -> int | None:
    """Output length along one axis; ``None`` when not known before run time."""
    if n is None:
        return None
    if padding == "same":
        return -(-n // s)  # ceil(n / s), whatever the window size
    return None if k is None else (n - k) // s + 1


def pads_of(n: int, k: int, s: int, padding: str) -> tuple[int, int]:
    """TensorFlow's (before, after) padding along one axis."""
    if padding == "valid":
        return 0, 0
    total = max((-(-n // s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2  # an odd total puts the extra pixel after


def static_shape(x: Tensor, ksize: tuple[int | None, int | None], strides: tuple[int, int],
                  padding: str, channels: int | None, what: str) -> Shape:
    """The output shape, or a build-time error when the window does not fit."""
    out = tuple(out_size(n, k, s, padding) for n, k, s in zip(x.shape[1:3], ksize, strides))
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
        return cls(out, (pads_of(h, kh, sh, padding), pads_of(w, kw, sw, padding)))

    def padded(self, hw: tuple[int, ...]) -> tuple[int, int]:
        (t, b), (left, r) = self.pads
        return hw[0] + t + b, hw[1] + left + r


def pad_hw(x: np.ndarray, pads: Pads, value: float = 0) -> np.ndarray:
    if pads == ((0, 0), (0, 0)):
        return x
    return np.pad(x, ((0, 0), *pads, (0, 0)), constant_values=value)


def crop_hw(a: np.ndarray, pads: Pads, hw: tuple[int, ...]) -> np.ndarray:
    (t, _), (left, _) = pads
    return a[:, t : t + hw[0], left : left + hw[1], :]


def tap_view(a: np.ndarray, i: int, j: int, out: tuple[int, int], strides: tuple[int, int]) -> np.ndarray:
    """The pixels of padded ``a`` that tap ``(i, j)`` meets, one per output pixel (a view).

    Within one tap, distinct output pixels meet distinct input pixels, so ``+=`` into this
    view never loses a contribution (no ``np.add.at`` needed).
    """
    (oh, ow), (sh, sw) = out, strides
    return a[:, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw, :]


def window_view(a: np.ndarray, ksize: tuple[int, int], out: tuple[int, int],
             strides: tuple[int, int]) -> np.ndarray:
    """Every window of padded ``a`` as a view of shape ``(batch, oh, ow, c, kh, kw)``."""
    (oh, ow), (sh, sw) = out, strides
    all_windows = np.lib.stride_tricks.sliding_window_view(a, ksize, axis=(1, 2))
    return all_windows[:, : sh * (oh - 1) + 1 : sh, : sw * (ow - 1) + 1 : sw]


def tap_offsets(kh: int, kw: int) -> list[tuple[int, int]]:
    """Tap offsets in row-major order: this order decides which of tied maxima wins."""
    return [(i, j) for i in range(kh) for j in range(kw)]


def expect_shape(a: np.ndarray, shape: tuple[int, ...], what: str) -> None:
    if a.shape != shape:
        raise ValueError(f"{what}: expected an array of shape {shape}, got {a.shape}")
