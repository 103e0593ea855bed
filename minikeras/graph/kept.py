"""Buffers a compiled plan keeps between runs for its big results (optional reading).

A fresh multi-MB array costs page faults every run: the operating system hands out new
zeroed pages, or the allocator gives back memory it trimmed after the last run, and a
CNN training step would spend thousands of faults that way. So, after its first run, a
compiled plan gives each step whose result was big (``KEEP_FROM_BYTES`` or more) and whose
function takes ``out=`` a ``Kept`` wrapper: the next runs write into the array the last one
made, when that is safe. Small results keep their direct kernel: a wrapper costs about a
microsecond, which an MLP's small products cannot spare.

When is reusing safe? When nobody can still read the old result. The plan keeps no array
it hands on (a fetch, a variable's new value: ``compile.py`` follows where each array goes,
through the steps that write into it), and CPython's reference count says whether anything
else still holds it (a view, an op that stored it, a run in another thread). And the inputs
must be laid out exactly as when the buffer was made (same shapes, dtypes and strides), so
the result has the shape, dtype and memory order a fresh one would have: a later sum then
adds the numbers in the same order, to the same last bit.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

#: A result this big or bigger gets a buffer kept between runs (glibc serves blocks from
#: 128 KiB up with fresh pages, and trims freed memory above that between runs).
KEEP_FROM_BYTES = 1 << 17
#: Bigger results are not kept: one huge ``predict`` must not hold its memory afterwards.
KEEP_UP_TO_BYTES = 1 << 26


def _layout(xs: tuple[Any, ...]) -> list[tuple[Any, ...]] | None:
    """What decides the result's shape, dtype and memory order; ``None`` for a non-array."""
    try:
        return [(x.shape, x.strides, x.dtype) for x in xs]
    except AttributeError:  # a Python number
        return None


class Kept:
    """``fn(*xs)``, written into the array the last call returned once nothing holds it.

    ``fn`` must accept ``out=`` (an array of its result's shape and dtype) and compute the
    same numbers into it. ``kept`` is ``(layout of the inputs, buffer)``, one tuple so that
    threads swapping it never see one's layout with the other's buffer.
    """

    __slots__ = ("fn", "kept")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.kept: tuple[list[tuple[Any, ...]], np.ndarray] | None = None

    def __call__(self, *xs: Any) -> Any:
        kept = self.kept
        if kept is not None:
            buf = kept[1]
            # Its references: ``kept``'s tuple, the name ``buf``, getrefcount's argument. Any
            # more, and a user, a variable or a run (this thread's or another's) still holds
            # the last result. (A second thread that got here too holds it as ``buf``.)
            if sys.getrefcount(buf) == 3 and kept[0] == _layout(xs):
                return self.fn(*xs, out=buf)
            del buf
        y = self.fn(*xs)
        layout = _layout(xs)
        self.kept = (layout, y) if layout is not None and _keepable(y) else None
        return y


def _keepable(y: Any) -> bool:
    return (isinstance(y, np.ndarray) and y.base is None and y.flags.c_contiguous
            and KEEP_FROM_BYTES <= y.nbytes <= KEEP_UP_TO_BYTES)


def takes_out(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` accepts ``out=``: a ufunc (``np.add``, ``np.matmul``) or a ``forward``
    that declares it."""
    if isinstance(fn, np.ufunc):
        return True
    try:
        return "out" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False
