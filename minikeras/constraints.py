"""Weight constraints: a projection applied to a weight after each optimizer step.

A constraint maps the updated weight tensor to a tensor of the same shape (a graph
expression); the optimizer assigns the *constrained* value. It is not a penalty: it never
appears in the loss.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import backend as K
from . import objects
from .engine import lookups
from .graph import Tensor


def _norms(w: Tensor, axis: Any) -> Tensor:
    return K.sqrt(K.sum(K.square(w), axis=axis, keepdims=True))


class Constraint:
    """Base class: ``__call__(w) -> w`` projected; the base does nothing."""

    def __call__(self, w: Tensor) -> Tensor:
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        return cls(**config)


class MaxNorm(Constraint):
    """Rescale each slice along ``axis`` whose L2 norm exceeds ``max_value`` down to it.

    ``axis=0`` for a Dense kernel ``(in, out)`` constrains each unit's incoming weights.
    """

    def __init__(self, max_value: float = 2, axis: Any = 0) -> None:
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w: Tensor) -> Tensor:
        norms = _norms(w, self.axis)
        desired = K.clip(norms, 0, self.max_value)
        return w * (desired / (K.epsilon() + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Negative weights become 0."""

    def __call__(self, w: Tensor) -> Tensor:
        return w * K.cast(K.greater_equal(w, 0.0), K.dtype(w))


class UnitNorm(Constraint):
    """Each slice along ``axis`` divided by its L2 norm."""

    def __init__(self, axis: Any = 0) -> None:
        self.axis = axis

    def __call__(self, w: Tensor) -> Tensor:
        return w / (K.epsilon() + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Norms pulled into ``[min_value, max_value]``; ``rate < 1`` moves only part of the way."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: Any = 0) -> None:
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w: Tensor) -> Tensor:
        norms = _norms(w, self.axis)
        desired = self.rate * K.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (K.epsilon() + norms))

    def get_config(self) -> dict[str, Any]:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


max_norm = maxnorm = MaxNorm
non_neg = nonneg = NonNeg
unit_norm = unitnorm = UnitNorm
min_max_norm = MinMaxNorm

_OBJECTS: dict[str, Callable[..., Any]] = {
    "MaxNorm": MaxNorm, "max_norm": MaxNorm, "maxnorm": MaxNorm,
    "NonNeg": NonNeg, "non_neg": NonNeg, "nonneg": NonNeg,
    "UnitNorm": UnitNorm, "unit_norm": UnitNorm, "unitnorm": UnitNorm,
    "MinMaxNorm": MinMaxNorm, "min_max_norm": MinMaxNorm,
}


def serialize(constraint: Any) -> dict[str, Any] | None:
    return objects.serialize(constraint, "constraint")


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Any:
    return objects.deserialize(config, _OBJECTS, "constraint", custom_objects)


def get(identifier: Any) -> Any:
    """``None``, a name (``"non_neg"``), a config dict or a callable."""
    if identifier is None:
        return None
    return objects.get(identifier, _OBJECTS, "constraint")


lookups.register("constraint", get)  # so that add_weight(constraint="...") finds names
