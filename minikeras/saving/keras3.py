"""Configs written by Keras 3 and tf.keras, translated into the Keras 2 form minikeras builds from.

The layers themselves only know Keras 2's configs. Newer Keras writes the same information
differently, and this module rewrites it:

- ``"Functional"`` is the class name of a functional model (minikeras calls it ``"Model"``);
- ``InputLayer`` has ``batch_shape`` instead of ``batch_input_shape``;
- objects are wrapped as ``{"module", "class_name", "config", "registered_name"}``, a layer's
  ``dtype`` is a ``DTypePolicy`` dict, an activation may be ``{"class_name": "function", ...}``;
- each call of a layer (an inbound node) is ``{"args": [...keras tensors...], "kwargs": {}}``,
  a keras tensor being ``{"class_name": "__keras_tensor__", "config": {"keras_history":
  [layer, node, tensor]}}``, where Keras 2 wrote ``[[layer, node, tensor, kwargs], ...]``;
- ``input_layers``/``output_layers`` may be one bare ``[layer, node, tensor]`` triple;
- options minikeras lacks (``quantization_config``, ``synchronized``, ...) are present; they are
  dropped when they are off (``None``, ``False``, their default) and refused when they are on,
  because silently ignoring them would change what the model computes.

What a student misses: the node indices. In Keras 2, tf.keras and minikeras a model has a node
of its own (its inputs to its outputs), so the first call of a nested model is its node 1.
A Keras 3 model has no such node: its inbound nodes count a nested model's first call as 0,
and so does its ``output_layers`` for a nested Sequential (not for a functional model, where
Keras 3 writes Keras 2's number). Those are shifted to minikeras's numbers.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

from .. import optimizers
from ..engine import LAYER_CLASSES, Layer
from .config_check import node_history, raw_functional_layers
from .keras2 import legacy_layer

_MISSING = object()
_ANY = object()

#: Options minikeras does not have, with the value at which they change nothing.
_HARMLESS: dict[str, Any] = {
    "optional": False, "ragged": False, "sparse": False,  # InputLayer, Embedding
    "synchronized": False, "renorm": False, "renorm_momentum": _ANY, "renorm_clipping": _ANY,
    "groups": 1, "keepdims": False, "autocast": True,
    # optimizers (Keras 3)
    "name": _ANY, "use_ema": False, "ema_momentum": _ANY, "is_legacy_optimizer": _ANY,
    "jit_compile": _ANY, "momentum": 0.0, "centered": False, "initial_accumulator_value": 0.0,
}

#: Arguments every layer takes through ``**kwargs`` (see ``Layer.__init__``).
_LAYER_KWARGS = {"input_shape", "batch_input_shape", "batch_size", "dtype", "name", "trainable",
                 "weights", "input_dtype"}

_MODEL_CLASS_NAMES = {"Model", "Functional", "Sequential"}


def normalize_model_config(data: Any, custom_objects: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"class_name", "config"}`` from Keras 2, tf.keras or Keras 3, in minikeras's form.

    Raises ``ValueError`` naming the layer and the option when something cannot be expressed.
    """
    return normalize_entry(data, custom_objects or {})


def normalize_entry(data: Any, custom: dict[str, Any]) -> dict[str, Any]:
    """One ``{"class_name", "config"}`` entry (a layer, or a model and its layers) in minikeras's form."""
    if not isinstance(data, dict) or "class_name" not in data:
        raise ValueError(f"Improper config format: {str(data)[:200]}. Expected a dict with "
                         "'class_name' and 'config'.")
    if not isinstance(data["class_name"], str):
        raise ValueError(f"the field 'class_name' should be a class name, found {data['class_name']!s:.60}.")
    class_name = "Model" if data["class_name"] == "Functional" else data["class_name"]
    class_name, config = legacy_layer(class_name, data.get("config", {}))
    if isinstance(config, dict) and "layers" in config and "input_layers" in config:
        config = _functional(config, custom)
    elif class_name == "Sequential":
        config = _sequential(config, custom)
    elif isinstance(config, dict):
        config = _layer(class_name, config, custom)
    else:
        raise ValueError(f"The config of a {class_name} should be a dict, got {str(config)[:200]}.")
    return {"class_name": class_name, "config": config}


# --- models --------------------------------------------------------------------------


