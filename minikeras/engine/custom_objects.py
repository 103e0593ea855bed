"""Names of your own for every lookup by name: Keras's custom objects.

A layer, loss or initializer a file names is found in a ``custom_objects`` argument or in
the global custom objects (``get_custom_objects()``, filled for a while by
``CustomObjectScope``); ``with_custom_objects`` merges the two, the argument winning, and
every lookup by name (layers here, initializers, losses, ... in ``minikeras.objects``) goes
through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}


def get_custom_objects() -> dict[str, Any]:
    """The global dict of custom objects: writing to it registers a name for every lookup."""
    return _GLOBAL_CUSTOM_OBJECTS


def with_custom_objects(custom_objects: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The global custom objects updated with ``custom_objects`` (the argument wins)."""
    return {**_GLOBAL_CUSTOM_OBJECTS, **(custom_objects or {})}


class CustomObjectScope:
    """``with CustomObjectScope({"MyLayer": MyLayer}):`` makes the names known to every lookup.

    On exit the global custom objects are restored exactly as they were, so a name added by
    the scope is gone again (a name registered before the scope keeps its old value).
    """

    def __init__(self, *args: Mapping[str, Any]) -> None:
        self.custom_objects = args
        self.backup: dict[str, Any] | None = None

    def __enter__(self) -> CustomObjectScope:
        self.backup = dict(_GLOBAL_CUSTOM_OBJECTS)
        for objects in self.custom_objects:
            _GLOBAL_CUSTOM_OBJECTS.update(objects)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        _GLOBAL_CUSTOM_OBJECTS.clear()
        _GLOBAL_CUSTOM_OBJECTS.update(self.backup or {})


def custom_object_scope(*args: Mapping[str, Any]) -> CustomObjectScope:
    """``with custom_object_scope({"MyLayer": MyLayer}):`` (Keras's spelling of the scope)."""
    return CustomObjectScope(*args)
