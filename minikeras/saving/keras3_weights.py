"""Weights in Keras 3's layout: ``model.weights.h5`` inside a ``.keras`` archive, and
``.weights.h5`` files. Layout::

    vars/                          attrs name = "my_model"  (the model's own variables: none)
    layers/dense/vars/0, 1         kernel, bias             attrs name = "dense_7"
    layers/batch_normalization/vars/0..3   gamma, beta, moving mean, moving variance
    layers/functional/layers/dense/vars/0  a nested model's layers, one level down
    optimizer/vars/0, 1, 2, ...    iterations, learning rate, then each parameter's slots

A student's usual surprise: the paths are **not** the layers' names. Keras 3 names each layer
of ``model.layers`` after its *class* (``dense``, ``dense_1``, ... in order; a Sequential's
InputLayer is not among its layers, a functional model's are), so a file loads into any
model of the same architecture. The real name is only the ``name`` attribute of ``vars``,
which ``by_name=True`` uses.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import h5py
import numpy as np

from .. import backend as K
from ..engine import Layer
from ..graph import Variable
from .hdf5 import ModelFileError, get_dataset, read_dataset, read_text_attr
from .weights import legacy_weights, warn_skipped

#: Keras 3's slots per optimizer, in its order: each inner list is interleaved per parameter
#: (Adam: m of w1, v of w1, m of w2, ...), the groups follow one another. minikeras's names.
_SLOTS: dict[str, list[list[str]]] = {"SGD": [["moment"]], "Adam": [["m", "v"]],
                                      "RMSprop": [["accumulator"]], "Adagrad": [["accumulator"]]}


def keras3_class_name(class_name: str) -> str:
    return "Functional" if class_name == "Model" else class_name


def snake_case(name: str) -> str:
    """Keras 3's ``to_snake_case``: ``BatchNormalization`` -> ``batch_normalization``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _is_model(layer: Layer) -> bool:
    return bool(getattr(layer, "_is_graph_network", False))


def layers_by_name(model: Any) -> dict[str, Layer]:
    """A model's layers by name, its InputLayers included (a Sequential's ``layers`` leaves them out)."""
    found = {layer.name: layer for layer in model.layers}
    for x in model.inputs:
        found.setdefault(x._keras_history[0].name, x._keras_history[0])
    return found


def _children(model: Any,
              entry: dict[str, Any] | None) -> list[tuple[str, Layer, dict[str, Any] | None]]:
    """``(Keras 3 class name, layer, its config entry)`` for each layer Keras 3 lists in ``model.layers``.

    With a config entry (``.keras``), class names and order come from it, as Keras 3 rebuilds
    the model from it; without (``.weights.h5``), from the model itself.
    """
    if entry is None:
        layers = list(model.layers)
        if type(model).__name__ != "Sequential":
            inputs = [x._keras_history[0] for x in model.inputs]
            layers = [x for x in inputs if x not in layers] + layers
        return [(keras3_class_name(type(layer).__name__), layer, None) for layer in layers
                if not (type(model).__name__ == "Sequential" and type(layer).__name__ == "InputLayer")]
    by_name = layers_by_name(model)
    sequential = entry.get("class_name") == "Sequential"
    out = []
    for e in entry["config"]["layers"]:
        class_name = keras3_class_name(e["class_name"])
        if sequential and class_name == "InputLayer":
            continue
        name = e.get("name") or e["config"]["name"]
        if name not in by_name:
            raise ValueError(f"the config names a layer {name!r} that the rebuilt model does not have.")
        out.append((class_name, by_name[name], e))
    return out


def layer_paths(model: Any, entry: dict[str, Any] | None = None,
                prefix: str = "") -> Iterator[tuple[str, Layer]]:
    """``("layers/dense", layer), ...`` for every layer, nested models' layers included."""
    used: dict[str, int] = {}
    for class_name, layer, child in _children(model, entry):
        key = snake_case(class_name)
        used[key] = used.get(key, -1) + 1
        path = f"{prefix}layers/{key}" + (f"_{used[key]}" if used[key] else "")
        yield path, layer
        if _is_model(layer):
            yield from layer_paths(layer, child, path + "/")


# --- writing ---------------------------------------------------------------------------------


def _write_vars(f: h5py.File, path: str, name: str, values: list[Any]) -> None:
    group = f.create_group(f"{path}/vars" if path else "vars")
    group.attrs["name"] = name
    for i, value in enumerate(values):
        group.create_dataset(str(i), data=np.asarray(value))


def write_model_weights(f: h5py.File, model: Any, entry: dict[str, Any] | None = None) -> None:
    """Every layer's weights (trainable first, as Keras 3 keeps them) in Keras 3's paths."""
    _write_vars(f, "", model.name, [])
    for path, layer in layer_paths(model, entry):
        _write_vars(f, path, layer.name, K.batch_get_value(legacy_weights(layer)) if not _is_model(layer)
                    else [])


def _optimizer_variables(model: Any, with_learning_rate: bool) -> list[Variable] | None:
    """The optimizer's variables in Keras 3's order (``None``: minikeras's differ).

    Before its first step an optimizer has only its step count and learning rate, which is
    also all Keras 3 saves of an optimizer that has not been built.
    """
    optimizer = model.optimizer
    slots = getattr(optimizer, "_made_slots", {})
    groups = list(_SLOTS.get(type(optimizer).__name__, []))
    if type(optimizer).__name__ == "Adam" and optimizer.amsgrad:
        groups.append(["vhat"])
    if type(optimizer).__name__ == "SGD" and optimizer.initial_momentum == 0:
        groups = []
    params = model.trainable_weights
    variables = [optimizer.iterations] + ([optimizer.lr] if with_learning_rate else [])
    if not optimizer.weights:
        return variables
    if any(p not in slots.get(s, {}) for g in groups for s in g for p in params):
        return None
    for group in groups:
        variables += [slots[s][p] for p in params for s in group]
    return variables


