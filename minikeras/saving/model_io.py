"""Whole models and their weights in ``.h5`` files, in the layout Keras 2 wrote and Keras 3 reads;
and the entry points that send ``.keras`` archives and ``.weights.h5`` files to their modules.

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

import os
import warnings
from importlib import metadata
from typing import Any

import h5py

from .. import backend as K
from ..engine import Network
from .config import to_json_text
from .hdf5 import (
    ModelFileError,
    atomic_writing,
    fail,
    get_group,
    has_name_list,
    read_name_list,
    read_text_attr,
    reading,
    write_text_attr,
)
from .json_text import parse_json
from .keras3_weights import read_model_weights, write_model_weights, write_optimizer
from .keras_archive import load_keras, load_keras_weights, save_keras
from .portable import portable_model_config
from .rebuild import MALFORMED, rebuild_model
from .training import compile_from_training_config, training_config
from .weight_check import WeightCheck, dataset_values
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


def _check_weights_name(filepath: Any) -> None:
    """``save_weights`` to a ``.keras`` name would write weights where a whole model is
    expected: refuse it before writing anything (Keras 3 does too)."""
    if isinstance(filepath, (str, os.PathLike)) and os.fspath(filepath).lower().endswith(".keras"):
        stem = os.fspath(filepath)[: -len(".keras")]
        raise ValueError(
            f"Cannot save the weights to {os.fspath(filepath)!r}: a '.keras' file holds a whole "
            f"model (use model.save). For the weights alone use {stem + '.weights.h5'!r} (Keras 3's "
            f"layout) or {stem + '.h5'!r} (Keras 2's)."
        )


def _write_header(f: h5py.Group) -> None:
    write_text_attr(f, "keras_version", KERAS_VERSION)
    write_text_attr(f, "backend", K.backend())
    write_text_attr(f, "minikeras_version", _minikeras_version())


# --- whole models -------------------------------------------------------------------------


_FORMATS = ("keras", "h5")


def file_format(filepath: Any, save_format: str | None = None) -> str:
    """``"keras"`` or ``"h5"``: ``save_format`` if given, else from the extension, as Keras 3 does.

    ``.keras`` is Keras 3's archive; ``.h5``, ``.hdf5`` and any other name the HDF5 file
    Keras 2 wrote (Keras 2 wrote HDF5 whatever the name).
    """
    if save_format is not None:
        fmt = {"hdf5": "h5", "tf": None}.get(save_format.lower(), save_format.lower())
        if fmt not in _FORMATS:
            raise ValueError(f"Unknown save_format={save_format!r}: minikeras writes 'keras' (Keras 3's "
                             "archive) or 'h5' (the HDF5 layout of Keras 2); a TensorFlow SavedModel "
                             "('tf') is not supported.")
        return fmt
    if isinstance(filepath, h5py.Group):
        return "h5"
    return "keras" if os.fspath(filepath).endswith(".keras") else "h5"


def _is_zip(filepath: Any) -> bool:
    if isinstance(filepath, h5py.Group):
        return False
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        return path.endswith(".keras")
    with open(path, "rb") as f:
        if f.read(4) == b"PK\x03\x04":
            return True
    return path.endswith(".keras") and not h5py.is_hdf5(path)  # the content decides, then the name


def save_model(model: Any, filepath: Any, overwrite: bool = True, include_optimizer: bool = True,
               save_format: str | None = None) -> None:
    """Architecture, weights and (if compiled and ``include_optimizer``) the training state.

    The format follows the extension (``.keras``: Keras 3's archive; otherwise Keras's HDF5
    layout) unless ``save_format`` says. The file is written under a temporary name next to
    ``filepath`` and renamed over it only when complete: an error half-way leaves any
    previous file untouched.
    """
    _check_model(model, "save")
    if file_format(filepath, save_format) == "keras":
        save_keras(model, filepath, overwrite, include_optimizer)
        return
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
        return parse_json(text, f"the attribute {name!r}")
    except ValueError as e:
        raise fail(f, str(e)) from e


def load_model(filepath: Any, custom_objects: dict[str, Any] | None = None, compile: bool = True,  # noqa: A002
               safe_mode: bool = True) -> Any:
    """The model saved in ``filepath``: a ``.keras`` archive (minikeras or Keras 3) or an ``.h5``
    file (minikeras, Keras 2.x, tf.keras or Keras 3).

    ``compile=True`` compiles it as it was saved and restores the optimizer's state, so
    ``fit`` continues where it stopped. ``safe_mode=True`` refuses files with ``Lambda``
    layers; even with ``safe_mode=False`` their functions must come from ``custom_objects``,
    since no code is ever read from a file.
    """
    if _is_zip(filepath):
        return load_keras(filepath, custom_objects, compile, safe_mode)
    with reading(filepath) as f:
        config = _json_attr(f, "model_config")
        if config is None:
            if has_name_list(f, "layer_names"):
                raise fail(f, "holds only weights (written by save_weights), no model config: build "
                           "the model in code and call load_weights on it.")
            raise fail(f, "no model config found (the root attribute 'model_config' is missing): it is "
                       "not a model saved by model.save().")
        weights = get_group(f, "model_weights") if "model_weights" in f else None
        check = WeightCheck(dataset_values(weights) if weights is not None else 0)
        try:
            model = rebuild_model(config, custom_objects, safe_mode, check)
        except ModelFileError:
            raise
        except ValueError as e:
            raise fail(f, str(e)) from e
        if not isinstance(model, Network):
            raise fail(f, f"its model_config describes a single {type(model).__name__} layer, not a model")
        load_weights_from_group(get_group(f, "model_weights"), model.layers, model.name)
        training = _json_attr(f, "training_config") if compile else None
        if training is not None:
            try:  # the training function is built only when the optimizer state is restored
                compile_from_training_config(model, training, custom_objects)
                _restore_optimizer(f, model)
            except MALFORMED as e:
                if isinstance(e, ModelFileError):
                    raise
                raise fail(f, f"the model was saved compiled, but cannot be compiled again: {e}. Pass "
                           "compile=False to load it uncompiled (and compile it yourself), or "
                           "custom_objects for a loss, metric or optimizer of your own.") from e
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
            problem = read_variables(group, _saved_optimizer_weights(model.optimizer, group))
        except ValueError as e:  # e.g. trained on add_loss alone: the added losses are not in the file
            problem = str(e).split(":")[0]
    if problem is not None:
        warnings.warn(f"{f.file.filename}: the optimizer state was not restored ({problem}); "
                      "training continues from a fresh optimizer state.", stacklevel=3)


def _saved_optimizer_weights(optimizer: Any, group: h5py.Group) -> list[Any]:
    """The optimizer's weights a file holds: tf.keras's Adam keeps no ``vhat`` unless amsgrad,
    Keras 2.2's keeps one ``(1,)`` placeholder per parameter (minikeras's order)."""
    weights = list(optimizer.weights)
    vhats = list(getattr(optimizer, "_made_slots", {}).get("vhat", {}).values())
    if (type(optimizer).__name__ == "Adam" and not optimizer.amsgrad
            and len(read_name_list(group, "weight_names")) == len(weights) - len(vhats)):
        return [w for w in weights if not any(w is v for v in vhats)]
    return weights


# --- weights only -------------------------------------------------------------------------


def save_weights(model: Any, filepath: Any, overwrite: bool = True) -> None:
    """Only the weights, layer by layer (``layer_names`` and the layer groups at the root).

    A name ending in ``.weights.h5`` gets Keras 3's layout instead (what Keras 3's
    ``save_weights`` writes, optimizer state included), so Keras 3 can ``load_weights`` it.
    """
    _check_model(model, "save the weights of")
    _check_weights_name(filepath)
    if not isinstance(filepath, h5py.Group) and os.fspath(filepath).endswith(".weights.h5"):
        with atomic_writing(filepath, overwrite) as f:
            write_model_weights(f, model)
            if getattr(model, "optimizer", None) is not None:
                write_optimizer(f, model, with_learning_rate=not model.optimizer.initial_decay)
        return
    with atomic_writing(filepath, overwrite) as f:
        save_weights_to_group(f, model.layers)
        write_text_attr(f, "minikeras_version", _minikeras_version())


def load_weights(model: Any, filepath: Any, by_name: bool = False, skip_mismatch: bool = False) -> None:
    """Weights from a ``save_weights`` or ``save_model`` file (``.h5``, ``.keras`` or
    ``.weights.h5``, by minikeras or any Keras) into ``model``.

    By default the n-th layer with weights in the file goes to the n-th layer with weights in
    the model (names are not compared); ``by_name=True`` loads the layers whose names match
    and ignores the others. ``skip_mismatch=True`` skips, with a warning, layers whose weights
    do not fit instead of failing. Nothing is loaded unless everything else fits.
    """
    _check_model(model, "load weights into")
    if _is_zip(filepath):
        load_keras_weights(model, filepath, by_name, skip_mismatch)
        return
    with reading(filepath) as f:
        group = f
        if not has_name_list(f, "layer_names") and "model_weights" in f:
            group = get_group(f, "model_weights")
        if not has_name_list(group, "layer_names"):
            if "vars" in f or "layers" in f:  # Keras 3's .weights.h5 layout
                read_model_weights(f, model, None, by_name, skip_mismatch)
                return
            raise fail(f, "holds no layer weights: neither a root 'layer_names' attribute nor a "
                       "'model_weights' group.")
        if by_name:
            load_weights_from_group_by_name(group, model.layers, skip_mismatch)
        else:
            load_weights_from_group(group, model.layers, model.name, skip_mismatch)