def _sequential(config: Any, custom: dict[str, Any]) -> dict[str, Any]:
    if isinstance(config, list):  # Keras 1 and early Keras 2 stored only the list of layers
        config = {"layers": config}
    if not isinstance(config.get("layers"), list):
        raise ValueError(f"the field 'layers' of a Sequential should be a list of layer configs, found "
                         f"{str(config.get('layers'))[:60]}.")
    layers = [normalize_entry(e, custom) for e in config["layers"]]
    shape = config.get("build_input_shape")
    if (layers and shape is not None and layers[0]["class_name"] != "InputLayer"
            and "batch_input_shape" not in layers[0]["config"]):
        # Keras 3 built from data without an Input: its shape was only recorded here.
        first = layers[0]["config"].get("name", "sequential")
        layers.insert(0, {"class_name": "InputLayer",
                          "config": {"batch_input_shape": list(shape), "name": f"{first}_input"}})
    out: dict[str, Any] = {"layers": layers}
    if config.get("name"):
        out["name"] = config["name"]
    return out


def _functional(config: dict[str, Any], custom: dict[str, Any]) -> dict[str, Any]:
    raw = raw_functional_layers(config["layers"])

    def name_of(e: dict[str, Any]) -> str:
        return e.get("name") or e["config"]["name"]

    models = {name_of(e) for e in raw if e.get("class_name") in _MODEL_CLASS_NAMES
              or isinstance((e.get("config") or {}).get("layers"), list)}
    sequentials = {name_of(e) for e in raw if e.get("class_name") == "Sequential"}
    nodes = [node for e in raw for node in (e.get("inbound_nodes") or [])]
    keras3 = any(isinstance(node, dict) for node in nodes)
    # Keras 3 numbers a nested model's calls from 0 in inbound nodes; Keras 2 from 1, its
    # node 0 being the model's own (never an input of another layer): a 0 tells them apart.
    from_zero = keras3 or any(isinstance(ref, (list, tuple)) and len(ref) > 1 and isinstance(ref[0], str)
                              and ref[0] in models and ref[1] == 0
                              for node in nodes if isinstance(node, list) for ref in node)

    def inbound_ref(*parts: Any) -> list[Any]:
        name, node_index, tensor_index = node_history(parts, "inbound_nodes")
        return [name, node_index + (1 if from_zero and name in models else 0), tensor_index]

    def io_ref(*parts: Any) -> list[Any]:
        # Here Keras 3 counts a functional model's own node, but not a Sequential's.
        name, node_index, tensor_index = node_history(parts, "input_layers/output_layers")
        return [name, node_index + (1 if keras3 and name in sequentials else 0), tensor_index]

    layers = []
    for e in raw:
        entry = normalize_entry(e, custom)
        layers.append({"name": name_of(e), "class_name": entry["class_name"], "config": entry["config"],
                       "inbound_nodes": [_node(node, inbound_ref, name_of(e))
                                         for node in (e.get("inbound_nodes") or [])]})
    return {"name": config.get("name"), "layers": layers,
            "input_layers": [io_ref(*t) for t in _triples(config["input_layers"])],
            "output_layers": [io_ref(*t) for t in _triples(config["output_layers"])]}


def _is_triple(x: Any) -> bool:
    return isinstance(x, (list, tuple)) and len(x) == 3 and isinstance(x[0], str)


