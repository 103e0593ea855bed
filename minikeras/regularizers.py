"""Weight penalties: ``kernel_regularizer=l2(0.01)`` adds ``0.01 * sum(w**2)`` to the loss.

A regularizer is called once, on the weight variable, when the layer builds it. What it
returns is a *graph expression* (a scalar tensor) that the layer keeps in ``layer.losses``;
training adds those tensors to the loss, so the penalty is recomputed on every step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import backend as K
from . import objects
from .engine import lookups
from .graph import Tensor


class Regularizer:
    """Base class: ``__call__(weight) -> scalar tensor``."""

    def __call__(self, x: Tensor) -> Tensor:
        return K.constant(0.0)

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w**2)``. Note: a *sum* over the weights, not a mean."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = float(l1)
        self.l2 = float(l2)

    def __call__(self, x: Tensor) -> Tensor:
        terms = []
        if self.l1:
            terms.append(K.sum(self.l1 * K.abs(x)))
        if self.l2:
            terms.append(K.sum(self.l2 * K.square(x)))
        if not terms:
            return K.constant(0.0)
        return terms[0] if len(terms) == 1 else terms[0] + terms[1]

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


# tf.keras and Keras 3 save these two as their own classes.
class L1(L1L2):
    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


def l1(l: float = 0.01) -> L1L2:  # noqa: E741 - Keras's argument name
    return L1L2(l1=l)


def l2(l: float = 0.01) -> L1L2:  # noqa: E741 - Keras's argument name
    return L1L2(l2=l)


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    return L1L2(l1=l1, l2=l2)


_OBJECTS: dict[str, Callable[..., Any]] = {
    "L1L2": L1L2, "L1": L1, "L2": L2, "l1": l1, "l2": l2, "l1_l2": l1_l2,
}


def serialize(regularizer: Any) -> dict[str, Any] | None:
    return objects.serialize(regularizer, "regularizer")


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Any:
    return objects.deserialize(config, _OBJECTS, "regularizer", custom_objects)


def get(identifier: Any) -> Any:
    """``None``, a name (``"l2"`` means ``l2(0.01)``), a config dict or a callable."""
    if identifier is None:
        return None
    return objects.get(identifier, _OBJECTS, "regularizer")


lookups.register("regularizer", get)  # so that add_weight(regularizer="...") finds names
