"""``clone_model``: the same architecture with new layers and freshly initialized weights."""

from __future__ import annotations

import copy
from typing import Any

from ..engine import to_list
from .model import Model


def clone_model(model: Any, input_tensors: Any = None) -> Any:
    """A new model wired like ``model``, made of *new* layers (same names and configs).

    The weights are initialized again, not copied: follow with
    ``clone.set_weights(model.get_weights())`` for an exact copy. With ``input_tensors``
    the clone is built on those tensors instead of new ``Input``s. ``Lambda`` layers keep
    their functions: in memory there is no file to distrust.
    """
    config, functions = _with_functions_by_key(model)
    clone = type(model).from_config(config, custom_objects=functions)
    if input_tensors is None:
        return clone
    inputs = to_list(input_tensors)
    outputs = clone(inputs[0] if len(inputs) == 1 else inputs)
    return Model(inputs, outputs, name=model.name)


def _with_functions_by_key(model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The model's config with each ``Lambda``'s function named by a key of its own (two
    lambdas are both called ``<lambda>``), and the functions under those keys."""
    config = copy.deepcopy(model.get_config())
    layers = {layer.name: layer for layer in model.layers}
    functions: dict[str, Any] = {}
    for entry in config["layers"]:
        layer = layers.get(entry["config"].get("name"))
        if entry["class_name"] != "Lambda" or layer is None:
            continue
        key = f"{layer.name}/function"
        entry["config"]["function"], functions[key] = key, layer.function
        if callable(layer._output_shape):
            entry["config"]["output_shape"], functions[key + "/output_shape"] = (
                key + "/output_shape", layer._output_shape)
    return config, functions
