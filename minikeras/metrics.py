"""Metrics: like losses, one value per sample; reported, never differentiated."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import backend as K
from . import losses, objects
from .graph import Tensor
from .losses import mean_absolute_error, mean_squared_error
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
    fn.__name__: fn for fn in (binary_accuracy, categorical_accuracy, sparse_categorical_accuracy)
}


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
