"""Shape and layout ops: reshape, transpose, expand/squeeze, concatenate, stack, tile.

Their gradients move ``gy`` back to where each element came from.
"""

from __future__ import annotations

import math as _pymath
from functools import cached_property
from typing import Any

import numpy as np

from ..op import Op, normalize_axes
from ..tensor import Shape, Tensor
from .index import getitem
from .math import zeros_like
from .state import as_tensor

__all__ = ["batch_reshape", "concatenate", "expand_dims", "reshape", "reshape_like", "squeeze", "stack",
           "tile", "transpose"]


def _known(shape: Shape) -> bool:
    return None not in shape


class Reshape(Op):
    """The same elements in a new shape; ``-1`` (or ``None``) is inferred at run time."""

    returns_view = True

    shape: tuple[int, ...]

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        target = self.shape
        if any(d < -1 for d in target):
            raise ValueError(f"Reshape: negative size in {target} (only -1 means 'infer')")
        if target.count(-1) > 1:
            raise ValueError(f"Reshape: at most one unknown (-1/None) dimension, got {target}")
        if _known(x.shape):
            size = _pymath.prod(x.shape)  # type: ignore[arg-type]
            rest = _pymath.prod(d for d in target if d != -1)
            if (-1 in target and (rest == 0 or size % rest)) or (-1 not in target and rest != size):
                raise ValueError(
                    f"Cannot reshape {x.name} of shape {x.shape} ({size} elements) to {target}."
                )
            return tuple(size // rest if d == -1 else d for d in target), x.dtype
        return tuple(None if d == -1 else d for d in target), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.reshape(x, self.shape)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [reshape_like(gy, self.inputs[0])]


def reshape(x: Any, shape: Any) -> Tensor:
    x = as_tensor(x)
    shape = tuple(-1 if d is None else int(d) for d in shape)
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape=shape)


class ReshapeLike(Op):
    """``x`` reshaped to ``like``'s run-time shape (for shapes unknown until run time)."""

    returns_view = True

    def infer(self, x: Tensor, like: Tensor) -> tuple[Shape, str]:
        return like.shape, x.dtype

    def forward(self, x: np.ndarray, like: np.ndarray) -> np.ndarray:
        return np.reshape(x, np.shape(like))

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [reshape_like(gy, self.inputs[0]), None]


def reshape_like(x: Tensor, like: Tensor) -> Tensor:
    """``x`` in ``like``'s shape: a static ``Reshape`` when that shape is known."""
    if _known(like.shape):
        return reshape(x, like.shape)
    return ReshapeLike.apply(x, like)


class Transpose(Op):
    returns_view = True

    perm: tuple[int, ...]

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        return tuple(x.shape[i] for i in self.perm), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.transpose(self.perm)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [transpose(gy, tuple(int(i) for i in np.argsort(self.perm)))]


def transpose(x: Any, perm: Any = None) -> Tensor:
    """Permute axes; with no ``perm`` the axes are reversed (``x.T``)."""
    x = as_tensor(x)
    perm = tuple(reversed(range(x.ndim))) if perm is None else normalize_axes(perm, x.ndim, "transpose",
                                                                               keep_order=True)
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"transpose: {perm} is not a permutation of the {x.ndim} axes of {x.name}")
    return Transpose.apply(x, perm=perm)


class ExpandDims(Op):
    """New size-1 axes at positions ``axis`` (positions in the output)."""

    returns_view = True

    axis: tuple[int, ...]

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        shape = list(x.shape)
        for a in self.axis:
            shape.insert(a, 1)
        return tuple(shape), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x)[self.index]

    @cached_property
    def index(self) -> tuple[slice | None, ...]:
        """``x[index]`` inserts the axes (``x[:, None]``): np.expand_dims with less Python."""
        return tuple(None if i in self.axis else slice(None) for i in range(self.y.ndim))

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [squeeze(gy, self.axis)]


def expand_dims(x: Any, axis: Any = -1) -> Tensor:
    x = as_tensor(x)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return ExpandDims.apply(x, axis=normalize_axes(axes, x.ndim + len(axes), "ExpandDims"))


class Squeeze(Op):
    returns_view = True

    axis: tuple[int, ...]

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        for a in self.axis:
            if x.shape[a] not in (1, None):
                raise ValueError(f"Squeeze: axis {a} of {x.name} has size {x.shape[a]}, not 1")
        return tuple(d for i, d in enumerate(x.shape) if i not in self.axis), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.squeeze(x, self.axis)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [expand_dims(gy, self.axis)]


def squeeze(x: Any, axis: Any) -> Tensor:
    x = as_tensor(x)
    return Squeeze.apply(x, axis=normalize_axes(axis, x.ndim, "Squeeze"))


class ConcatV2(Op):
    """Tensors joined along ``axis``; the other dimensions must agree."""

    axis: int

    def infer(self, *xs: Tensor) -> tuple[Shape, str]:
        first = xs[0]
        shape = list(first.shape)
        for x in xs[1:]:
            if x.ndim != first.ndim:
                raise ValueError(f"concatenate: {x.name} has rank {x.ndim}, {first.name} has {first.ndim}")
            for i, (p, q) in enumerate(zip(shape, x.shape)):
                if i == self.axis:
                    shape[i] = None if p is None or q is None else p + q
                elif p is None:
                    shape[i] = q
                elif q is not None and p != q:
                    raise ValueError(
                        f"concatenate along axis {self.axis}: {first.name} has shape {first.shape} "
                        f"but {x.name} has shape {x.shape} (axis {i} differs)"
                    )
        return tuple(shape), np.result_type(*(x.dtype for x in xs)).name

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        return np.concatenate(xs, axis=self.axis)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [ConcatPart.apply(gy, *self.inputs, axis=self.axis, index=i) for i in range(len(self.inputs))]


