"""The loops around a compiled function: batches, and ``fit``'s epochs with their callbacks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..callbacks import Callback, CallbackList, History, ProgbarLogger


def batches(index: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    """Consecutive slices of ``index``, the last one possibly shorter."""
    for start in range(0, len(index), batch_size):
        yield index[start : start + batch_size]


def run_batches(f: Any, arrays: Sequence[np.ndarray], batch_size: int, extra: list[Any]) -> np.ndarray:
    """``f`` over every batch; its (scalar) outputs averaged, weighted by batch size."""
    n = len(arrays[0])
    if n == 0:
        raise ValueError("There are no samples to evaluate (the arrays are empty).")
    totals: Any = 0.0
    for index in batches(np.arange(n), batch_size):
        totals = totals + np.array([float(o) for o in f([a[index] for a in arrays] + extra)]) * len(index)
    return np.asarray(totals / n)


def fit_loop(model: Any, f: Any, ins: list[np.ndarray], batch_size: int, epochs: int, verbose: int,
             callbacks: list[Callback] | None, val_function: Any, val_ins: list[np.ndarray] | None,
             shuffle: bool, initial_epoch: int) -> History:
    """``fit``'s epochs: each a shuffled pass of ``f`` (the training function) over ``ins``
    in batches, then the validation data through ``val_function``; callbacks told of each
    batch and epoch, and able to stop training (``model.stop_training``)."""
    if len(ins[0]) == 0:
        raise ValueError("Empty training data.")
    names = list(model.metrics_names)
    history = History()
    hooks = CallbackList(([ProgbarLogger(verbose)] if verbose else []) + [history] + list(callbacks or []))
    hooks.set_model(model)
    hooks.set_params({"batch_size": batch_size, "epochs": epochs, "samples": len(ins[0]), "verbose": verbose,
                      "metrics": names + ["val_" + n for n in names] if val_ins is not None else names})
    model.stop_training = False
    hooks.on_train_begin({})
    for epoch in range(initial_epoch, epochs):
        hooks.on_epoch_begin(epoch, {})
        logs = train_epoch(model, f, ins, names, batch_size, shuffle, hooks)
        if val_ins is not None:
            val = run_batches(val_function, val_ins, batch_size, model._phase_value(0))
            logs.update({"val_" + k: float(v) for k, v in zip(names, val)})
        hooks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    hooks.on_train_end({})
    return history


def train_epoch(model: Any, f: Any, ins: list[np.ndarray], names: list[str], batch_size: int,
                shuffle: bool, hooks: CallbackList) -> dict[str, float]:
    """One pass over the data; the epoch's logs are the batches' outputs averaged by size."""
    n = len(ins[0])
    order = np.random.permutation(n) if shuffle else np.arange(n)
    totals = np.zeros(len(names))
    for b, index in enumerate(batches(order, batch_size)):
        hooks.on_batch_begin(b, {"batch": b, "size": len(index)})
        outs = f([a[index] for a in ins] + model._phase_value(1))
        logs: dict[str, Any] = {"batch": b, "size": len(index)}
        logs.update({k: float(v) for k, v in zip(names, outs)})
        totals += np.array([float(v) for v in outs]) * len(index)
        hooks.on_batch_end(b, logs)
        if model.stop_training:
            break
    return {k: float(v) for k, v in zip(names, totals / max(n, 1))}
