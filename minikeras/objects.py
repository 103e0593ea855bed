"""Keras objects as data: ``{"class_name": ..., "config": ...}`` and back, by name.

Initializers, regularizers and constraints are saved in layer configs in this form; one
registry per kind maps the names Keras uses (``"glorot_uniform"``, ``"l2"``,
``"MaxNorm"``) to the classes or functions that make them.

Names of your own come from a ``custom_objects`` argument or from the global custom objects
(``minikeras.engine.custom_objects``): every lookup by name goes through ``with_custom_objects``.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .engine.custom_objects import (  # noqa: F401 - re-exported: minikeras.objects has them too
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    with_custom_objects,
)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` Did you mean 'adam'?`` for the closest known name (case ignored), or ``""``."""
    by_lower = {k.lower(): k for k in known}
    close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1, cutoff=0.6)
    return f" Did you mean {by_lower[close[0]]!r}?" if close else ""


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
        raise ValueError(f"Unknown {kind}: {name}.{did_you_mean(name, registry)} Known names: "
                         f"{sorted(registry)}.")
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
