"""Accuracy's two spellings: ``acc`` (Keras 2.0-2.2, most tutorials) and ``accuracy`` (2.3+).

A metric is logged under the name the user wrote; looking it up by the other spelling works
too (``history.history["acc"]`` after ``metrics=["accuracy"]``, ``monitor="val_acc"``).
"""

from __future__ import annotations

import re
from typing import Any

_SPELLINGS = re.compile(r"(^|_)(acc|accuracy)$")


def other_spelling(name: str) -> str | None:
    """``"val_acc"`` -> ``"val_accuracy"`` and back; ``None`` for names without accuracy."""
    match = _SPELLINGS.search(name)
    if match is None:
        return None
    other = "accuracy" if match.group(2) == "acc" else "acc"
    return name[: match.start(2)] + other


class MetricLogs(dict):  # type: ignore[type-arg]
    """A dict of logs (or of histories) that also answers to accuracy's other spelling."""

    def __missing__(self, key: str) -> Any:
        other = other_spelling(key) if isinstance(key, str) else None
        if other is not None and dict.__contains__(self, other):
            return dict.__getitem__(self, other)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if dict.__contains__(self, key):
            return True
        other = other_spelling(key) if isinstance(key, str) else None
        return other is not None and dict.__contains__(self, other)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return self[key] if key in self else default


def with_both_spellings(logs: dict[str, Any]) -> dict[str, Any]:
    """A plain dict with each accuracy under both names (for ``str.format(**logs)``)."""
    both = dict(logs)
    for key, value in logs.items():
        other = other_spelling(key)
        if other is not None:
            both.setdefault(other, value)
    return both
