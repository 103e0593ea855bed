"""A model config checked field by field before anything is built from it.

A config read from a file is data from outside: a layer whose ``units`` is ``"abc"``, a node
that names no layer, a list where a dict belongs. Built as it is, such a config fails deep
inside a constructor or a ``build`` with an ``AttributeError`` or ``IndexError`` that names
neither the layer nor the field. Here each field is checked against what the layer's
constructor declares (its type hints, and for arguments typed ``Any`` the form their name
implies: ``*_initializer``, ``kernel_size``, ...), so the error says which layer, which field,
what was expected and what was found.

The config checked is the normalised one (``keras3.py``): Keras 2's form, whoever wrote it.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from types import NoneType, UnionType
from typing import Any

from ..engine import LAYER_CLASSES, Layer


class ConfigError(ValueError):
    """A config that cannot describe a model. The message names the layer and the field."""


_MODEL_CLASSES = {"Model", "Network", "Sequential"}


def _found(value: Any) -> str:
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} (a {type(value).__name__})"


def check_model_config(data: Any, custom_objects: dict[str, Any] | None = None) -> None:
    """Raise ``ConfigError`` for the first field of ``data`` no layer could be built from."""
    _entry(data, "the model", custom_objects or {})


def _entry(data: Any, what: str, custom: dict[str, Any]) -> None:
    if not isinstance(data, dict):
        raise ConfigError(f"{what}: expected a dict with 'class_name' and 'config', found {_found(data)}.")
    class_name = data.get("class_name")
    if not isinstance(class_name, str):
        raise ConfigError(f"{what}: the field 'class_name' should be a class name (a string), found "
                          f"{_found(class_name)}.")
    config = data.get("config")
    if not isinstance(config, dict):
        raise ConfigError(f"{what} ({class_name}): the field 'config' should be a dict, found "
                          f"{_found(config)}.")
    name = config.get("name", data.get("name"))
    if name is not None and not isinstance(name, str):
        raise ConfigError(f"{what} ({class_name}): the field 'name' should be a string, found "
                          f"{_found(name)}.")
    label = f"layer {name!r} ({class_name})" if name else f"{what} ({class_name})"
    if class_name in _MODEL_CLASSES and class_name not in custom:
        _model(config, label, class_name, custom)
    else:
        _layer(class_name, config, label, custom)


# --- models: the layers and who calls whom --------------------------------------------------


def _list(value: Any, field: str, label: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{label}: the field {field!r} should be a list, found {_found(value)}.")
    return list(value)


def _model(config: dict[str, Any], label: str, class_name: str, custom: dict[str, Any]) -> None:
    layers = _list(config.get("layers"), "layers", label)
    if class_name == "Sequential":
        for i, entry in enumerate(layers):
            _entry(entry, f"layer #{i} of {label}", custom)
        return
    names: set[str] = set()
    for i, entry in enumerate(layers):
        _entry(entry, f"layer #{i} of {label}", custom)
        name = entry.get("name")
        if not isinstance(name, str):
            raise ConfigError(f"layer #{i} of {label}: the field 'name' should be a string, found "
                              f"{_found(name)}.")
        if name in names:
            raise ConfigError(f"{label}: two layers are named {name!r}; a model's layer names are unique.")
        names.add(name)
    for entry in layers:
        where = f"layer {entry['name']!r} ({entry['class_name']}) of {label}"
        for node in _list(entry.get("inbound_nodes", []), "inbound_nodes", where):
            for ref in _list(node, "inbound_nodes", where):
                _ref(ref, "inbound_nodes", where, names, 4)
    for field in ("input_layers", "output_layers"):
        refs = _list(config.get(field), field, label)
        if not refs:
            raise ConfigError(f"{label}: the field {field!r} is empty; a model has at least one.")
        for ref in refs:
            _ref(ref, field, label, names, 3)


def _ref(ref: Any, field: str, label: str, names: set[str], longest: int) -> None:
    """``[layer name, node index, tensor index(, call kwargs)]``."""
    form = "[layer name, node index, tensor index" + (", kwargs]" if longest == 4 else "]")
    ok = (isinstance(ref, (list, tuple)) and 3 <= len(ref) <= longest and isinstance(ref[0], str)
          and all(_is_int(i) and i >= 0 for i in ref[1:3]) and (len(ref) < 4 or isinstance(ref[3], dict)))
    if not ok:
        raise ConfigError(f"{label}: an entry of {field!r} should be {form}, found {_found(ref)}.")
    if ref[0] not in names:
        raise ConfigError(f"{label}: the field {field!r} names the layer {ref[0]!r}, which the model "
                          "does not have.")


def raw_functional_layers(layers: Any) -> list[dict[str, Any]]:
    """A functional config's ``layers`` as written (any Keras's form), each checked to be a dict
    with a name before ``keras3.py`` reads it."""
    if not isinstance(layers, list):
        raise ValueError(f"the field 'layers' of a model should be a list, found {str(layers)[:60]}.")
    for i, e in enumerate(layers):
        config = e.get("config") if isinstance(e, dict) else None
        name = e.get("name") or (config.get("name") if isinstance(config, dict) else None) \
            if isinstance(e, dict) else None
        if not (isinstance(name, str) and isinstance(e.get("class_name"), str)
                and isinstance(e.get("inbound_nodes") or [], list) and isinstance(config or {}, dict)):
            raise ValueError(f"layer #{i} of the model should be a dict with a 'name' and a 'class_name' "
                             f"(strings), 'config' (a dict) and 'inbound_nodes' (a list), found {e!s:.80}.")
    return layers


def node_history(parts: Any, field: str) -> tuple[str, int, int]:
    """``[layer name, node index, tensor index]``, checked."""
    if not (len(parts) == 3 and isinstance(parts[0], str) and all(
            isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in parts[1:])):
        raise ValueError(f"an entry of {field!r} should be [layer name, node index, tensor index], found "
                         f"{str(list(parts))[:60]}.")
    return parts[0], parts[1], parts[2]


# --- layers: each field against its constructor ----------------------------------------------


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _ints(v: Any) -> bool:
    return _is_int(v) or (isinstance(v, (list, tuple)) and all(_is_int(x) for x in v))


def _dims(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and all(x is None or (_is_int(x) and x >= 0) for x in v)


def _object(v: Any) -> bool:
    """A name (``"glorot_uniform"``) or ``{"class_name": ..., "config": {...}}``."""
    return isinstance(v, str) or (isinstance(v, dict) and isinstance(v.get("class_name"), str)
                                  and isinstance(v.get("config", {}) or {}, dict))


Rule = tuple[Callable[[Any], bool], str]
_INT: Rule = (_is_int, "an integer")
_NUMBER: Rule = (_is_number, "a number")
_SHAPE: Rule = (_dims, "a list of sizes (integers >= 0, or null)")
_OBJECT: Rule = (lambda v: v is None or _object(v), "null, a name or a {'class_name', 'config'} dict")
_TUPLE: Rule = (lambda v: _ints(v) and v not in ([], ()), "an integer or a list of integers")

#: Forms of the arguments every layer takes, and of those whose hint is ``Any``.
_BY_NAME: dict[str, Rule] = {
    "name": (lambda v: isinstance(v, str), "a string"),
    "trainable": (lambda v: isinstance(v, bool), "true or false"),
    "dtype": (lambda v: v is None or isinstance(v, str), "a dtype name such as 'float32'"),
    "batch_input_shape": _SHAPE, "input_shape": _SHAPE,
    "batch_size": (lambda v: v is None or (_is_int(v) and v >= 0), "null or an integer >= 0"),
    "activation": (lambda v: v is None or _object(v), "null or an activation's name"),
    "kernel_size": _TUPLE, "strides": (lambda v: v is None or _TUPLE[0](v), "null or " + _TUPLE[1]),
    "pool_size": _TUPLE, "dilation_rate": _TUPLE, "axes": _TUPLE,
    "target_shape": (lambda v: isinstance(v, (list, tuple)) and all(_is_int(x) for x in v),
                     "a list of integers"),
    "noise_shape": (lambda v: v is None or _dims(v), "null or " + _SHAPE[1]),
    "input_length": (lambda v: v is None or (_is_int(v) and v >= 0) or _dims(v), "null or a length"),
}
_BY_SUFFIX: dict[str, Rule] = {"_initializer": _OBJECT, "_regularizer": _OBJECT, "_constraint": _OBJECT}


def _rule_from_hint(hint: Any) -> Rule | None:
    """What a type hint (``int``, ``float``, ``bool``, ``str``, ``X | None``) accepts."""
    plain = {int: _INT, float: _NUMBER, bool: (lambda v: isinstance(v, bool), "true or false"),
             str: (lambda v: isinstance(v, str), "a string"), dict: (lambda v: isinstance(v, dict), "a dict")}
    origin = typing.get_origin(hint)
    if hint in plain:
        return plain[hint]
    if origin is dict:
        return plain[dict]
    if origin in (UnionType, typing.Union):
        args = [a for a in typing.get_args(hint) if a is not NoneType]
        inner = _rule_from_hint(args[0]) if len(args) == 1 else None
        if inner is not None and NoneType in typing.get_args(hint):
            test = inner[0]
            return (lambda v: v is None or test(v), "null or " + inner[1])
    return None


_RULES: dict[type[Layer], tuple[dict[str, Rule], frozenset[str]]] = {}


def _rules(cls: type[Layer]) -> tuple[dict[str, Rule], frozenset[str]]:
    """The rule of each argument of ``cls`` this module can check, and the required arguments."""
    if cls not in _RULES:
        _RULES[cls] = _read_rules(cls)
    return _RULES[cls]


def _read_rules(cls: type[Layer]) -> tuple[dict[str, Rule], frozenset[str]]:
    try:
        hints = typing.get_type_hints(cls.__init__)
    except (NameError, TypeError):
        hints = {}
    rules: dict[str, Rule] = {}
    required = set()
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name == "self" or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        if p.default is p.empty:
            required.add(p.name)
        rule = _rule_from_hint(hints.get(p.name)) or _BY_NAME.get(p.name)
        rule = rule or next((r for s, r in _BY_SUFFIX.items() if p.name.endswith(s)), None)
        if rule is not None:
            rules[p.name] = rule
    return rules, frozenset(required)


def _layer(class_name: str, config: dict[str, Any], label: str, custom: dict[str, Any]) -> None:
    cls = LAYER_CLASSES.get(class_name)
    if cls is None or class_name in custom or not cls.__module__.startswith("minikeras."):
        return  # unknown (deserializing says so) or your own class: its constructor decides
    rules, required = _rules(cls)
    missing = sorted(required - set(config))
    if missing and cls.from_config.__func__ is Layer.from_config.__func__:  # type: ignore[attr-defined]
        raise ConfigError(f"{label}: the field {missing[0]!r} is missing from its config ({class_name} "
                          "cannot be built without it).")
    for key, value in config.items():
        rule = rules.get(key) or _BY_NAME.get(key)
        if rule is not None and not rule[0](value):
            raise ConfigError(f"{label}: the field {key!r} should be {rule[1]}, found {_found(value)}.")
