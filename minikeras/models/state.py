"""The updates that predicting and evaluating run too: stateful layers' kept states."""

from __future__ import annotations

from typing import Any


def state_updates(model: Any) -> list[Any]:
    """The updates of stateful layers (a ``stateful=True`` RNN's last states), as Keras 2's
    ``model.state_updates``: ``predict`` and ``evaluate`` carry the state forward as ``fit`` does."""
    return [u for layer in model.layers if getattr(layer, "stateful", False)
            for u in getattr(layer, "updates", [])]
