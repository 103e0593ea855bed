"""``InputSpec``: what a layer or a model accepts (rank, dtype, shape), as Keras 2.2 describes it."""

from __future__ import annotations

from typing import Any


class InputSpec:
    """The ``dtype``, ``shape`` (``None`` for free dims), ``ndim`` (or ``min_ndim``/``max_ndim``)
    and fixed ``axes`` sizes (``{-1: 8}``) an input must have."""

    def __init__(self, dtype: str | None = None, shape: Any = None, ndim: int | None = None,
                 max_ndim: int | None = None, min_ndim: int | None = None,
                 axes: dict[int, int] | None = None) -> None:
        self.dtype = dtype
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        self.axes = axes or {}

    def __repr__(self) -> str:
        fields = {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim,
                  "min_ndim": self.min_ndim, "axes": self.axes or None}
        return "InputSpec(" + ", ".join(f"{k}={v}" for k, v in fields.items() if v is not None) + ")"
