"""Keras's ``utils.layer_utils``: ``get_source_inputs``, ``count_params``, ``print_summary``."""

from __future__ import annotations

from typing import Any


def get_source_inputs(tensor: Any, layer: Any = None, node_index: int | None = None) -> list[Any]:
    """The ``Input`` tensors that ``tensor`` is computed from, found through ``_keras_history``.

    A tensor made by no layer (a plain backend tensor) has no ``_keras_history``: that is
    an error, since no model could be built from it. Each source appears once, in the order
    they are first reached.
    """
    if layer is None or node_index is None:
        if not hasattr(tensor, "_keras_history"):
            raise ValueError(f"{tensor} was not made by a Keras layer (it has no _keras_history): "
                             "build it from Input(...) and layers to find its sources.")
        layer, node_index, _ = tensor._keras_history
    node = layer._inbound_nodes[node_index]
    if not node.inbound_layers:
        return list(node.input_tensors)  # an InputLayer: the tensor itself is the source
    sources: list[Any] = []
    for inbound, index, x in zip(node.inbound_layers, node.node_indices, node.input_tensors):
        for source in get_source_inputs(x, inbound, index):
            if not any(source is s for s in sources):
                sources.append(source)
    return sources


def count_params(weights: list[Any]) -> int:
    """The number of scalars in a list of variables (``model.trainable_weights``, say)."""
    total = 0
    for w in weights:
        size = 1
        for dim in w.shape:
            size *= int(dim)
        total += size
    return total


def print_summary(model: Any, line_length: int | None = None, positions: Any = None,
                  print_fn: Any = None) -> None:
    """``model.summary(...)`` under Keras's function name."""
    model.summary(line_length=line_length, positions=positions, print_fn=print_fn)
