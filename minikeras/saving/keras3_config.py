"""The ``config.json`` of a ``.keras`` archive: a model's config in Keras 3's form, and its
``compile_config`` both ways.

Keras 3 wraps every object as ``{"module", "class_name", "config", "registered_name"}``
and records each call of a layer as ``{"args": [...], "kwargs": {...}}`` whose tensors are
``{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history"}}``.
The writer starts from the config an ``.h5`` file holds (``portable.py``: nested models
already numbered as Keras 3 numbers them) and wraps it; the reader is ``keras3.py``, which
unwraps any Keras's config. What a student misses: a ``.keras`` file is read by
*deserializing* it, so every layer config must be accepted by Keras 3's constructors as is.
"""

from __future__ import annotations

from typing import Any

from .. import backend as K
from ..engine import Layer, Network
from .keras3_weights import layers_by_name
from .portable import portable_model_config
from .training import training_config

#: Where Keras 3 keeps each kind of object a layer config names.
_MODULES = {"_initializer": "keras.initializers", "_regularizer": "keras.regularizers",
            "_constraint": "keras.constraints"}


def _wrapped(module: str, class_name: str, config: Any, registered_name: str | None = None) -> dict[str, Any]:
    return {"module": module, "class_name": class_name, "config": config,
            "registered_name": registered_name}


def _shape(value: Any) -> Any:
    """Shapes as JSON lists (a tuple of shapes stays a list of lists)."""
    if isinstance(value, (list, tuple)):
        return [_shape(v) for v in value]
    return value


# --- models ------------------------------------------------------------------------------


def keras3_model_config(model: Network) -> dict[str, Any]:
    """``config.json``'s model entry (without ``compile_config``)."""
    entry = _wrap(portable_model_config(model), model)
    shapes = [list(K.int_shape(x)) for x in model.inputs]
    entry["build_config"] = {"input_shape": shapes[0] if len(shapes) == 1 else shapes}
    return entry


def _wrap(entry: dict[str, Any], layer: Layer) -> dict[str, Any]:
    config = entry["config"]
    if not (isinstance(config, dict) and isinstance(config.get("layers"), list)):
        return _wrap_layer(entry["class_name"], config, layer)
    inner = layers_by_name(layer)
    if "input_layers" not in config:
        layers = [_wrap(e, inner[e["config"]["name"]]) for e in config["layers"]]
        return _wrapped("keras", "Sequential", {"name": config.get("name"), "trainable": layer.trainable,
                                                "layers": layers})
    layers = []
    for e in config["layers"]:
        obj = inner[e["name"]]
        wrapped = _wrap(e, obj)
        wrapped["name"] = e["name"]
        wrapped["inbound_nodes"] = [_node(node, inner) for node in e["inbound_nodes"]]
        layers.append(wrapped)
    return _wrapped("keras.src.models.functional", "Functional",
                    {"name": config.get("name"), "trainable": layer.trainable, "layers": layers,
                     "input_layers": config["input_layers"], "output_layers": config["output_layers"]},
                    "Functional")


def _node(node: list[list[Any]], layers: dict[str, Layer]) -> dict[str, Any]:
    """Keras 2's ``[[name, node, tensor, kwargs], ...]`` as Keras 3's ``{"args", "kwargs"}``."""
    tensors = []
    for name, node_index, tensor_index, *_ in node:
        source = layers[name]
        # The config numbers a nested model's calls as Keras 3 does (from 0); minikeras from 1.
        own = 1 if getattr(source, "_is_graph_network", False) else 0
        x = source._inbound_nodes[node_index + own].output_tensors[tensor_index]
        tensors.append({"class_name": "__keras_tensor__",
                        "config": {"shape": list(K.int_shape(x)), "dtype": K.dtype(x),
                                   "keras_history": [name, node_index, tensor_index]}})
    kwargs = node[0][3] if node and len(node[0]) > 3 else {}
    return {"args": [tensors[0] if len(tensors) == 1 else tensors], "kwargs": kwargs}


