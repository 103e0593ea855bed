"""Keras's ``utils.generic_utils``: the progress bar and the custom-object scope.

``CustomObjectScope`` and friends live in ``minikeras.objects`` (every lookup by name reads
them there); this module hands them on under Keras's import path.
"""

from __future__ import annotations

import inspect
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..engine import to_list, unpack_singleton
from ..engine.custom_objects import CustomObjectScope, custom_object_scope, get_custom_objects

Values = Iterable[tuple[str, Any]] | Mapping[str, Any] | None

__all__ = ["CustomObjectScope", "Progbar", "custom_object_scope", "get_custom_objects", "has_arg",
           "to_list", "unpack_singleton"]


def has_arg(fn: Callable[..., Any], name: str, accept_all: bool = False) -> bool:
    """Whether ``fn`` takes an argument ``name`` (or any keyword, with ``accept_all``)."""
    parameters = inspect.signature(fn).parameters
    if accept_all and any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return True
    parameter = parameters.get(name)
    return parameter is not None and parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                        inspect.Parameter.KEYWORD_ONLY)


class Progbar:
    """Keras 2.2's progress bar: ``3/10 [========>.....................] - ETA: 2s - loss: 0.6``.

    ``update(current, values)`` takes ``values`` as ``[("loss", 0.6), ...]`` (or a dict). A
    value is shown as its average over the steps so far, weighted by the steps each update
    covered — unless its name is in ``stateful_metrics``, then the last value is shown as is.
    ``verbose=2`` prints one line only when ``target`` is reached; ``target=None`` means an
    unknown length. On a terminal the line is redrawn in place at most every ``interval``
    seconds; elsewhere (a log, CI, a test) only the finished line is written.
    """

    def __init__(self, target: int | None, width: int = 30, verbose: int = 1, interval: float = 0.05,
                 stateful_metrics: Iterable[str] | None = None, stream: Any = None) -> None:
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.stream = stream if stream is not None else sys.stdout
        self.dynamic = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._sums: dict[str, list[float]] = {}  # name -> [weighted sum, steps] or [value, 1]
        self._order: list[str] = []
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0

    def update(self, current: int, values: Values = None) -> None:
        """Move the bar to ``current`` steps and fold ``values`` into the shown averages."""
        items = values.items() if isinstance(values, Mapping) else (values or [])
        for name, value in items:
            if name not in self._sums:
                self._order.append(name)
            if name in self.stateful_metrics:
                self._sums[name] = [float(np.mean(value)), 1]
            else:
                steps = max(current - self._seen_so_far, 1)
                total, count = self._sums.get(name, [0.0, 0])
                self._sums[name] = [total + float(np.mean(value)) * steps, count + steps]
        self._seen_so_far = current
        now = time.time()
        finished = self.target is not None and current >= self.target
        if self.verbose == 1:
            if self.dynamic and (finished or now - self._last_update >= self.interval):
                self.stream.write("\r" + self.line(current, finished) + ("\n" if finished else ""))
                self.stream.flush()
            elif not self.dynamic and finished:
                self.stream.write(self.line(current, True) + "\n")
        elif self.verbose == 2 and finished:
            self.stream.write(f"{self._timing(current, True)[3:]}{self._values()}\n")
        self._last_update = now

    def add(self, n: int, values: Values = None) -> None:
        """``update(seen + n, values)``: advance by ``n`` steps."""
        self.update(self._seen_so_far + n, values)

    def line(self, current: int, finished: bool) -> str:
        """The bar as text, without the leading ``\\r``."""
        if self.target is None:
            text = f"{current:7d}/Unknown"
        else:
            digits = len(str(self.target))
            done = int(self.width * min(current, self.target) / self.target) if self.target else self.width
            bar = "=" * max(done - 1, 0) + ((">" if current < self.target else "=") if done else "")
            text = f"{current:>{digits}}/{self.target} [{bar}{'.' * (self.width - len(bar))}]"
        return text + self._timing(current, finished) + self._values()

    def _timing(self, current: int, finished: bool) -> str:
        elapsed = time.time() - self._start
        if finished or self.target is None:
            return f" - {elapsed:.0f}s"
        eta = elapsed / max(current, 1) * (self.target - current)
        return f" - ETA: {eta:.0f}s"

    def _values(self) -> str:
        parts = []
        for name in self._order:
            total, count = self._sums[name]
            avg = total / max(count, 1)
            parts.append(f" - {name}: {avg:.4f}" if abs(avg) > 1e-3 else f" - {name}: {avg:.4e}")
        return "".join(parts)