def write_optimizer(f: h5py.File, model: Any, with_learning_rate: bool) -> None:
    """``optimizer/vars``: the step count, the learning rate and (once it has stepped) the slots."""
    variables = _optimizer_variables(model, with_learning_rate)
    if variables is not None:
        _write_vars(f, "optimizer", type(model.optimizer).__name__.lower(), K.batch_get_value(variables))


# --- reading -----------------------------------------------------------------------------------


@contextlib.contextmanager
def relabeled(f: h5py.File, where: str) -> Iterator[None]:
    """Errors about an in-memory HDF5 file, named after the archive member it came from."""
    try:
        yield
    except ModelFileError as e:
        text = str(e)
        prefix = f"{f.filename}: "
        raise ModelFileError(f"{where}: {text[len(prefix):] if text.startswith(prefix) else text}") from e


def _vars_group(f: h5py.File, path: str) -> h5py.Group | None:
    """``path/vars`` if present (links refused, as everywhere)."""
    full = f"{path}/vars"
    current: Any = f
    for part in full.split("/"):
        link = current.get(part, getlink=True) if isinstance(current, h5py.Group) else None
        if link is None:
            return None
        if not isinstance(link, h5py.HardLink):
            raise ModelFileError(f"{f.filename}: {current.name.rstrip('/')}/{part} is a "
                                 f"{type(link).__name__}; links are not allowed in model files.")
        current = current[part]
    return current if isinstance(current, h5py.Group) else None


def _check_layer(f: h5py.File, path: str, layer: Layer) -> tuple[list[tuple[Variable, Any]], str | None]:
    variables = legacy_weights(layer) if not _is_model(layer) else []
    group = _vars_group(f, path)
    stored = sorted(group.keys(), key=lambda k: (len(k), k)) if group is not None else []
    if not variables and not stored:
        return [], None
    if len(stored) != len(variables):
        missing = [str(i) for i in range(len(variables)) if str(i) not in stored]
        detail = f" ({path}/vars/{missing[0]} is missing)" if missing else ""
        return [], (f"{path}: layer {layer.name!r} has {len(variables)} variables "
                    f"{[v.name for v in variables]}, the file {len(stored)}{detail}.")
    pairs = []
    for i, variable in enumerate(variables):
        if str(i) not in stored:
            return [], f"{path}/vars/{i} is missing (variable {variable.name} of layer {layer.name!r})."
        dataset = get_dataset(group, str(i))
        if tuple(dataset.shape) != tuple(variable.shape):
            return [], (f"{path}/vars/{i} has shape {tuple(dataset.shape)}, but {variable.name} of layer "
                        f"{layer.name!r} has shape {tuple(variable.shape)}.")
        pairs.append((variable, dataset))
    return pairs, None


def _matches(f: h5py.File, model: Any, entry: dict[str, Any] | None,
             by_name: bool) -> Iterator[tuple[str, Layer]]:
    if not by_name:
        yield from layer_paths(model, entry)
        return
    # By name: each file group's ``name`` attribute against the model's layers (top level).
    layers = {layer.name: layer for layer in model.layers}
    top = f.get("layers")
    for key in sorted(top.keys()) if isinstance(top, h5py.Group) else []:
        group = _vars_group(f, f"layers/{key}")
        name = read_text_attr(group, "name") if group is not None else None
        if name in layers:
            yield f"layers/{key}", layers[name]


def read_model_weights(f: h5py.File, model: Any, entry: dict[str, Any] | None = None,
                       by_name: bool = False, skip_mismatch: bool = False) -> None:
    """Load every layer's weights; nothing changes unless all fit (or, skipping, those that do)."""
    pairs: list[tuple[Variable, Any]] = []
    for path, layer in _matches(f, model, entry, by_name):
        found, problem = _check_layer(f, path, layer)
        if problem is not None:
            if not skip_mismatch:
                raise ModelFileError(f"{f.filename}: {problem}")
            warn_skipped(f.filename, layer, problem, stacklevel=3)
            continue
        pairs += found
    K.batch_set_value([(v, read_dataset(d)) for v, d in pairs])


def read_optimizer(f: h5py.File, model: Any, with_learning_rate: bool) -> str | None:
    """Restore ``optimizer/vars`` into the model's (built) optimizer, or say why not."""
    group = _vars_group(f, "optimizer")
    if group is None:
        return None
    model._make_train_function()  # the optimizer's slot variables exist from here on
    variables = _optimizer_variables(model, with_learning_rate)
    if variables is None:
        return "minikeras's optimizer keeps other variables"
    head = 2 if with_learning_rate else 1
    if len(group.keys()) == head:
        variables = variables[:head]  # saved before its first step: the slots start at zero anyway
    if len(group.keys()) != len(variables):
        return (f"the file has {len(group.keys())} optimizer variables, minikeras's "
                f"{type(model.optimizer).__name__} has {len(variables)}")
    pairs = []
    for i, variable in enumerate(variables):
        dataset = get_dataset(group, str(i))
        if tuple(dataset.shape) != tuple(K.int_shape(variable)):
            return (f"optimizer/vars/{i} has shape {tuple(dataset.shape)}, but {variable.name} has shape "
                    f"{tuple(K.int_shape(variable))}")
        pairs.append((variable, read_dataset(dataset)))
    K.batch_set_value(pairs)
    return None
