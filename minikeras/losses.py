"""Loss functions: ``loss(y_true, y_pred)`` gives one value per sample, shape ``(batch,)``.

The model averages them (with sample weights, if any); a loss itself never averages over
the batch, which is why they all reduce over the *last* axis only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import backend as K
from . import objects
from .graph import Tensor
from .objects import did_you_mean


def mean_squared_error(y_true: Any, y_pred: Any) -> Tensor:
    return K.mean(K.square(y_pred - y_true), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Tensor:
    return K.mean(K.abs(y_pred - y_true), axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Tensor:
    diff = K.abs((y_true - y_pred) / K.clip(K.abs(y_true), K.epsilon(), None))
    return 100.0 * K.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Tensor:
    first = K.log(K.clip(y_pred, K.epsilon(), None) + 1.0)
    second = K.log(K.clip(y_true, K.epsilon(), None) + 1.0)
    return K.mean(K.square(first - second), axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> Tensor:
    return K.mean(K.square(K.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def hinge(y_true: Any, y_pred: Any) -> Tensor:
    """Targets are -1 or 1 (not 0 or 1)."""
    return K.mean(K.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> Tensor:
    pos = K.sum(y_true * y_pred, axis=-1)
    neg = K.max((1.0 - y_true) * y_pred, axis=-1)
    return K.maximum(0.0, neg - pos + 1.0)


def logcosh(y_true: Any, y_pred: Any) -> Tensor:
    """``log(cosh(x))`` written as ``x + softplus(-2x) - log 2``, which never overflows."""
    x = y_pred - y_true
    return K.mean(x + K.softplus(-2.0 * x) - 0.6931471805599453, axis=-1)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False) -> Tensor:
    return K.categorical_crossentropy(y_true, y_pred, from_logits=from_logits)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False) -> Tensor:
    return K.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits)


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False) -> Tensor:
    return K.mean(K.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=-1)


def kullback_leibler_divergence(y_true: Any, y_pred: Any) -> Tensor:
    y_true = K.clip(y_true, K.epsilon(), 1)
    y_pred = K.clip(y_pred, K.epsilon(), 1)
    return K.sum(y_true * K.log(y_true / y_pred), axis=-1)


def poisson(y_true: Any, y_pred: Any) -> Tensor:
    return K.mean(y_pred - y_true * K.log(y_pred + K.epsilon()), axis=-1)


def cosine_proximity(y_true: Any, y_pred: Any) -> Tensor:
    return -K.sum(K.l2_normalize(y_true, axis=-1) * K.l2_normalize(y_pred, axis=-1), axis=-1)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence
cosine = cosine_proximity

_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error",
            "mape": "mean_absolute_percentage_error", "msle": "mean_squared_logarithmic_error",
            "kld": "kullback_leibler_divergence", "cosine": "cosine_proximity"}


_LOSSES: dict[str, Callable[..., Any]] = {
    fn.__name__: fn
    for fn in (mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
               mean_squared_logarithmic_error, squared_hinge, hinge, categorical_hinge, logcosh,
               categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy,
               kullback_leibler_divergence, poisson, cosine_proximity)
}


def serialize(loss: Callable[..., Any]) -> str:
    """A loss's full name (``"mean_squared_error"``, never ``"mse"``): what Keras 3 reads."""
    return _ALIASES.get(loss.__name__, loss.__name__)


def deserialize(name: str, custom_objects: dict[str, Any] | None = None) -> Callable[..., Any]:
    """The loss function a name stands for (``custom_objects`` first), Keras's inverse of ``serialize``."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return get(name)


def known_names() -> list[str]:
    """Every name ``get`` accepts: full names and aliases (``"mse"``)."""
    return sorted({*_LOSSES, *_ALIASES})


def get(identifier: Any) -> Callable[..., Any]:
    """A loss function from its name or alias (``"mse"``), or the callable itself."""
    if callable(identifier):
        return identifier
    if isinstance(identifier, str):
        fn = (objects.get_custom_objects().get(identifier)
              or _LOSSES.get(_ALIASES.get(identifier.lower(), identifier)))
        if fn is not None:
            return fn
    hint = did_you_mean(identifier, [*_LOSSES, *_ALIASES]) if isinstance(identifier, str) else ""
    raise ValueError(f"Unknown loss function: {identifier}.{hint} Known: {sorted(_LOSSES)}")
