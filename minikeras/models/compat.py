"""Keras 2.2's tolerances around ``compile`` and ``fit``, with its warnings.

Outputs without a loss (``compile(optimizer)`` alone, ``loss=None`` in a list, or a loss
dict that leaves an output out) are not trained and take no target: the model trains on
the losses added with ``add_loss`` (the canonical VAE). The old ``nb_epoch`` still works.
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import backend as K
from ..engine.trainable import TrainableMixin


def losses_per_output(model: Any, loss: Any) -> list[Any]:
    """One loss (or ``None``) per output; an output missing from a dict warns, as in Keras 2.2."""
    names = model.output_names
    if loss is None:
        loss = {}
    if isinstance(loss, dict):
        unknown = [key for key in loss if key not in names]
        if unknown:
            raise ValueError(f"Unknown entry in loss dictionary: {unknown[0]!r}. Only expected the "
                             f"following keys: {names}")
        for name in names:
            if name not in loss:
                warnings.warn(f'Output "{name}" missing from loss dictionary. We assume this was done on '
                              'purpose, and we will not be expecting any data to be passed to '
                              f'"{name}" during training.', stacklevel=3)
        return [loss.get(name) for name in names]
    if isinstance(loss, (list, tuple)):
        if len(loss) != len(names):
            raise ValueError(f"When passing a list as loss, it should have one entry per model output. "
                             f"The model has {len(names)} outputs, but you passed loss={loss}")
        return list(loss)
    return [loss] * len(names)


def check_targets_given(model: Any, y: Any) -> None:
    """Refuse ``y=None`` when some output has a loss, and targets when none has."""
    if y is None and model._trained:
        names = [model.output_names[i] for i in model._trained]
        raise ValueError(f"No target data (y) was given, but the outputs {names} have a loss and "
                         "need targets. Compile without a loss for them to train on add_loss alone.")


def check_trainable_consistency(model: Any) -> None:
    """Keras 2's warning when ``trainable`` changed after ``compile`` (the frozen-GAN case).

    The training step keeps training the weights collected at compile time: recompile to
    make a new ``trainable`` setting count.
    """
    collected = getattr(model, "_collected_trainable_weights", None)
    if collected is None or getattr(model, "_consistent_at", None) == (TrainableMixin.changes, id(collected)):
        return  # nothing changed since the last check found the weights as compiled
    if len(model.trainable_weights) == len(collected):
        model._consistent_at = (TrainableMixin.changes, id(collected))
    else:
        warnings.warn("Discrepancy between trainable weights and collected trainable weights, did you "
                      "set `model.trainable` without calling `model.compile` after ?", stacklevel=3)


def trained_params(model: Any, total: Any) -> list[Any]:
    """The weights the step trains: those collected at compile time, less (when some output
    has no loss) the ones the loss does not reach, such as an untrained output's head."""
    params = list(model._collected_trainable_weights)
    if not model._trained and not model.losses:
        raise ValueError("The model has nothing to train on: it was compiled without a loss and has no "
                         "added losses. Compile with loss=... or call model.add_loss(...) and compile again.")
    if len(model._trained) == len(model.outputs):
        return params  # every weight should be reached: the optimizer reports any that is not
    return [p for p, g in zip(params, K.gradients(total, params)) if g is not None]


def renamed_epochs(epochs: int, kwargs: dict[str, Any]) -> int:
    """``nb_epoch`` (Keras 1) becomes ``epochs`` with Keras 2.2's warning; ``kwargs`` loses it."""
    if "nb_epoch" in kwargs:
        warnings.warn("The `nb_epoch` argument in `fit` has been renamed `epochs`.", stacklevel=3)
        return int(kwargs.pop("nb_epoch"))
    return epochs
