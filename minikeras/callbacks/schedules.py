"""Learning-rate schedules: set ``optimizer.lr`` from the epoch, or cut it when progress stalls."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import backend as K
from .base import Callback


def _lr_variable(model: Any) -> Any:
    if not hasattr(model.optimizer, "lr"):
        raise ValueError('Optimizer must have a "lr" attribute.')
    return model.optimizer.lr


class LearningRateScheduler(Callback):
    """At each epoch's start, ``lr = schedule(epoch, lr)`` (or ``schedule(epoch)``); epochs from 0."""

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        variable = _lr_variable(self.model)
        lr = float(K.get_value(variable))
        try:
            lr = self.schedule(epoch, lr)
        except TypeError:  # a one-argument schedule, as in Keras 2.0
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, np.floating)):
            raise ValueError('The output of the "schedule" function should be float.')
        K.set_value(variable, lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1:05d}: LearningRateScheduler setting learning rate to {lr}.")


class ReduceLROnPlateau(Callback):
    """Multiply ``lr`` by ``factor`` when ``monitor`` has not improved by ``min_delta`` for
    ``patience`` epochs; then wait ``cooldown`` epochs before counting again; never below
    ``min_lr``. ``mode="auto"`` maximises accuracies and minimises everything else."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__()
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0.")
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
            warnings.warn("`epsilon` argument is deprecated and will be removed, use `min_delta` instead.",
                          stacklevel=2)
        if kwargs:
            raise TypeError(f"Unexpected keyword argument(s) passed to ReduceLROnPlateau: {sorted(kwargs)}")
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"Learning Rate Plateau Reducing mode {mode} is unknown, fallback to auto mode.",
                          RuntimeWarning, stacklevel=2)
            mode = "auto"
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.min_delta, self.cooldown, self.min_lr = min_delta, cooldown, min_lr
        self.maximize = mode == "max" or (mode == "auto" and "acc" in monitor)
        self._reset()

    def _reset(self) -> None:
        self.best = -np.inf if self.maximize else np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def _improved(self, current: float) -> bool:
        if self.maximize:
            return bool(current > self.best + self.min_delta)
        return bool(current < self.best - self.min_delta)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._reset()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs if logs is not None else {}
        variable = _lr_variable(self.model)
        logs["lr"] = float(K.get_value(variable))
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Reduce LR on plateau conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs)}", RuntimeWarning, stacklevel=2)
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(current):
            self.best, self.wait = current, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(K.get_value(variable))
                if old_lr > self.min_lr:
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    K.set_value(variable, new_lr)
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1:05d}: ReduceLROnPlateau reducing learning rate to "
                              f"{new_lr}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0
