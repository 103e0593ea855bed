"""Whole models and their weights in ``.h5`` files, in the layout Keras 2 wrote and Keras 3 reads.

A model file (``save_model``)::

    attrs: keras_version = b"2.2.4"      the Keras whose layout and semantics it follows
           backend = b"minikeras", minikeras_version
           model_config = b'{"class_name": "Model", "config": {...}}'   (JSON, see portable.py)
           training_config = b'{"optimizer_config": ..., "loss": ...}'         (if compiled)
    model_weights/      the layer weights (see ``weights.py``)
    minikeras_optimizer_weights/    attrs weight_names; the optimizer's iteration count and
                        slots, laid out as Keras 2's ``optimizer_weights`` group

Why not Keras 2's group name: Keras 3 (3.15) cannot train a model loaded from an .h5 file that
has an ``optimizer_weights`` group, not even its own ("Unknown variable ... This optimizer can
only be called for the variables it was originally built with"), and it could not use
minikeras's optimizer state anyway. Under another name Keras 3 ignores the state, compiles
from ``training_config`` and trains on; minikeras restores the state exactly. Reading accepts
both names, so Keras 2 files (whose SGD/RMSprop/Adagrad/Adam state is laid out exactly like
minikeras's) resume too.

Attributes are written as UTF-8 ``bytes`` (Keras 2 can only read those) and read as bytes or
``str`` (Keras 3 writes ``str``).
"""

from __future__ import annotations

import json
import warnings
from importlib import metadata
from typing import Any

import h5py

from .. import backend as K
from ..engine import Network, deserialize_layer
from .config import lambda_layers, to_json_text
from .hdf5 import (
    atomic_writing,
    fail,
    get_group,
    has_name_list,
    read_name_list,
    read_text_attr,
    reading,
    write_text_attr,
)
from .keras3 import normalize_model_config
from .portable import portable_model_config
from .training import compile_from_training_config, training_config
from .weights import (
    KERAS_VERSION,
    load_weights_from_group,
    load_weights_from_group_by_name,
    read_variables,
    save_weights_to_group,
    write_variables,
)

OPTIMIZER_GROUP = "minikeras_optimizer_weights"
_KERAS2_OPTIMIZER_GROUP = "optimizer_weights"


def _minikeras_version() -> str:
    try:
        return metadata.version("minikeras")
    except metadata.PackageNotFoundError:
        return "unknown"


def _check_model(model: Any, action: str) -> None:
    if not hasattr(model, "layers") or not hasattr(model, "get_config"):
        raise TypeError(f"Cannot {action} {model!r}: it is not a Model or Sequential.")
    if not getattr(model, "inputs", None):
        raise ValueError(f"Cannot {action} model {model.name!r}: it is not built yet, so it has no "
                         "weights. Give its first layer an input_shape, call model.build(input_shape) "
                         "or train it first.")


def _write_header(f: h5py.Group) -> None:
    write_text_attr(f, "keras_version", KERAS_VERSION)
    write_text_attr(f, "backend", K.backend())
    write_text_attr(f, "minikeras_version", _minikeras_version())


# --- whole models -------------------------------------------------------------------------


