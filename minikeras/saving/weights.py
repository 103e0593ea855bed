"""Layer weights in HDF5 groups, in Keras's layout, and back into a model.

Layout (``save_weights`` writes it at the file's root, ``save_model`` in ``model_weights``)::

    attrs: layer_names = [b"dense_1", b"dense_2"], backend, keras_version
    dense_1/                       one group per layer, even one without weights
        attrs: weight_names = [b"dense_1/kernel:0", b"dense_1/bias:0"]
        dense_1/kernel:0           the weight names are paths: "/" makes nested groups
        dense_1/bias:0

Loading matches layers **by position** (the n-th layer with weights in the file goes to the
n-th layer with weights in the model, whatever the names; that is what lets a file from
Keras 3, whose layers are called ``dense``, load into minikeras's ``dense_1``) or, with
``by_name=True``, by layer name. Nothing is changed until every weight has been checked: a
file that does not fit leaves the model as it was.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import h5py
import numpy as np

from .. import backend as K
from ..engine import Layer
from ..graph import Variable
from .hdf5 import (
    fail,
    get_dataset,
    get_group,
    has_name_list,
    read_dataset,
    read_name_list,
    write_name_list,
    write_text_attr,
)

#: The Keras version whose file layout and weight order minikeras writes (and follows).
KERAS_VERSION = "2.2.4"


def _unique(names: list[str]) -> list[str]:
    """Distinct dataset names: a repeated name gets ``_1``, ``_2``, ... before its ``:0``."""
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, i = name, 0
        while candidate in seen:
            i += 1
            stem, colon, index = name.rpartition(":")
            candidate = f"{stem}_{i}:{index}" if colon else f"{name}_{i}"
        seen.add(candidate)
        out.append(candidate)
    return out


def legacy_weights(layer: Layer) -> list[Variable]:
    """A layer's weights in the order Keras's files keep them: trainable, then non-trainable.

    For a plain layer that is ``layer.weights``. For a nested model it is not: minikeras's
    ``Model.weights`` goes layer by layer, but a file lists all trainable weights of the
    nested model first (Keras 2's ``weights``, Keras 3's ``_legacy_weights``).
    """
    weights: list[Variable] = []
    for w in layer.trainable_weights + layer.non_trainable_weights:
        if not any(w is seen for seen in weights):
            weights.append(w)
    return weights


def write_variables(group: h5py.Group, variables: Sequence[Variable]) -> None:
    """``weight_names`` and one dataset per variable, named after it."""
    names = _unique([v.name for v in variables])
    write_name_list(group, "weight_names", names)
    for name, value in zip(names, K.batch_get_value(list(variables))):
        group.create_dataset(name, data=np.asarray(value))


def save_weights_to_group(group: h5py.Group, layers: Sequence[Layer]) -> None:
    """Every layer's weights (trainable first, as Keras orders them) into ``group``."""
    write_name_list(group, "layer_names", [layer.name for layer in layers])
    write_text_attr(group, "backend", K.backend())
    write_text_attr(group, "keras_version", KERAS_VERSION)
    for layer in layers:
        write_variables(group.create_group(layer.name), legacy_weights(layer))


# --- reading ----------------------------------------------------------------------------


def _saved_layers(group: h5py.Group) -> list[tuple[str, h5py.Group, list[str]]]:
    """``(layer name, its group, its weight names)`` for every layer listed in the file."""
    if not has_name_list(group, "layer_names"):
        raise fail(group, f"no 'layer_names' attribute in {group.name}: it holds no layer weights.")
    saved = []
    for name in read_name_list(group, "layer_names"):
        layer_group = get_group(group, name)
        saved.append((name, layer_group, read_name_list(layer_group, "weight_names")))
    if "top_level_model_weights" in group:  # tf.keras and Keras 3 write it, empty for functional models
        top = get_group(group, "top_level_model_weights")
        if read_name_list(top, "weight_names"):
            raise fail(group, "the file has weights of the model itself (top_level_model_weights), "
                       "as a subclassed Keras model has; minikeras models keep weights in layers only.")
    return saved


