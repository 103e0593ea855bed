"""``fit_generator``, ``evaluate_generator``, ``predict_generator``: training on batches that a
Python generator or a ``keras.utils.Sequence`` makes one at a time.

Keras 2.2 can read batches in worker threads or processes (``workers``,
``use_multiprocessing``, ``max_queue_size``). minikeras accepts those arguments but always
reads the batches **in the calling thread**, one after the other: simpler to follow in a
debugger, deterministic, and the NumPy step is the slow part anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..callbacks import Callback, CallbackList, History, ProgbarLogger


def _is_sequence(data: Any) -> bool:
    """A ``keras.utils.Sequence`` (or anything indexable with a length), not a generator."""
    return hasattr(data, "__getitem__") and hasattr(data, "__len__") and not isinstance(data, (tuple, list))


def _steps(data: Any, steps: int | None, what: str) -> int:
    if steps is not None:
        return int(steps)
    if _is_sequence(data):
        return len(data)
    raise ValueError(f"`{what}` must be given when the data is a generator (it has no length); "
                     "pass the number of batches that make one epoch, or use a keras.utils.Sequence.")


def _batches(data: Any, steps: int, shuffle: bool = False) -> Iterator[Any]:
    """``steps`` batches: from a Sequence by index (shuffled if asked), else ``next(generator)``."""
    if _is_sequence(data):
        order = np.random.permutation(len(data)) if shuffle else np.arange(len(data))
        for i in range(steps):
            yield data[int(order[i % len(data)])]
        return
    for _ in range(steps):
        yield next(data)


def _split(batch: Any) -> tuple[Any, Any, Any]:
    """``(x, y)`` or ``(x, y, sample_weight)`` from what the generator gave."""
    if not isinstance(batch, tuple) or len(batch) not in (2, 3):
        raise ValueError("Output of generator should be a tuple `(x, y, sample_weight)` or `(x, y)`. "
                         f"Found: {str(batch)[:200]}")
    return batch[0], batch[1], batch[2] if len(batch) == 3 else None


def _size(x: Any) -> int:
    first = next(iter(x.values())) if isinstance(x, dict) else x[0] if isinstance(x, list) else x
    return len(first)


class GeneratorMethods:
    """The generator-fed versions of ``fit``, ``evaluate`` and ``predict`` (mixed into ``Model``)."""

    def fit_generator(self, generator: Any, steps_per_epoch: int | None = None, epochs: int = 1,
                      verbose: int = 1, callbacks: list[Callback] | None = None, validation_data: Any = None,
                      validation_steps: int | None = None, class_weight: Any = None, max_queue_size: int = 10,
                      workers: int = 1, use_multiprocessing: bool = False, shuffle: bool = True,
                      initial_epoch: int = 0) -> History:
        """Train on batches from ``generator``, ``steps_per_epoch`` of them per epoch (a
        Sequence's length by default). ``validation_data`` is a generator, a Sequence, or a
        tuple ``(x, y[, sample_weight])``. Batches are read in the calling thread."""
        model: Any = self
        steps = _steps(generator, steps_per_epoch, "steps_per_epoch")
        names = list(model.metrics_names)
        history = History()
        progbar = [ProgbarLogger(verbose)] if verbose else []
        hooks = CallbackList(progbar + [history] + list(callbacks or []))
        hooks.set_model(model)
        with_val = validation_data is not None
        hooks.set_params({"epochs": epochs, "steps": steps, "samples": steps, "verbose": verbose,
                          "metrics": names + ["val_" + n for n in names] if with_val else names})
        model.stop_training = False
        hooks.on_train_begin({})
        for epoch in range(initial_epoch, epochs):
            hooks.on_epoch_begin(epoch, {})
            totals, seen = np.zeros(len(names)), 0
            for b, batch in enumerate(_batches(generator, steps, shuffle)):
                x, y, w = _split(batch)
                size = _size(x)
                hooks.on_batch_begin(b, {"batch": b, "size": 1})
                outs = np.atleast_1d(model.train_on_batch(x, y, sample_weight=w, class_weight=class_weight))
                totals, seen = totals + outs * size, seen + size
                hooks.on_batch_end(b, {"batch": b, "size": 1, **dict(zip(names, map(float, outs)))})
                if model.stop_training:
                    break
            logs = {k: float(v) for k, v in zip(names, totals / max(seen, 1))}
            if with_val:
                logs.update({"val_" + k: v for k, v in zip(names, self._validate(validation_data,
                                                                                 validation_steps))})
            if _is_sequence(generator) and hasattr(generator, "on_epoch_end"):
                generator.on_epoch_end()
            hooks.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
        hooks.on_train_end({})
        model.history = history
        return history

    def _validate(self, data: Any, steps: int | None) -> list[float]:
        model: Any = self
        if isinstance(data, tuple):
            x, y, w = _split(data)
            return [float(v) for v in np.atleast_1d(model.evaluate(x, y, sample_weight=w, verbose=0))]
        return [float(v) for v in np.atleast_1d(self.evaluate_generator(data, steps))]

    def evaluate_generator(self, generator: Any, steps: int | None = None, max_queue_size: int = 10,
                           workers: int = 1, use_multiprocessing: bool = False, verbose: int = 0) -> Any:
        """Loss (and metrics) over ``steps`` batches, averaged weighted by batch size."""
        model: Any = self
        steps = _steps(generator, steps, "steps")
        totals: Any = 0.0
        seen = 0
        for batch in _batches(generator, steps):
            x, y, w = _split(batch)
            size = _size(x)
            totals = totals + np.atleast_1d(model.test_on_batch(x, y, sample_weight=w)) * size
            seen += size
        means = [float(v) for v in np.atleast_1d(totals) / max(seen, 1)]
        return means[0] if len(means) == 1 else means

    def predict_generator(self, generator: Any, steps: int | None = None, max_queue_size: int = 10,
                          workers: int = 1, use_multiprocessing: bool = False, verbose: int = 0) -> Any:
        """Predictions for ``steps`` batches, concatenated; batches may be ``x`` or ``(x, y[, w])``."""
        model: Any = self
        steps = _steps(generator, steps, "steps")
        chunks: list[list[np.ndarray]] = []
        for batch in _batches(generator, steps):
            x = batch[0] if isinstance(batch, tuple) and len(batch) in (2, 3) else batch
            outs = model.predict_on_batch(x)
            outs = outs if isinstance(outs, list) else [outs]
            chunks = chunks or [[] for _ in outs]
            for chunk, out in zip(chunks, outs):
                chunk.append(out)
        results = [np.concatenate(c) for c in chunks]
        return results[0] if len(results) == 1 else results
