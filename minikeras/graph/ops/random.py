"""Random tensors. Each op owns a NumPy generator, so a seeded op gives the same
*sequence* of draws, run after run: a new sample on every run, not one frozen sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..op import Op
from ..tensor import Shape, Tensor
from .array import stack
from .compare import cast
from .state import FLOATX, constant

__all__ = ["random_normal", "random_uniform", "truncated_normal"]


class RandomOp(Op):
    """Base: the shape is static (``shape`` attr) or read at run time from a shape tensor."""

    differentiable = False
    shape: tuple[int, ...] = ()
    dtype: str = FLOATX
    seed: int | None = None

    def __init__(self, *inputs: Tensor, **params: Any) -> None:
        super().__init__(*inputs, **params)
        # Like Keras, an op without a seed takes one from NumPy's global generator, so
        # np.random.seed(...) before building a model makes its dropout masks repeatable.
        seed = self.seed if self.seed is not None else int(np.random.randint(10_000_000))
        self.rng: np.random.Generator = np.random.default_rng(seed)

    def infer(self, *shape_tensor: Tensor) -> tuple[Shape, str]:
        if shape_tensor:
            (s,) = shape_tensor
            return (None,) * (s.shape[0] or 0), self.dtype
        return self.shape, self.dtype

    def size(self, shape_value: tuple[np.ndarray, ...]) -> tuple[int, ...]:
        return tuple(int(d) for d in shape_value[0]) if shape_value else self.shape


def _shape_args(shape: Any) -> tuple[tuple[Tensor, ...], Shape]:
    """A static shape, or a shape tensor: given, or stacked from ints and scalar tensors
    (the VAE's ``(K.shape(x)[0], dim)``), read when the graph runs."""
    if isinstance(shape, Tensor):
        return (shape,), ()
    if any(isinstance(d, Tensor) for d in shape):
        dims = [cast(d, "int64") if isinstance(d, Tensor) else constant(int(d), dtype="int64")
                for d in shape]
        return (stack(dims),), ()
    return (), tuple(int(d) for d in shape)


class RandomUniform(RandomOp):
    minval: float = 0.0
    maxval: float = 1.0

    def forward(self, *shape_value: np.ndarray) -> np.ndarray:
        x = self.rng.uniform(self.minval, self.maxval, self.size(shape_value))
        return x.astype(self.dtype)


def random_uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0,
                   dtype: str = FLOATX, seed: int | None = None) -> Tensor:
    """Uniform samples in ``[minval, maxval)``; ``shape`` is a tuple or a shape tensor."""
    inputs, static = _shape_args(shape)
    return RandomUniform.apply(*inputs, shape=static, minval=minval, maxval=maxval,
                               dtype=np.dtype(dtype).name, seed=seed)


class RandomStandardNormal(RandomOp):
    mean: float = 0.0
    stddev: float = 1.0

    def forward(self, *shape_value: np.ndarray) -> np.ndarray:
        x = self.rng.normal(self.mean, self.stddev, self.size(shape_value))
        return x.astype(self.dtype)


def random_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0,
                  dtype: str = FLOATX, seed: int | None = None) -> Tensor:
    """Normal samples, a ``RandomStandardNormal`` op (TensorFlow's name) scaled and shifted."""
    inputs, static = _shape_args(shape)
    return RandomStandardNormal.apply(*inputs, shape=static, mean=mean, stddev=stddev,
                                      dtype=np.dtype(dtype).name, seed=seed)


class TruncatedNormal(RandomOp):
    """Normal samples, those more than two ``stddev`` from ``mean`` drawn again."""

    mean: float = 0.0
    stddev: float = 1.0

    def forward(self, *shape_value: np.ndarray) -> np.ndarray:
        z = self.rng.standard_normal(self.size(shape_value))
        bad = np.abs(z) > 2.0
        while bad.any():
            z[bad] = self.rng.standard_normal(int(bad.sum()))
            bad = np.abs(z) > 2.0
        return (self.mean + self.stddev * z).astype(self.dtype)


def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0,
                     dtype: str = FLOATX, seed: int | None = None) -> Tensor:
    inputs, static = _shape_args(shape)
    return TruncatedNormal.apply(*inputs, shape=static, mean=mean, stddev=stddev,
                                 dtype=np.dtype(dtype).name, seed=seed)
