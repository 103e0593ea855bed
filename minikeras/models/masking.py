"""Masked losses: padded time steps do not count, weighted as Keras 2's ``weighted_masked_objective``."""

from __future__ import annotations

from typing import Any

from .. import backend as K
from ..engine.masking import tensor_mask


def masked_scores(scores: Any, output: Any) -> Any:
    """Per-sample scores with ``output``'s mask applied: each step's score times the mask,
    divided by the mask's mean over the batch, then averaged over the steps (Keras 2.2). The
    mean over the batch is then ``sum(score * mask) / sum(mask)``; without a mask, ``scores``."""
    mask = tensor_mask(output)
    if mask is None:
        return scores
    mask = K.cast(mask, K.dtype(scores))
    while K.ndim(mask) > K.ndim(scores):
        mask = K.squeeze(mask, -1)
    scores = scores * mask / K.maximum(K.mean(mask), K.epsilon())
    extra = list(range(1, K.ndim(scores)))
    return K.mean(scores, axis=extra) if extra else scores