def concatenate(xs: list[Any], axis: int = -1) -> Tensor:
    """``xs`` joined along ``axis`` as a ``ConcatV2`` op (one tensor is returned as it is)."""
    xs = [as_tensor(x) for x in xs]
    if len(xs) == 1:
        return xs[0]
    return ConcatV2.apply(*xs, axis=normalize_axes(axis, xs[0].ndim, "concatenate")[0])


class ConcatPart(Op):
    """The ``index``-th piece of ``g`` split like ``concatenate(xs)`` (``xs`` give only shapes)."""

    returns_view = True

    axis: int
    index: int

    def infer(self, g: Tensor, *xs: Tensor) -> tuple[Shape, str]:
        return xs[self.index].shape, g.dtype

    def forward(self, g: np.ndarray, *xs: np.ndarray) -> np.ndarray:
        start = sum(np.shape(x)[self.axis] for x in xs[: self.index])
        stop = start + np.shape(xs[self.index])[self.axis]
        key = (slice(None),) * self.axis + (slice(start, stop),)
        return g[key]

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        xs = self.inputs[1:]
        parts = [gy if i == self.index else zeros_like(x) for i, x in enumerate(xs)]
        return [concatenate(parts, self.axis)] + [None] * len(xs)


class Pack(Op):
    """``stack``: tensors of the same shape along a new axis."""

    axis: int

    def infer(self, *xs: Tensor) -> tuple[Shape, str]:
        shape = list(xs[0].shape)
        for x in xs[1:]:
            clash = any(p is not None and q is not None and p != q for p, q in zip(shape, x.shape))
            if x.ndim != len(shape) or clash:
                raise ValueError(f"stack: {x.name} has shape {x.shape}, {xs[0].name} has {xs[0].shape}")
        shape.insert(self.axis, len(xs))
        return tuple(shape), np.result_type(*(x.dtype for x in xs)).name

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        return np.stack(xs, axis=self.axis)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        lead = (slice(None),) * self.axis
        return [getitem(gy, lead + (i,)) for i in range(len(self.inputs))]


def stack(xs: list[Any], axis: int = 0) -> Tensor:
    """``xs`` stacked along a new ``axis`` as a ``Pack`` op (TensorFlow's name)."""
    xs = [as_tensor(x) for x in xs]
    return Pack.apply(*xs, axis=normalize_axes(axis, xs[0].ndim + 1, "stack")[0])


class Tile(Op):
    reps: tuple[int, ...]

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        return tuple(None if d is None else d * r for d, r in zip(x.shape, self.reps)), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tile(x, self.reps)

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        if 0 in self.reps:  # nothing of x survives in y
            return [zeros_like(self.inputs[0])]
        return [TileGrad.apply(gy, reps=self.reps)]


def tile(x: Any, n: Any) -> Tensor:
    """Repeat ``x`` ``n[i]`` times along axis ``i`` (an int ``n`` for a 1-D ``x``)."""
    x = as_tensor(x)
    reps = (n,) if isinstance(n, (int, np.integer)) else tuple(n)
    if len(reps) != x.ndim:
        raise ValueError(f"tile: {x.name} has rank {x.ndim} but {len(reps)} repetitions were given: {n}")
    return Tile.apply(x, reps=tuple(int(r) for r in reps))


class TileGrad(Op):
    """Sum of the ``reps`` copies that ``Tile`` made: the gradient of tiling."""

    reps: tuple[int, ...]

    def infer(self, g: Tensor) -> tuple[Shape, str]:
        return tuple(None if d is None else d // r for d, r in zip(g.shape, self.reps)), g.dtype

    def forward(self, g: np.ndarray) -> np.ndarray:
        split: list[int] = []
        for d, r in zip(g.shape, self.reps):
            split += [r, d // r]
        return g.reshape(split).sum(axis=tuple(range(0, 2 * len(self.reps), 2)))

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [tile(gy, self.reps)]


class BatchReshape(Op):
    """Each sample reshaped to ``shape``, the batch axis kept as it comes at run time.

    What Keras's ``Reshape`` layer needs when both the batch size and the ``-1`` in its target
    are unknown until the graph runs: ``Reshape`` alone could infer only one of them.
    """

    returns_view = True

    shape: tuple[int, ...]

    def infer(self, x: Tensor) -> tuple[Shape, str]:
        return (x.shape[0] if x.shape else None, *(None if d == -1 else d for d in self.shape)), x.dtype

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.reshape(x, (x.shape[0], *self.shape))

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        return [reshape_like(gy, self.inputs[0])]


def batch_reshape(x: Any, shape: Any) -> Tensor:
    """``x`` as ``(batch, *shape)``; one entry of ``shape`` may be -1."""
    return BatchReshape.apply(as_tensor(x), shape=tuple(int(d) for d in shape))
