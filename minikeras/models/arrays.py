"""The user's arrays, checked and converted before they are fed: shapes against the model's
tensors (with Keras's messages), targets against the loss, outputs unpacked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def standardize(x: Any, shapes: Sequence[tuple[Any, ...]], names: Sequence[str],
                what: str) -> list[np.ndarray]:
    """``x`` as a list of arrays, one per tensor, with shapes checked like Keras does."""
    if isinstance(x, dict):
        missing = [n for n in names if n not in x]
        if missing:
            raise ValueError(f"No data provided for {missing}. Need data for each key in: {list(names)}")
        arrays = [x[n] for n in names]
    elif isinstance(x, (list, tuple)) and (len(shapes) > 1 or _is_array_list(x)):
        arrays = list(x)
    else:
        arrays = [x]
    if len(arrays) != len(shapes):
        raise ValueError(
            f"Error when checking model {what}: the list of Numpy arrays that you are passing "
            f"to your model is not the size the model expected. Expected to see "
            f"{len(shapes)} array(s) ({', '.join(names)}), but instead got {len(arrays)}. Pass one "
            f"array per model {what}, in the order of model.{what}s: {list(names)}"
            + (" (or a dict keyed by these names)." if len(shapes) > 1 else ".")
        )
    out = []
    for shape, name, a in zip(shapes, names, arrays):
        if _fits(a, shape):  # the usual batch: nothing to convert or check
            out.append(a)
            continue
        a = np.asarray(a)
        if a.ndim == len(shape) - 1 and len(shape) == 2 and shape[-1] == 1:
            a = a[:, None]  # Keras accepts (n,) data for a (None, 1) input
        if a.ndim == len(shape) - 1 and _fits(a[None], shape):
            raise ValueError(
                f"Error when checking {what}: expected {name} to have {len(shape)} dimensions, "
                f"with shape {shape}, but got array with shape {a.shape}: one sample without its "
                f"batch axis. Add a batch axis: `x[None]` (or `np.expand_dims(x, 0)`), shape "
                f"{(1, *a.shape)}."
            )
        if a.ndim != len(shape) or any(d is not None and d != n for d, n in zip(shape[1:], a.shape[1:])):
            raise ValueError(
                f"Error when checking {what}: expected {name} to have shape {shape[1:]} but got "
                f"array with shape {a.shape[1:] if a.ndim else a.shape}"
            )
        out.append(a)
    if len({len(a) for a in out}) > 1:
        raise ValueError(
            f"All input arrays (x) should have the same number of samples. Got array shapes: "
            f"{[a.shape for a in out]}"
        )
    return out



def _is_array_list(x: list[Any] | tuple[Any, ...]) -> bool:
    """A list of arrays (one per input), not nested lists of numbers (one array's data)."""
    return len(x) > 0 and all(isinstance(a, np.ndarray) for a in x)


def _fits(a: Any, shape: tuple[Any, ...]) -> bool:
    """``a`` is an array of ``shape`` (any batch size) as it is: no conversion, nothing to check."""
    return type(a) is np.ndarray and a.ndim == len(shape) and a.shape[1:] == shape[1:] and a.ndim > 0


def unpack(outs: list[np.ndarray]) -> Any:
    if len(outs) == 1:
        return float(outs[0]) if outs[0].ndim == 0 else outs[0]
    values = [float(o) if o.ndim == 0 else o for o in outs]
    return values[0] if len(values) == 1 else values


def check_target(y: Any, loss: Any, output_shape: tuple[Any, ...]) -> None:
    """Catch the classic mix-ups of integer labels and one-hot targets with the wrong loss."""
    fn = getattr(loss, "__name__", "")
    shape = np.shape(y)
    classes = output_shape[-1] or 0
    if fn == "categorical_crossentropy" and classes > 1 and (len(shape) == 1 or shape[-1] == 1):
        raise ValueError(
            f"You are passing a target array of shape {shape} while using as loss "
            "`categorical_crossentropy`. `categorical_crossentropy` expects targets to be binary "
            "matrices (1s and 0s) of shape (samples, classes). If your targets are integer "
            "classes, you can convert them via: y_binary = np.eye(classes)[y_int]. "
            "Alternatively, you can use the loss function `sparse_categorical_crossentropy` "
            "instead, which does expect integer targets."
        )
    if fn == "sparse_categorical_crossentropy" and len(shape) == 2 and shape[-1] == classes > 1:
        raise ValueError(
            f"You are passing a target array of shape {shape} (one-hot rows) while using as loss "
            "`sparse_categorical_crossentropy`, which expects integer class ids of shape "
            "(samples,) or (samples, 1). Use `categorical_crossentropy` for one-hot targets, or "
            "pass y.argmax(-1)."
        )
