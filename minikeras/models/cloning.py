"""``clone_model``: the same architecture with new layers and freshly initialized weights."""

from __future__ import annotations

from typing import Any

from ..engine import to_list
from .model import Model


def clone_model(model: Any, input_tensors: Any = None) -> Any:
    """A new model wired like ``model``, made of *new* layers (same names and configs).

    The weights are initialized again, not copied: follow with
    ``clone.set_weights(model.get_weights())`` for an exact copy. With ``input_tensors``
    the clone is built on those tensors instead of new ``Input``s.
    """
    clone = type(model).from_config(model.get_config())
    if input_tensors is None:
        return clone
    inputs = to_list(input_tensors)
    outputs = clone(inputs[0] if len(inputs) == 1 else inputs)
    return Model(inputs, outputs, name=model.name)
