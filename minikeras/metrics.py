"""Metrics: like losses, one value per sample; reported, never differentiated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import backend as K
from . import losses, objects
from .graph import Tensor
from .losses import (  # noqa: F401 - Keras 2's metrics module offers the losses too (keras.metrics.mse)
    binary_crossentropy,
    categorical_crossentropy,
    cosine_proximity,
    hinge,
    kullback_leibler_divergence,
    logcosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from .objects import did_you_mean


def binary_accuracy(y_true: Any, y_pred: Any) -> Tensor:
    """The fraction of outputs on the right side of 0.5."""
    return K.mean(K.cast(K.equal(y_true, K.round(y_pred)), K.floatx()), axis=-1)


def categorical_accuracy(y_true: Any, y_pred: Any) -> Tensor:
    return K.cast(K.equal(K.argmax(y_true, axis=-1), K.argmax(y_pred, axis=-1)), K.floatx())


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> Tensor:
    """Targets are class ids, shaped ``(batch,)`` or ``(batch, 1)``."""
    y_true = K.cast(y_true, K.floatx())
    if K.ndim(y_true) == K.ndim(y_pred):
        y_true = K.squeeze(y_true, -1)
    return K.cast(K.equal(y_true, K.cast(K.argmax(y_pred, axis=-1), K.floatx())), K.floatx())


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> Tensor:
    """1 where the true class (one-hot ``y_true``) is among the ``k`` highest predictions."""
    return K.cast(K.in_top_k(y_pred, K.argmax(y_true, axis=-1), k), K.floatx())


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> Tensor:
    """Like ``top_k_categorical_accuracy``, with class ids (``(batch,)`` or ``(batch, 1)``)."""
    ids = K.cast(K.flatten(y_true) if K.ndim(y_true) == K.ndim(y_pred) else y_true, "int64")
    return K.cast(K.in_top_k(y_pred, ids, k), K.floatx())


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


def accuracy_for(loss: Callable[..., Any], output_shape: Any) -> Callable[..., Any]:
    """What ``metrics=["accuracy"]`` means, chosen like Keras from the loss and output shape."""
    name = getattr(loss, "__name__", "")
    if name == "binary_crossentropy" or (output_shape and output_shape[-1] == 1):
        return binary_accuracy
    if name == "sparse_categorical_crossentropy":
        return sparse_categorical_accuracy
    return categorical_accuracy


_METRICS: dict[str, Callable[..., Any]] = {
    fn.__name__: fn for fn in (binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                               top_k_categorical_accuracy, sparse_top_k_categorical_accuracy)
}


def serialize(metric: Callable[..., Any]) -> str:
    """A metric's name: what ``deserialize`` (and ``compile(metrics=[...])``) reads back."""
    return str(metric.__name__)


def deserialize(name: str, custom_objects: dict[str, Any] | None = None) -> Callable[..., Any]:
    """The metric function a name stands for (``custom_objects`` first)."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return get(name)


def get(identifier: Any) -> Callable[..., Any]:
    """A metric by name; any loss name (``"mse"``) works as a metric too."""
    if callable(identifier):
        return identifier
    if isinstance(identifier, str):
        if identifier in objects.get_custom_objects():
            return objects.get_custom_objects()[identifier]
        if identifier in _METRICS:
            return _METRICS[identifier]
        try:
            return losses.get(identifier)
        except ValueError:
            pass
    hint = ""
    if isinstance(identifier, str):  # "acc" and "accuracy" are resolved by compile, per output
        hint = did_you_mean(identifier, [*_METRICS, "accuracy", "acc", *losses.known_names()])
    raise ValueError(f"Unknown metric function: {identifier}.{hint} Known: {sorted(_METRICS)}, "
                     "'accuracy' and the losses")
