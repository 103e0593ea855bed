"""A model as JSON (its architecture, no weights), and a model rebuilt from it.

``model_to_json`` writes ``{"class_name": "Model", "config": model.get_config(), ...}``;
``model_from_config`` first translates configs written by Keras 3 or tf.keras (``keras3.py``),
then asks the engine's registry of layer classes, by class name, to rebuild it. The registry
also knows ``Model`` and ``Sequential``: this package never imports ``minikeras.models``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from .. import backend as K
from ..engine import Layer
from .json_text import parse_json
from .rebuild import lambda_layers, rebuild_model
from .weight_check import WeightCheck
from .weights import KERAS_VERSION

__all__ = ["lambda_layers", "model_config", "model_from_config", "model_from_json", "model_to_json",
           "to_json_text"]


def _json_default(obj: Any) -> Any:
    """NumPy numbers and arrays as JSON; anything else is a config that is not plain data."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"Cannot save a config holding {obj!r} (a {type(obj).__name__}): a layer's "
                    "get_config() must return plain data (numbers, strings, lists, dicts).")


def to_json_text(value: Any, **kwargs: Any) -> str:
    return json.dumps(value, default=_json_default, **kwargs)


def model_config(model: Layer) -> dict[str, Any]:
    """``{"class_name": ..., "config": model.get_config()}``."""
    return {"class_name": type(model).__name__, "config": model.get_config()}


def model_to_json(model: Layer, **kwargs: Any) -> str:
    """The architecture as a JSON string (``kwargs`` go to ``json.dumps``, e.g. ``indent=2``).

    No weights are in it: ``model_from_json`` gives a model with fresh random weights.
    """
    return to_json_text({**model_config(model), "keras_version": KERAS_VERSION,
                         "backend": K.backend()}, **kwargs)


def model_from_config(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Any:
    """A model (or layer) from ``{"class_name": ..., "config": ...}``, weights freshly initialised.

    Layers of your own, and the functions of ``Lambda`` layers, come from ``custom_objects``
    (``{"MyLayer": MyLayer, "my_function": my_function}``): a config only names them.
    A config that cannot describe a model is a ``ValueError`` naming the layer and the field;
    no weight larger than the machine's memory is allocated.
    """
    if isinstance(config, list):
        raise TypeError("`model_from_config` expects a dictionary, not a list. Maybe you meant to "
                        "use `Sequential.from_config(config)`?")
    return rebuild_model(config, custom_objects, safe_mode=False, check=WeightCheck(None))


def model_from_json(json_string: str, custom_objects: dict[str, Any] | None = None) -> Any:
    """A model from ``model_to_json``'s text (or Keras's ``to_json``), weights freshly initialised."""
    if not isinstance(json_string, (str, bytes)):
        raise TypeError(f"model_from_json expects the JSON text (a str), not a {type(json_string).__name__}.")
    return model_from_config(parse_json(json_string, "model_from_json: the text"), custom_objects)