def _triples(value: Any) -> Iterator[list[Any]]:
    """``[name, node, tensor]`` triples from one triple, a list of them or a dict of them."""
    if _is_triple(value):
        yield list(value)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _triples(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _triples(v)
    else:
        raise ValueError(f"Cannot read the model's inputs or outputs from {value!r}.")


def _node(node: Any, ref: Callable[..., list[Any]], layer: str) -> list[list[Any]]:
    """One call of ``layer`` as Keras 2's ``[[name, node, tensor, kwargs], ...]``."""
    if isinstance(node, dict):
        tensors: list[list[Any]] = []
        others: list[Any] = []
        _collect(node.get("args", []), tensors, others)
        if others:
            raise ValueError(f"Layer {layer!r} is called with the non-tensor arguments {others}; "
                             "minikeras layers take tensors (and keyword arguments) only.")
        kwargs = _call_kwargs(node.get("kwargs") or {}, layer)
        return [ref(*history) + [kwargs] for history in tensors]
    entries = []
    for entry in node if isinstance(node, list) else [node]:
        if not (isinstance(entry, (list, tuple)) and 3 <= len(entry) <= 4
                and (len(entry) == 3 or isinstance(entry[3], dict))):
            raise ValueError(f"Layer {layer!r}: an entry of 'inbound_nodes' should be [layer name, node "
                             f"index, tensor index, kwargs], found {str(entry)[:60]}.")
        kwargs = _call_kwargs(entry[3] if len(entry) > 3 else {}, layer)
        entries.append(ref(entry[0], entry[1], entry[2]) + [kwargs])
    return entries


def _collect(value: Any, tensors: list[list[Any]], others: list[Any]) -> None:
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = value["config"].get("keras_history") if isinstance(value.get("config"), dict) else None
        tensors.append(list(history) if isinstance(history, (list, tuple)) else [history])
    elif isinstance(value, dict):
        for v in value.values():
            _collect(v, tensors, others)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _collect(v, tensors, others)
    else:
        others.append(value)


def _call_kwargs(kwargs: dict[str, Any], layer: str) -> dict[str, Any]:
    if not isinstance(kwargs, dict):
        raise ValueError(f"Layer {layer!r} is called with kwargs {kwargs!s:.60}, which should be a dict.")
    out = {}
    for key, value in kwargs.items():
        if key == "mask" and value is None:
            continue  # Keras 3 records mask=None on every call of a model; minikeras has no masks
        found: list[list[Any]] = []
        _collect(value, found, [])
        if found:
            raise ValueError(f"Layer {layer!r} is called with a tensor as keyword argument {key!r}; "
                             "minikeras cannot rebuild that call.")
        out[key] = value
    return out


# --- layers --------------------------------------------------------------------------


def _layer(class_name: str, config: dict[str, Any], custom: dict[str, Any]) -> dict[str, Any]:
    what = f"Layer {config.get('name', '?')!r} ({class_name})"
    if class_name == "Lambda":
        config = _lambda(config)  # first: its functions are wrapped objects too
    config = {key: _unwrap(key, value) for key, value in config.items()}
    if class_name == "InputLayer":
        if "batch_shape" in config:
            config["batch_input_shape"] = config.pop("batch_shape")
        if "shape" in config:
            config["batch_input_shape"] = [config.pop("batch_size", None), *config.pop("shape")]
    axis = config.get("axis")
    if class_name == "BatchNormalization" and isinstance(axis, list) and len(axis) == 1:
        config["axis"] = axis[0]
    cls = custom.get(class_name) or LAYER_CLASSES.get(class_name)
    if cls is None or class_name in custom or _own_from_config(cls):
        # Unknown (deserializing will say so), the user's own class, or one whose from_config
        # reads keys its constructor does not take (Lambda): left as it is.
        return config
    names, takes_kwargs = _parameters(cls)
    return _supported(config, names | (_LAYER_KWARGS if takes_kwargs else set()), what)


def _unwrap(key: str, value: Any) -> Any:
    """A Keras 3 wrapped object in the Keras 2 form the layers' ``get`` functions take."""
    if not isinstance(value, dict) or "class_name" not in value:
        return value
    class_name, config = value["class_name"], value.get("config")
    if key == "dtype":
        name = (config or {}).get("name", "float32")
        # A mixed policy computes in float16 but keeps float32 variables: minikeras computes
        # in float32 throughout, which gives the same weights and nearly the same outputs.
        return "float32" if name.startswith("mixed_") else name
    if class_name == "function" and isinstance(config, str):
        return config  # an activation (or any function) recorded by its name
    if isinstance(config, dict):
        # Keras 3 added options that are off by default (``input_axes``...): drop the unset.
        config = {k: v for k, v in config.items() if v is not None or k == "seed"}
        if class_name == "VarianceScaling" and config.get("distribution") in (
                "truncated_normal", "untruncated_normal"):
            # Keras 2's "normal" is truncated; an untruncated one has no Keras 2 name and only
            # changes a fresh model's initial weights, which loading replaces anyway.
            config["distribution"] = "normal"
    return {"class_name": class_name, "config": config}


def _lambda(config: dict[str, Any]) -> dict[str, Any]:
    """Keep a Lambda's function *names* only; code stored in a file (bytecode) is dropped unread."""
    config = dict(config)
    for key, type_key, module_key in (("function", "function_type", "module"),
                                      ("output_shape", "output_shape_type", "output_shape_module")):
        value = config.get(key)
        if isinstance(value, dict):  # Keras 3
            if value.get("class_name") == "__lambda__":
                config[key], config[type_key], config[module_key] = "<lambda>", "lambda", None
            else:
                config[key], config[type_key] = value.get("config"), "function"
                config[module_key] = value.get("module")
        elif config.get(type_key) == "lambda" or (key == "function" and not isinstance(value, str)):
            config[key], config[type_key] = "<lambda>", "lambda"  # Keras 2's marshalled code
            config.setdefault(module_key, None)
        elif key == "output_shape":
            config.setdefault(type_key, "raw")
    if config.get("mask") is None:
        config.pop("mask", None)
    return config


def _own_from_config(cls: type[Layer]) -> bool:
    """Whether ``cls`` rebuilds itself otherwise than ``cls(**config)``."""
    return cls.from_config.__func__ is not Layer.from_config.__func__  # type: ignore[attr-defined]


def _parameters(factory: Any) -> tuple[set[str], bool]:
    """The keyword arguments ``factory`` takes, and whether it also takes ``**kwargs``."""
    params = inspect.signature(factory).parameters.values()
    names = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names - {"self"}, any(p.kind is p.VAR_KEYWORD for p in params)


def _supported(config: dict[str, Any], accepted: set[str], what: str) -> dict[str, Any]:
    out = {}
    for key, value in config.items():
        harmless = _HARMLESS.get(key, _MISSING)
        if key in accepted:
            out[key] = value
        elif value is None or harmless is _ANY or (harmless is not _MISSING and value == harmless):
            continue
        else:
            raise ValueError(f"{what} has {key}={value!r}, which minikeras does not support "
                             f"(it understands {sorted(accepted)}).")
    return out


# --- training configs ------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


_LOSS_CLASSES = {"KLDivergence": "kullback_leibler_divergence", "LogCosh": "logcosh",
                 "CosineSimilarity": "cosine_proximity"}
#: Loss/metric object options at which the object is just its function.
_PLAIN_OPTIONS = {"name": _ANY, "reduction": _ANY, "dtype": _ANY, "from_logits": False,
                  "label_smoothing": 0.0, "axis": -1, "fn": _ANY, "threshold": 0.5}


def _plain_option(key: str, value: Any) -> bool:
    default = _PLAIN_OPTIONS.get(key, _MISSING)
    return default is _ANY or (default is not _MISSING and value == default)


def _function_name(value: Any, what: str) -> Any:
    """A loss or metric by name: ``"mse"`` as it is, ``MeanSquaredError()`` as its function."""
    if isinstance(value, (str, type(None))):
        return value
    if isinstance(value, list):
        return [_function_name(v, what) for v in value]
    if isinstance(value, dict) and "class_name" in value:
        class_name, config = value["class_name"], value.get("config")
        if class_name == "function" and isinstance(config, str):
            return config
        if class_name == "MeanMetricWrapper" and isinstance(config, dict):
            return _function_name(config.get("fn"), what)
        name = _LOSS_CLASSES.get(class_name) or _snake(class_name)
        options = {k: v for k, v in (config or {}).items() if not _plain_option(k, v)}
        if options:
            raise ValueError(f"The {what} {class_name} has the options {options}, which minikeras's "
                             f"{name} function does not take.")
        return name
    if isinstance(value, dict):
        return {k: _function_name(v, what) for k, v in value.items()}
    raise ValueError(f"Cannot read the {what} {value!r} from the training config.")


def _one_metric_list(metrics: Any) -> Any:
    """tf.keras writes one list per output (``[["acc"]]``); minikeras compiles one list for all."""
    if not (isinstance(metrics, list) and metrics and all(isinstance(m, list) for m in metrics)):
        return metrics
    if any(m != metrics[0] for m in metrics):
        raise ValueError(f"The metrics differ between outputs ({metrics}); compile with compile=False "
                         "and give them as a dict by output name.")
    return metrics[0]


def normalize_training_config(config: dict[str, Any],
                              custom_objects: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"optimizer", "loss", "metrics", "loss_weights"}`` from any Keras's ``training_config``.

    Keras 3 writes optimizer options minikeras lacks (``weight_decay``, ``use_ema``, ...):
    dropped when off, refused when on, as for layers.
    """
    optimizer = config["optimizer_config"]
    class_name = optimizer["class_name"]
    opt_config = dict(optimizer.get("config") or {})
    if isinstance(opt_config.get("learning_rate"), dict):
        raise ValueError(f"The optimizer's learning rate is a schedule "
                         f"({opt_config['learning_rate'].get('class_name')}), which minikeras does "
                         "not have.")
    cls = (custom_objects or {}).get(class_name) or getattr(optimizers, class_name, None)
    if isinstance(cls, type) and class_name not in (custom_objects or {}):
        names, _ = _parameters(cls)
        opt_config = _supported(opt_config, names | {"learning_rate", "clipnorm", "clipvalue"},
                                f"The optimizer {class_name}")
    if config.get("weighted_metrics"):
        raise ValueError(f"weighted_metrics={config['weighted_metrics']!r} is not supported by minikeras.")
    return {"optimizer": {"class_name": class_name, "config": opt_config},
            "loss": _function_name(config.get("loss"), "loss"),
            "metrics": _function_name(_one_metric_list(config.get("metrics") or []), "metric"),
            "loss_weights": config.get("loss_weights")}