def _wrap_layer(class_name: str, config: dict[str, Any], layer: Layer) -> dict[str, Any]:
    config = {key: _wrap_value(key, value) for key, value in config.items()}
    if class_name == "InputLayer":
        config["batch_shape"] = config.pop("batch_input_shape")
        return _wrapped("keras.layers", "InputLayer", config)
    if isinstance(config.get("dtype"), str):
        config["dtype"] = _wrapped("keras", "DTypePolicy", {"name": config["dtype"]})
    wrapped = _wrapped("keras.layers", class_name, config)
    nodes = layer._inbound_nodes
    if nodes and getattr(nodes[0], "input_shapes", None):
        shapes = nodes[0].input_shapes
        wrapped["build_config"] = {"input_shape": _shape(shapes[0] if len(shapes) == 1 else shapes)}
    return wrapped


def _wrap_value(key: str, value: Any) -> Any:
    module = next((m for suffix, m in _MODULES.items() if key.endswith(suffix)), None)
    if module is None or not isinstance(value, dict) or "class_name" not in value:
        return value
    config = dict(value.get("config") or {})
    if value["class_name"] == "VarianceScaling" and config.get("distribution") == "normal":
        config["distribution"] = "truncated_normal"  # Keras 2's "normal" was truncated
    return _wrapped(module, value["class_name"], config)


# --- compile_config ------------------------------------------------------------------------


def keras3_compile_config(model: Any) -> dict[str, Any] | None:
    """How ``model`` was compiled, as Keras 3's ``compile_config``; ``None`` if it was not.

    Keras 2's ``decay`` (``lr / (1 + decay * iterations)``) is Keras 3's ``InverseTimeDecay``
    schedule with ``decay_steps=1``: the same numbers, in the form Keras 3 knows.
    """
    training = training_config(model)
    if training is None:
        return None
    optimizer = training["optimizer_config"]
    config = dict(optimizer["config"])
    config["name"] = optimizer["class_name"].lower()
    decay = config.pop("decay", 0.0)
    if decay:
        config["learning_rate"] = _wrapped(
            "keras.optimizers.schedules", "InverseTimeDecay",
            {"initial_learning_rate": config["learning_rate"], "decay_steps": 1, "decay_rate": decay,
             "staircase": False, "name": "InverseTimeDecay"})
    if optimizer["class_name"] == "Adagrad":
        config["initial_accumulator_value"] = 0.0  # Keras 2's accumulators start at 0
    return {"optimizer": _wrapped("keras.optimizers", optimizer["class_name"], config),
            "loss": training["loss"], "loss_weights": training["loss_weights"],
            "metrics": training["metrics"] or None, "weighted_metrics": None, "run_eagerly": False,
            "steps_per_execution": 1, "jit_compile": False}


def training_config_from_compile_config(compile_config: dict[str, Any]) -> dict[str, Any]:
    """Keras 3's ``compile_config`` in the ``training_config`` form ``training.py`` compiles from."""
    optimizer = compile_config.get("optimizer")
    if isinstance(optimizer, str):
        optimizer = {"class_name": optimizer, "config": {}}
    if not isinstance(optimizer, dict) or "class_name" not in optimizer:
        raise ValueError(f"the compile_config's optimizer {optimizer!r} is not an optimizer config.")
    config = dict(optimizer.get("config") or {})
    schedule = config.get("learning_rate")
    if isinstance(schedule, dict) and schedule.get("class_name") == "InverseTimeDecay":
        options = schedule.get("config") or {}
        if options.get("staircase"):
            raise ValueError("the learning rate is an InverseTimeDecay with staircase=True, which "
                             "Keras 2's decay cannot express.")
        config["learning_rate"] = options["initial_learning_rate"]
        config["decay"] = options["decay_rate"] / options["decay_steps"]
    return {"optimizer_config": {"class_name": optimizer["class_name"], "config": config},
            "loss": compile_config.get("loss"), "metrics": compile_config.get("metrics"),
            "loss_weights": compile_config.get("loss_weights"),
            "weighted_metrics": compile_config.get("weighted_metrics")}


def uses_learning_rate_variable(compile_config: dict[str, Any] | None) -> bool:
    """Whether Keras 3 keeps the learning rate among the optimizer's variables (not a schedule)."""
    optimizer = (compile_config or {}).get("optimizer")
    config = optimizer.get("config") if isinstance(optimizer, dict) else None
    return not isinstance((config or {}).get("learning_rate"), dict)
