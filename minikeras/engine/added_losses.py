"""What a layer adds to the training loss: ``add_loss``, ``losses``, ``get_losses_for``.

A mixin of ``Layer`` (kept apart so ``base_layer.py`` reads in one sitting). Regularizers,
activity regularizers and ``model.add_loss`` all record their scalar tensors here; training
adds every one of them to the loss. ``inputs`` records which call made a loss, as Keras 2.2.
"""

from __future__ import annotations

from typing import Any

from ..graph import Tensor


def _key(inputs: Any) -> tuple[Tensor, ...] | None:
    if inputs is None:
        return None
    return tuple(inputs) if isinstance(inputs, (list, tuple)) else (inputs,)


class AddedLossesMixin:
    _losses: list[Any]
    _loss_inputs: list[tuple[Tensor, ...] | None]  # per loss, the add_loss call's inputs

    @property
    def losses(self) -> list[Any]:
        return list(self._losses)

    def add_loss(self, losses: Any, inputs: Any = None) -> None:
        """Record loss tensors; ``inputs`` says which call made them (``None``: unconditional)."""
        for loss in losses if isinstance(losses, (list, tuple)) else [losses]:
            self._losses.append(loss)
            self._loss_inputs.append(_key(inputs))

    def get_losses_for(self, inputs: Any) -> list[Any]:
        """The losses added for the call on ``inputs`` (``None``: the unconditional ones)."""
        key = _key(inputs)
        return [loss for loss, k in zip(self._losses, self._loss_inputs) if k == key]
