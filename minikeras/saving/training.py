"""The ``training_config`` of a model file: how the model was compiled, and compiling it again.

minikeras writes it in the form Keras 3 can compile from: the optimizer's ``learning_rate``
(Keras 2.2 wrote ``lr``, which Keras 3 rejects), full loss names (``mean_squared_error``,
never ``mse``, which Keras 3 cannot resolve) and ``loss_weights``/``sample_weight_mode``
keys, which its reader requires. Together with ``optimizer_weights`` (the optimizer's slots
and iteration count) it lets ``fit`` continue exactly where it stopped.
"""

from __future__ import annotations

from typing import Any

from .. import losses, metrics, optimizers
from .keras3 import normalize_training_config

_ACCURACY = {"acc", "accuracy"}  # kept as written: the metric's name in the logs follows it


def _loss_name(loss: Any) -> Any:
    if isinstance(loss, dict):
        return {k: _loss_name(v) for k, v in loss.items()}
    if isinstance(loss, (list, tuple)):
        return [_loss_name(v) for v in loss]
    if loss is None:  # an output left out of training (compiled without a loss: add_loss only)
        return None
    return losses.serialize(losses.get(loss))


def _metric_name(metric: Any) -> Any:
    if isinstance(metric, dict):
        return {k: _metric_name(v) for k, v in metric.items()}
    if isinstance(metric, (list, tuple)):
        return [_metric_name(v) for v in metric]
    if isinstance(metric, str) and metric in _ACCURACY:
        return metric
    fn = metrics.get(metric)
    name = getattr(fn, "__name__", str(metric))
    try:
        return losses.serialize(losses.get(name))  # "mae" -> "mean_absolute_error"
    except ValueError:
        return name


def training_config(model: Any) -> dict[str, Any] | None:
    """How ``model`` was compiled, or ``None`` if it was not."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        return None
    config = optimizer.get_config()
    if not config.get("decay"):
        config.pop("decay", None)  # Keras 3 warns about any decay, even 0
    loss_weights = getattr(model, "loss_weights", None)
    if loss_weights is not None and all(w == 1.0 for w in loss_weights):
        loss_weights = None
    compiled_metrics = model.metrics if isinstance(model.metrics, dict) else list(model.metrics or [])
    return {"optimizer_config": {"class_name": type(optimizer).__name__, "config": config},
            "loss": _loss_name(model.loss), "metrics": _metric_name(compiled_metrics),
            "weighted_metrics": None, "sample_weight_mode": None, "loss_weights": loss_weights}


def _lookup(value: Any, custom_objects: dict[str, Any]) -> Any:
    """Names found in ``custom_objects`` replaced by the objects (a loss of your own)."""
    if isinstance(value, dict):
        return {k: _lookup(v, custom_objects) for k, v in value.items()}
    if isinstance(value, list):
        return [_lookup(v, custom_objects) for v in value]
    if isinstance(value, str) and value in custom_objects:
        return custom_objects[value]
    return value


def compile_from_training_config(model: Any, config: dict[str, Any],
                                 custom_objects: dict[str, Any] | None = None) -> None:
    """``model.compile(...)`` with what ``config`` recorded (written by any Keras)."""
    custom_objects = custom_objects or {}
    plain = normalize_training_config(config, custom_objects)
    optimizer = optimizers.deserialize(plain["optimizer"], custom_objects)
    model.compile(optimizer, loss=_lookup(plain["loss"], custom_objects),
                  metrics=_lookup(plain["metrics"], custom_objects),
                  loss_weights=plain["loss_weights"])
