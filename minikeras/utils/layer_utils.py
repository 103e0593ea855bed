"""Keras's ``utils.layer_utils``: ``get_source_inputs``, ``count_params``, ``print_summary``."""

from __future__ import annotations

from typing import Any

from ..engine.network import get_source_inputs

__all__ = ["count_params", "get_source_inputs", "print_summary"]


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
