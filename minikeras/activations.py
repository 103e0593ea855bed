"""Activation functions by name: ``Dense(4, activation="relu")`` looks ``relu`` up here.

Each function takes a tensor and returns a tensor built from backend ops, so a Dense with
``relu`` ends in a ``Relu`` op. ``linear`` builds nothing: it returns its input unchanged,
which is why a linear Dense stops at ``BiasAdd``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import backend as K
from . import objects
from .graph import Tensor

Activation = Callable[[Tensor], Tensor]

# SELU's constants (Klambauer et al. 2017): they make unit mean/variance a fixed point.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def linear(x: Tensor) -> Tensor:
    """The identity: no op at all (the default activation of Dense and Conv2D)."""
    return x


def relu(x: Tensor, alpha: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> Tensor:
    """``max(x, 0)``; ``alpha`` gives a leaky slope below ``threshold`` (0), ``max_value`` a cap."""
    return K.relu(x, alpha=alpha, max_value=max_value, threshold=threshold)


def sigmoid(x: Tensor) -> Tensor:
    return K.sigmoid(x)


def tanh(x: Tensor) -> Tensor:
    return K.tanh(x)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``: each row becomes a probability vector.

    A 1-D tensor is refused, as in Keras: without a batch axis it is ambiguous whether the
    caller meant one sample of N classes or N samples.
    """
    if K.ndim(x) < 2:
        raise ValueError(f"Cannot apply softmax to a tensor that is 1D. Received input: {x}")
    return K.softmax(x, axis=axis)


def softplus(x: Tensor) -> Tensor:
    return K.softplus(x)


def softsign(x: Tensor) -> Tensor:
    return K.softsign(x)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    return K.elu(x, alpha)


def selu(x: Tensor) -> Tensor:
    """``scale * elu(x, alpha)`` with SELU's fixed constants (use with ``lecun_normal``)."""
    return _SELU_SCALE * K.elu(x, _SELU_ALPHA)


def hard_sigmoid(x: Tensor) -> Tensor:
    """``clip(0.2 * x + 0.5, 0, 1)``: a cheap, piecewise-linear sigmoid."""
    return K.hard_sigmoid(x)


def exponential(x: Tensor) -> Tensor:
    return K.exp(x)


_ACTIVATIONS: dict[str, Activation] = {
    fn.__name__: fn
    for fn in (linear, relu, sigmoid, tanh, softmax, softplus, softsign, elu, selu, hard_sigmoid,
               exponential)
}


def serialize(activation: Callable[..., Any]) -> str:
    """The name under which ``get`` finds ``activation`` again (its ``__name__``)."""
    return activation.__name__


def deserialize(name: str, custom_objects: dict[str, Any] | None = None) -> Callable[..., Any]:
    custom_objects = objects.with_custom_objects(custom_objects)
    if name in custom_objects:
        return custom_objects[name]
    if name not in _ACTIVATIONS:
        raise ValueError(
            "Unknown activation function:" + name + f". Known names: {sorted(_ACTIVATIONS)}; "
            "a function of your own can be passed directly (activation=my_fn)."
        )
    return _ACTIVATIONS[name]


def get(identifier: Any) -> Callable[..., Any]:
    """A name (``"relu"``), a callable (kept as is) or ``None`` (``linear``) to a function."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return deserialize(identifier)
    if isinstance(identifier, dict) and isinstance(identifier.get("config"), str):
        # Keras 3 writes a function as {"class_name": "function", "config": "relu", ...}.
        return deserialize(identifier["config"])
    if callable(identifier):
        return identifier
    raise ValueError("Could not interpret activation function identifier:", identifier)
