"""How ``add_weight(initializer='uniform')`` finds the initializer a name stands for.

The engine (floor 2) cannot import initializers, regularizers or constraints (floor 3), so
those modules register their ``get`` here when they are imported (``import minikeras`` imports
them all), and the engine looks names up through it: the dependency points down.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_GETTERS: dict[str, Callable[[Any], Any]] = {}


def register(kind: str, get: Callable[[Any], Any]) -> None:
    """Make ``get`` the way names and config dicts of ``kind`` ("initializer", ...) are resolved."""
    _GETTERS[kind] = get


def resolve(kind: str, identifier: Any) -> Any:
    """``identifier`` as an object: a name or a config dict looked up, anything else as it is."""
    if not isinstance(identifier, (str, dict)):
        return identifier
    if kind not in _GETTERS:
        raise ValueError(f"Cannot look up the {kind} {identifier!r}: import minikeras first.")
    return _GETTERS[kind](identifier)
