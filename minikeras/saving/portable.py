"""The model config minikeras writes into an ``.h5`` file: ``get_config()``, in a form that
minikeras, Keras 2, tf.keras and Keras 3 all read as meant.

Three rewrites, none changing what the model computes:

1. ``batch_input_shape`` stays only on ``InputLayer`` entries. On any other layer it is a
   duplicate (the input fixes the shape) that Keras 3 misreads as that layer's
   ``input_shape`` *including* the batch axis.
2. Calls of nested models are numbered as Keras 3 numbers them. In Keras 2, tf.keras and
   minikeras a model owns a node of its own (its inputs to its outputs), so its first call
   is node 1; a Keras 3 model has no such node, and Keras 3 reads a layer's input
   ``["inner", 1, 0]`` as the *second* call of ``inner``. So in ``inbound_nodes`` the calls
   of a nested model are written from 0. (A file's ``input_layers``/``output_layers`` keep
   Keras 2's numbers: Keras 3 subtracts 1 there for functional models.) minikeras reads
   both numberings: a nested model's call 0 cannot be a Keras 2 number. Keras 2 and
   tf.keras cannot load such files; a model without nested models is read by every Keras.
3. A ``Sequential`` nested in a functional model is written as the functional model it is
   (same layers, same weights), because Keras 3 does not subtract 1 for a Sequential in
   ``output_layers``. It loads back as a ``Model``; a Sequential inside a Sequential, where
   there are no node numbers, stays one.

``model_to_json`` does none of this: a JSON config is ``get_config()`` exactly.
"""

from __future__ import annotations

import copy
from typing import Any

from ..engine import Layer


def portable_model_config(model: Layer) -> dict[str, Any]:
    """``{"class_name", "config"}`` of ``model`` as written in ``model_config``."""
    return _portable(copy.deepcopy({"class_name": type(model).__name__, "config": model.get_config()}))


def _is_model(entry: dict[str, Any]) -> bool:
    config = entry.get("config")
    return isinstance(config, dict) and isinstance(config.get("layers"), list)


def _portable(entry: dict[str, Any]) -> dict[str, Any]:
    if not _is_model(entry):
        return entry
    config: dict[str, Any] = entry["config"]
    layers = config["layers"]
    if "input_layers" in config:
        for layer in layers:
            if layer["class_name"] == "Sequential" and _starts_with_input(layer["config"]):
                layer["class_name"] = "Model"
                layer["config"] = _sequential_as_functional(layer["config"])
            _portable(layer)
            if layer["class_name"] != "InputLayer" and not _is_model(layer):
                layer["config"].pop("batch_input_shape", None)
        models = {layer["name"] for layer in layers if _is_model(layer)}
        for layer in layers:
            for node in layer.get("inbound_nodes", []):
                for ref in node:
                    if ref[0] in models:
                        ref[1] -= 1
    else:
        for layer in layers:
            _portable(layer)
        if _starts_with_input(config):
            for layer in layers[1:]:
                if not _is_model(layer):
                    layer["config"].pop("batch_input_shape", None)
    return entry


def _starts_with_input(config: dict[str, Any]) -> bool:
    layers = config.get("layers") or []
    return bool(layers) and layers[0]["class_name"] == "InputLayer"


def _sequential_as_functional(config: dict[str, Any]) -> dict[str, Any]:
    """A Sequential's config (InputLayer first) as a functional model's: each layer called on
    the one before. A nested model's first call is its node 1, a plain layer's its node 0."""
    entries = []
    previous: list[Any] | None = None
    for layer in config["layers"]:
        name = layer["config"]["name"]
        nodes = [] if previous is None else [[previous + [0, {}]]]
        entries.append({"name": name, "class_name": layer["class_name"], "config": layer["config"],
                        "inbound_nodes": nodes})
        previous = [name, 1 if _is_model(layer) else 0]
    assert previous is not None
    first = entries[0]["name"]
    return {"name": config.get("name"), "layers": entries, "input_layers": [[first, 0, 0]],
            "output_layers": [previous + [0]]}
