"""A layer's ``trainable`` flag and the two weight lists it decides between.

A mixin of ``Layer``. Setting ``trainable`` changes which list a layer's weights are in, not
what a compiled model trains: that was fixed at ``compile`` (Keras 2 warns on the next step,
the frozen-GAN idiom relies on it).
"""

from __future__ import annotations

from typing import ClassVar

from ..graph import Variable


class TrainableMixin:
    #: Counts every change that can change some ``trainable_weights``: a ``trainable`` set or a
    #: weight added, on any layer. A model compares it to skip recounting weights every step.
    changes: ClassVar[int] = 0
    _trainable: bool
    _trainable_weights: list[Variable]
    _non_trainable_weights: list[Variable]

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = value
        TrainableMixin.changes += 1

    @property
    def trainable_weights(self) -> list[Variable]:
        return list(self._trainable_weights) if self.trainable else []

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if self.trainable:
            return list(self._non_trainable_weights)
        return self._trainable_weights + self._non_trainable_weights

    @property
    def weights(self) -> list[Variable]:
        return self.trainable_weights + self.non_trainable_weights
