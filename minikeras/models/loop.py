"""Batching: cut arrays into batches and run a compiled function on each."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np


def batches(index: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    """Consecutive slices of ``index``, the last one possibly shorter."""
    for start in range(0, len(index), batch_size):
        yield index[start : start + batch_size]


def run_batches(f: Any, arrays: Sequence[np.ndarray], batch_size: int, extra: list[Any]) -> np.ndarray:
    """``f`` over every batch; its (scalar) outputs averaged, weighted by batch size."""
    n = len(arrays[0])
    if n == 0:
        raise ValueError("There are no samples to evaluate (the arrays are empty).")
    totals: np.ndarray | None = None
    for index in batches(np.arange(n), batch_size):
        outs = np.array([float(o) for o in f([a[index] for a in arrays] + extra)])
        totals = outs * len(index) if totals is None else totals + outs * len(index)
    return totals / n  # type: ignore[operator]
