"""Masks: which time steps of a padded batch are real, carried along the layers' nodes.

A layer that makes a mask (``Masking``, ``Embedding(mask_zero=True)``) says so in
``compute_mask``; every later layer receives it (``call(inputs, mask=...)`` if its ``call``
takes a ``mask``) and passes it on if it ``supports_masking``. Recurrent layers consume it
(masked steps carry their states over), and so do the losses (masked steps do not count).
The mask is not a tensor property: it lives in the nodes (``node.output_masks``), as in Keras 2.
"""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["MaskingMixin", "call_takes_mask", "masks_per_output", "previous_mask"]


def call_takes_mask(layer: Any) -> bool:
    """Whether ``layer.call`` accepts a ``mask`` argument (Keras's ``has_arg(call, 'mask')``)."""
    try:
        params = inspect.signature(layer.call).parameters
    except (TypeError, ValueError):
        return False
    return "mask" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def tensor_mask(x: Any) -> Any:
    """The mask that came with ``x``: the one its layer's node recorded for it, or None."""
    history = getattr(x, "_keras_history", None)
    if history is None:
        return None
    layer, node_index, tensor_index = history
    masks = getattr(layer._inbound_nodes[node_index], "output_masks", None) \
        if node_index < len(layer._inbound_nodes) else None
    return masks[tensor_index] if masks and tensor_index < len(masks) else None


def previous_mask(inputs: list[Any]) -> Any:
    """The masks of ``inputs``: one, or a list for several inputs (Keras's unpacking)."""
    masks = [tensor_mask(x) for x in inputs]
    return masks[0] if len(masks) == 1 else masks


def masks_per_output(mask: Any, n: int) -> list[Any]:
    """One mask per output (a single-output layer given a list keeps none of them)."""
    if isinstance(mask, list):
        return mask if len(mask) == n else [None] * n
    return [mask] * n if n == 1 else [None] * n


class MaskingMixin:
    """What ``Layer`` knows about masks: ``compute_mask`` and the masks of its nodes."""

    name: str
    supports_masking: bool
    _inbound_nodes: list[Any]

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask of the outputs: the input mask, for a layer that ``supports_masking``.

        A layer that does not support masking refuses a mask (Keras's ``TypeError``): it
        would silently mix padding into its results."""
        if not self.supports_masking:
            given = [m for m in mask if m is not None] if isinstance(mask, list) else \
                ([] if mask is None else [mask])
            if given:
                raise TypeError(f"Layer {self.name} does not support masking, but was passed an "
                                f"input_mask: {mask}. Put it after a layer that consumes the mask "
                                "(an RNN, a pooling over time) or use a layer that supports masking.")
            return None
        return mask

    def _mask_at(self, node_index: int, attr: str, what: str) -> Any:
        if not 0 <= node_index < len(self._inbound_nodes):
            raise ValueError(f"Asked to get {what} at node {node_index}, but the layer has only "
                             f"{len(self._inbound_nodes)} inbound nodes.")
        masks = getattr(self._inbound_nodes[node_index], attr)
        return masks[0] if len(masks) == 1 else masks

    def get_input_mask_at(self, node_index: int) -> Any:
        return self._mask_at(node_index, "input_masks", "input mask")

    def get_output_mask_at(self, node_index: int) -> Any:
        return self._mask_at(node_index, "output_masks", "output mask")

    def _only_node(self, what: str) -> None:
        if len(self._inbound_nodes) != 1:
            raise AttributeError(f'Layer {self.name} has multiple inbound nodes, hence the notion of '
                                 f'"layer {what}" is ill-defined. Use `get_{what.replace(" ", "_")}_at'
                                 "(node_index)` instead.")

    @property
    def input_mask(self) -> Any:
        self._only_node("input mask")
        return self.get_input_mask_at(0)

    @property
    def output_mask(self) -> Any:
        self._only_node("output mask")
        return self.get_output_mask_at(0)