def _check_layer(file_name: str, layer_group: h5py.Group, weight_names: list[str], layer: Layer,
                 where: str) -> tuple[list[tuple[Variable, h5py.Dataset]], str | None]:
    """Pairs of (variable, dataset) for one layer, or the reason they do not fit."""
    variables = legacy_weights(layer)
    if len(weight_names) != len(variables):
        return [], (f"{where}: the model's layer {layer.name!r} has {len(variables)} weights "
                    f"({[v.name for v in variables]}), but the file's layer {file_name!r} has "
                    f"{len(weight_names)} ({weight_names}).")
    pairs = []
    for weight_name, variable in zip(weight_names, variables):
        dataset = get_dataset(layer_group, weight_name)
        if tuple(dataset.shape) != tuple(variable.shape):
            return [], (f"{where}: weight {weight_name!r} of the file's layer {file_name!r} has "
                        f"shape {tuple(dataset.shape)}, but the model's {variable.name} (layer "
                        f"{layer.name!r}) has shape {tuple(variable.shape)}.")
        pairs.append((variable, dataset))
    return pairs, None


def warn_skipped(filename: str, layer: Layer, problem: str, stacklevel: int) -> None:
    """Keras's warning for a layer that ``skip_mismatch=True`` leaves as it was."""
    kind = "shape" if "has shape" in problem else "number of weights"
    warnings.warn(f"{filename}: Skipping loading of weights for layer {layer.name!r} due to mismatch in "
                  f"{kind}: {problem}", stacklevel=stacklevel + 1)


def _assign_matched(group: h5py.Group, matches: Iterable[tuple[str, h5py.Group, list[str], Layer, str]],
                    skip_mismatch: bool) -> None:
    """Check every (file layer, model layer) match first, then assign them all: a mismatch
    is an error before anything changes, or with ``skip_mismatch`` a warning and a skip."""
    pairs = []
    for name, layer_group, weight_names, layer, where in matches:
        found, problem = _check_layer(name, layer_group, weight_names, layer, where)
        if problem is not None:
            if skip_mismatch:
                warn_skipped(group.file.filename, layer, problem, stacklevel=4)
                continue
            raise fail(group, problem)
        pairs += found
    _assign(pairs)


def _assign(pairs: list[tuple[Variable, h5py.Dataset]]) -> None:
    K.batch_set_value([(variable, read_dataset(dataset)) for variable, dataset in pairs])


def load_weights_from_group(group: h5py.Group, layers: Sequence[Layer], model_name: str,
                            skip_mismatch: bool = False) -> None:
    """Weights by position: the n-th file layer with weights into the n-th model layer with weights."""
    saved = [s for s in _saved_layers(group) if s[2]]
    targets = [layer for layer in layers if layer.weights]
    if len(saved) != len(targets):
        raise fail(group, f"the file has weights for {len(saved)} layers {[s[0] for s in saved]}, but "
                   f"model {model_name!r} has {len(targets)} layers with weights "
                   f"{[t.name for t in targets]}. Was it saved from another architecture? "
                   "load_weights(..., by_name=True) loads only the layers whose names match.")
    matches = ((name, layer_group, weight_names, layer, f"layer #{k} with weights")
               for k, ((name, layer_group, weight_names), layer) in enumerate(zip(saved, targets)))
    _assign_matched(group, matches, skip_mismatch)


def load_weights_from_group_by_name(group: h5py.Group, layers: Sequence[Layer],
                                    skip_mismatch: bool = False) -> None:
    """Weights into the model's layers that have a layer of the same name in the file."""
    by_name = {layer.name: layer for layer in layers}
    _assign_matched(group, ((name, layer_group, weight_names, by_name[name], f"layer {name!r}")
                            for name, layer_group, weight_names in _saved_layers(group) if name in by_name),
                    skip_mismatch)


def read_variables(group: h5py.Group, variables: Sequence[Variable]) -> str | None:
    """Load ``group``'s datasets (``weight_names`` order) into ``variables``, or say why not."""
    names = read_name_list(group, "weight_names")
    if len(names) != len(variables):
        return f"the file has {len(names)} values, the optimizer {len(variables)}"
    pairs = []
    for name, variable in zip(names, variables):
        dataset = get_dataset(group, name)
        if tuple(dataset.shape) != tuple(variable.shape):
            return (f"{name} has shape {tuple(dataset.shape)}, but {variable.name} has shape "
                    f"{tuple(variable.shape)}")
        pairs.append((variable, dataset))
    _assign(pairs)
    return None
