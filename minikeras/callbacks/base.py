"""Callbacks: code ``fit`` calls at the start and end of training, epochs and batches.

``logs`` is a dict of the numbers so far (``loss``, ``acc``, ``val_loss``, ...). A callback
may stop training by setting ``model.stop_training = True``.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .names import MetricLogs, with_both_spellings


class Callback:
    """Base class: every hook does nothing; override the ones you need."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self.model = model

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None: ...
    def on_train_end(self, logs: dict[str, Any] | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None: ...
    def on_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None: ...
    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None: ...


class CallbackList:
    """Calls the same hook on each callback in order."""

    def __init__(self, callbacks: Iterable[Callback]) -> None:
        self.callbacks = list(callbacks)

    def __getattr__(self, hook: str) -> Callable[..., None]:
        if not hook.startswith(("on_", "set_")):
            raise AttributeError(hook)

        def call_all(*args: Any, **kwargs: Any) -> None:
            # Logs answer to accuracy's other spelling too (names.py): "val_acc" or "val_accuracy".
            args = tuple(MetricLogs(a) if type(a) is dict else a for a in args)
            for callback in self.callbacks:
                getattr(callback, hook)(*args, **kwargs)

        return call_all


class History(Callback):
    """Records every epoch's logs: ``history.history["loss"]`` is the loss per epoch."""

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = MetricLogs()  # history["acc"] finds "accuracy" too

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


def in_jupyter() -> bool:
    """True when this code runs in a Jupyter kernel, which shows rich output and redraws a line.

    Keras checks ``"ipykernel" in sys.modules``; that is also true in any process that merely
    imported it (a notebook runner), so the running IPython shell is asked for its kernel.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and getattr(shell, "kernel", None) is not None


class Progbar:
    """Keras's progress bar: ``32/100 [=========>....................] - ETA: 1s - loss: 0.5``.

    On a terminal or in Jupyter (see ``in_jupyter``) the line is redrawn in place; elsewhere (a
    log, CI) only the finished line is printed, so logs stay readable.
    """

    def __init__(self, target: int, width: int = 30, stream: Any = None) -> None:
        self.target = target
        self.width = width
        self.stream = stream or sys.stdout
        self.start = time.time()
        self.dynamic = (hasattr(self.stream, "isatty") and self.stream.isatty()) or in_jupyter()

    def line(self, current: int, values: dict[str, float], finished: bool) -> str:
        digits = len(str(self.target))
        done = int(self.width * current / self.target) if self.target else self.width
        bar = "=" * max(done - 1, 0) + (">" if current < self.target else "=") * (done > 0)
        bar = f"{current:>{digits}}/{self.target} [{bar}{'.' * (self.width - done)}]"
        elapsed = time.time() - self.start
        if finished:
            timing = f" - {elapsed:.0f}s"
        else:
            eta = elapsed / max(current, 1) * (self.target - current)
            timing = f" - ETA: {eta:.0f}s"
        return bar + timing + "".join(f" - {k}: {v:.4f}" for k, v in values.items())

    def update(self, current: int, values: dict[str, float]) -> None:
        finished = current >= self.target
        if self.dynamic:
            self.stream.write("\r" + self.line(current, values, finished) + ("\n" if finished else ""))
            self.stream.flush()
        elif finished:
            self.stream.write(self.line(current, values, True) + "\n")


class ProgbarLogger(Callback):
    """Shows one progress bar per epoch (``verbose=1``) or one line per epoch (``verbose=2``)."""

    def __init__(self, verbose: int = 1) -> None:
        super().__init__()
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.seen = 0
        self.totals: dict[str, float] = {}
        self.started = time.time()
        epochs = self.params["epochs"]
        if self.verbose == 1:
            print(f"Epoch {epoch + 1}/{epochs}")
            self.bar = Progbar(self.params["samples"])

    def on_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        size = logs.get("size", 0)
        self.seen += size
        for key in self.params["metrics"]:
            if key in logs:
                self.totals[key] = self.totals.get(key, 0.0) + logs[key] * size
        if self.verbose == 1 and self.seen < self.params["samples"]:
            self.bar.update(self.seen, {k: v / self.seen for k, v in self.totals.items()})

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        values = {k: v for k, v in (logs or {}).items() if k in self.params["metrics"]}
        if self.verbose == 1:
            self.bar.update(self.params["samples"], values)
        elif self.verbose == 2:
            took = time.time() - self.started
            print(f"Epoch {epoch + 1}/{self.params['epochs']} - {took:.0f}s"
                  + "".join(f" - {k}: {v:.4f}" for k, v in values.items()))


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping mode {mode} is unknown; use 'auto', 'min' or 'max'.")
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.sign = 1.0 if mode == "max" else -1.0
        self.min_delta = abs(min_delta)

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self.baseline if self.baseline is not None else -np.inf * self.sign
        self.best_weights: list[np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        current = (logs or {}).get(self.monitor)
        if current is None:
            available = ", ".join(sorted(logs or {}))
            raise KeyError(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {available}"
            )
        if self.sign * (current - self.best) > self.min_delta:
            self.best, self.wait = current, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


class LambdaCallback(Callback):
    """A callback made of functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, on_epoch_begin: Callable[..., Any] | None = None,
                 on_epoch_end: Callable[..., Any] | None = None,
                 on_batch_begin: Callable[..., Any] | None = None,
                 on_batch_end: Callable[..., Any] | None = None,
                 on_train_begin: Callable[..., Any] | None = None,
                 on_train_end: Callable[..., Any] | None = None) -> None:
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_batch_begin": on_batch_begin, "on_batch_end": on_batch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end}
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)


class ModelCheckpoint(Callback):
    """Save the model (or only its weights) after every ``period`` epochs.

    ``filepath`` may name the epoch and any log: ``"weights-{epoch:02d}-{val_loss:.2f}.h5"``
    (the epoch counted from 1). With ``save_best_only`` a file is written only when
    ``monitor`` improved, so a fixed name always holds the best model so far. The write
    is atomic: a crash mid-save leaves the previous file whole.
    """

    def __init__(self, filepath: Any, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", period: int = 1) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"ModelCheckpoint mode {mode} is unknown; use 'auto', 'min' or 'max'.")
        if mode == "auto":  # accuracies improve upwards, losses downwards (Keras's rule)
            mode = "max" if "acc" in monitor or monitor.startswith("fmeasure") else "min"
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only, self.period = save_best_only, save_weights_only, period
        self.sign = 1.0 if mode == "max" else -1.0
        self.best = -np.inf * self.sign
        self.epochs_since_last_save = 0

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        self.epochs_since_last_save += 1
        if self.epochs_since_last_save < self.period:
            return
        self.epochs_since_last_save = 0
        filepath = self._filepath(epoch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available, skipping.",
                              RuntimeWarning, stacklevel=2)
                return
            if self.sign * (current - self.best) <= 0:
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1:05d}: {self.monitor} did not improve from {self.best:0.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1:05d}: {self.monitor} improved from {self.best:0.5f} to "
                      f"{current:0.5f}, saving model to {filepath}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1:05d}: saving model to {filepath}")
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)

    def _filepath(self, epoch: int, logs: dict[str, Any]) -> str:
        try:
            return self.filepath.format(epoch=epoch + 1, **with_both_spellings(logs))
        except KeyError as e:
            raise KeyError(
                f"ModelCheckpoint's filepath {self.filepath!r} names {{{e.args[0]}}}, which this "
                f"epoch's logs do not have (they have: epoch, {', '.join(sorted(logs)) or 'nothing else'}). "
                "Use one of those, or pass validation_data to fit for the val_ ones."
            ) from None
