"""Keras objects as data: ``{"class_name": ..., "config": ...}`` and back, by name.

Initializers, regularizers and constraints are saved in layer configs in this form; one
registry per kind maps the names Keras uses (``"glorot_uniform"``, ``"l2"``,
``"MaxNorm"``) to the classes or functions that make them.

Names of your own come from a ``custom_objects`` argument or from the global custom objects
(``get_custom_objects()``, filled for a while by ``CustomObjectScope``); ``with_custom_objects``
merges the two, the argument winning, and every lookup by name goes through it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


def serialize(obj: Any, kind: str) -> dict[str, Any] | None:
    """``obj`` as ``{"class_name", "config"}``; ``None`` stays ``None``."""
    if obj is None:
        return None
    if not hasattr(obj, "get_config"):
        name = getattr(obj, "__name__", repr(obj))
        raise ValueError(f"Cannot serialize {kind} {name}: it has no get_config. Use a class with "
                         "get_config to make the layer's config saveable.")
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def deserialize(config: Mapping[str, Any], registry: Mapping[str, Callable[..., Any]], kind: str,
                custom_objects: Mapping[str, Any] | None = None) -> Any:
    """Make the object a config names; ``custom_objects`` are looked up first."""
    if "class_name" not in config:
        raise ValueError(f"Improper config format for a {kind}: {dict(config)} (expected class_name "
                         "and config).")
    name = config["class_name"]
    factory = with_custom_objects(custom_objects).get(name) or registry.get(name)
    if factory is None:
        raise ValueError(f"Unknown {kind}: {name}. Known names: {sorted(registry)}.")
    return factory(**(config.get("config") or {}))


def get(identifier: Any, registry: Mapping[str, Callable[..., Any]], kind: str) -> Any:
    """A name, a config dict or a callable, as the object it stands for."""
    if isinstance(identifier, dict):
        return deserialize(identifier, registry, kind)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}}, registry, kind)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")
