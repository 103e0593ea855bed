"""Loop references for the convolution family: each output pixel computed from its window's
taps, with TensorFlow's padding rule (the odd extra pixel goes after; causal pads before)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np


def geometry(n: int, k: int, s: int, d: int, padding: str) -> tuple[int, int]:
    """(output size, padding before) along one axis, from TF's documentation."""
    span = (k - 1) * d + 1
    if padding == "valid":
        return (n - span) // s + 1, 0
    out = -(-n // s)
    if padding == "causal":
        return out, span - 1
    return out, max((out - 1) * s + span - n, 0) // 2


def windows_of(x: np.ndarray, ksize: tuple[int, ...], strides: tuple[int, ...], dilation: tuple[int, ...],
               padding: str) -> dict[tuple[int, ...], list[tuple[tuple[int, ...], np.ndarray | None]]]:
    """For each output position, its taps and the input pixel each meets (None: padding)."""
    spatial = x.shape[1:-1]
    geo = [geometry(n, k, s, d, padding) for n, k, s, d in zip(spatial, ksize, strides, dilation)]
    result = {}
    for out in itertools.product(*(range(o) for o, _ in geo)):
        taps = []
        for tap in itertools.product(*(range(k) for k in ksize)):
            pos = tuple(o * s + t * d - before
                        for o, s, t, d, (_, before) in zip(out, strides, tap, dilation, geo))
            inside = all(0 <= p < n for p, n in zip(pos, spatial))
            taps.append((tap, x[(slice(None), *pos)] if inside else None))
        result[out] = taps
    return result


def conv_ref(x: np.ndarray, k: np.ndarray, strides: Any, padding: str, dilation: Any) -> np.ndarray:
    n = k.ndim - 2
    strides, dilation = _tuple(strides, n), _tuple(dilation, n)
    wins = windows_of(x, k.shape[:n], strides, dilation, padding)
    out_shape = tuple(max(o) + 1 for o in zip(*wins))
    y = np.zeros((x.shape[0], *out_shape, k.shape[-1]))
    for out, taps in wins.items():
        for tap, pixel in taps:
            if pixel is not None:
                y[(slice(None), *out)] += pixel @ k[tap]
    return y


def depthwise_ref(x: np.ndarray, k: np.ndarray, strides: Any, padding: str, dilation: Any) -> np.ndarray:
    n = k.ndim - 2
    wins = windows_of(x, k.shape[:n], _tuple(strides, n), _tuple(dilation, n), padding)
    out_shape = tuple(max(o) + 1 for o in zip(*wins))
    cin, dm = k.shape[-2:]
    y = np.zeros((x.shape[0], *out_shape, cin * dm))
    for out, taps in wins.items():
        for tap, pixel in taps:
            if pixel is not None:
                y[(slice(None), *out)] += (pixel[:, :, None] * k[tap]).reshape(x.shape[0], -1)
    return y


def pool_ref(x: np.ndarray, pool_size: tuple[int, ...], strides: tuple[int, ...], padding: str,
             mode: str) -> np.ndarray:
    wins = windows_of(x, pool_size, strides, (1,) * len(pool_size), padding)
    out_shape = tuple(max(o) + 1 for o in zip(*wins))
    y = np.zeros((x.shape[0], *out_shape, x.shape[-1]))
    for out, taps in wins.items():
        real = np.stack([p for _, p in taps if p is not None])  # padding is never counted
        y[(slice(None), *out)] = real.max(0) if mode == "max" else real.mean(0)
    return y


def _tuple(v: Any, n: int) -> tuple[int, ...]:
    return (v,) * n if isinstance(v, int) else tuple(v)


def first(x: np.ndarray) -> np.ndarray:
    """channels_last -> channels_first."""
    return np.moveaxis(x, -1, 1)