def save_model(model: Any, filepath: Any, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Architecture, weights and (if compiled and ``include_optimizer``) the training state.

    The file is written under a temporary name next to ``filepath`` and renamed over it
    only when complete: an error half-way leaves any previous file untouched.
    """
    _check_model(model, "save")
    config_text = to_json_text(portable_model_config(model))
    training = training_config(model) if include_optimizer else None
    with atomic_writing(filepath, overwrite) as f:
        _write_header(f)
        write_text_attr(f, "model_config", config_text)
        if training is not None:
            write_text_attr(f, "training_config", to_json_text(training))
        save_weights_to_group(f.create_group("model_weights"), model.layers)
        if training is not None and model.optimizer.weights:
            write_variables(f.create_group(OPTIMIZER_GROUP), model.optimizer.weights)


def _json_attr(f: h5py.Group, name: str) -> Any:
    text = read_text_attr(f, name)
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise fail(f, f"the attribute {name!r} is not valid JSON ({e}).") from e


def load_model(filepath: Any, custom_objects: dict[str, Any] | None = None, compile: bool = True,  # noqa: A002
               safe_mode: bool = True) -> Any:
    """The model saved in ``filepath`` (by minikeras, Keras 2, tf.keras or Keras 3's ``.h5``).

    ``compile=True`` compiles it as it was saved and restores the optimizer's state, so
    ``fit`` continues where it stopped. ``safe_mode=True`` refuses files with ``Lambda``
    layers; even with ``safe_mode=False`` their functions must come from ``custom_objects``,
    since no code is ever read from a file.
    """
    with reading(filepath) as f:
        config = _json_attr(f, "model_config")
        if config is None:
            if has_name_list(f, "layer_names"):
                raise fail(f, "holds only weights (written by save_weights), no model config: build "
                           "the model in code and call load_weights on it.")
            raise fail(f, "no model config found (the root attribute 'model_config' is missing): it is "
                       "not a model saved by model.save().")
        try:
            data = normalize_model_config(config, custom_objects)
        except (ValueError, TypeError, KeyError) as e:
            raise fail(f, f"cannot read the model config: {e}") from e
        lambdas = lambda_layers(data)
        if lambdas and safe_mode:
            raise fail(f, f"the model has Lambda layers {lambdas}, and loading them is refused in "
                       "safe_mode (the default). A Lambda layer runs a Python function; a file can "
                       "name one but should never choose the code you run. If you trust this file, "
                       "pass safe_mode=False and custom_objects={'<function name>': your_function}: "
                       "minikeras never runs code stored in a file.")
        try:
            model = deserialize_layer(data, custom_objects)
        except (ValueError, TypeError, KeyError) as e:
            raise fail(f, f"cannot rebuild the model from its config: {e}") from e
        if not isinstance(model, Network):
            raise fail(f, f"its model_config describes a single {type(model).__name__} layer, not a model")
        load_weights_from_group(get_group(f, "model_weights"), model.layers, model.name)
        training = _json_attr(f, "training_config") if compile else None
        if training is not None:
            try:
                compile_from_training_config(model, training, custom_objects)
            except (ValueError, TypeError, KeyError) as e:
                raise fail(f, f"the model was saved compiled, but cannot be compiled again: {e}. Pass "
                           "compile=False to load it uncompiled (and compile it yourself), or "
                           "custom_objects for a loss, metric or optimizer of your own.") from e
            _restore_optimizer(f, model)
    return model


def _restore_optimizer(f: h5py.Group, model: Any) -> None:
    """The optimizer's iteration count and slots, when the file has them in Keras 2's order."""
    name = next((n for n in (OPTIMIZER_GROUP, _KERAS2_OPTIMIZER_GROUP) if n in f), None)
    if name is None:
        return
    group = get_group(f, name)
    if not read_name_list(group, "weight_names"):
        return
    problem: str | None
    if (read_text_attr(f, "keras_version") or "").startswith("3."):
        problem = "Keras 3 keeps an optimizer's state in another order and form"
    else:
        try:
            model._make_train_function()  # the optimizer's slot variables exist from here on
            problem = read_variables(group, model.optimizer.weights)
        except ValueError as e:  # e.g. trained on add_loss alone: the added losses are not in the file
            problem = str(e).split(":")[0]
    if problem is not None:
        warnings.warn(f"{f.file.filename}: the optimizer state was not restored ({problem}); "
                      "training continues from a fresh optimizer state.", stacklevel=3)


# --- weights only -------------------------------------------------------------------------


def save_weights(model: Any, filepath: Any, overwrite: bool = True) -> None:
    """Only the weights, layer by layer (``layer_names`` and the layer groups at the root)."""
    _check_model(model, "save the weights of")
    with atomic_writing(filepath, overwrite) as f:
        save_weights_to_group(f, model.layers)
        write_text_attr(f, "minikeras_version", _minikeras_version())


def load_weights(model: Any, filepath: Any, by_name: bool = False, skip_mismatch: bool = False) -> None:
    """Weights from a ``save_weights`` or ``save_model`` file into ``model``.

    By default the n-th layer with weights in the file goes to the n-th layer with weights in
    the model (names are not compared); ``by_name=True`` loads the layers whose names match
    and ignores the others. ``skip_mismatch=True`` skips, with a warning, layers whose weights
    do not fit instead of failing. Nothing is loaded unless everything else fits.
    """
    _check_model(model, "load weights into")
    with reading(filepath) as f:
        group = f
        if not has_name_list(f, "layer_names") and "model_weights" in f:
            group = get_group(f, "model_weights")
        if not has_name_list(group, "layer_names"):
            if "vars" in f or "layers" in f:
                raise fail(f, "is a Keras 3 '.weights.h5' file, a newer layout minikeras cannot read. "
                           "In Keras 3, save the model with model.save('model.h5') instead.")
            raise fail(f, "holds no layer weights: neither a root 'layer_names' attribute nor a "
                       "'model_weights' group.")
        if by_name:
            load_weights_from_group_by_name(group, model.layers, skip_mismatch)
        else:
            load_weights_from_group(group, model.layers, model.name, skip_mismatch)
