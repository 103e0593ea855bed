"""A model rebuilt from a config that came from outside: every way it can be wrong is a
``ValueError`` that names the layer and the field, never an ``AttributeError`` from inside.

Three lines of defence, in order:

1. ``config_check.py`` checks every field against what the layer's constructor declares;
2. while the layers are built, ``add_weight`` asks a ``WeightCheck`` before allocating;
3. anything that still goes wrong inside a constructor, ``build`` or ``call`` (an
   ``IndexError``, a ``RecursionError``, ...) becomes a ``ConfigError`` naming the layer at
   work: the innermost layer method on the error's traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ..engine import Layer, deserialize_layer
from .config_check import ConfigError, check_model_config
from .hdf5 import ModelFileError
from .keras3 import normalize_entry, normalize_model_config
from .weight_check import WeightCheck, checking_weights

#: What building from a malformed config raises from deep inside (MemoryError: numpy refusing
#: a huge array a config asked for; RuntimeError: numpy given a list nested 33 deep, and
#: RecursionError, which is one).
MALFORMED = (TypeError, KeyError, AttributeError, IndexError, ValueError, RuntimeError, OverflowError,
             ZeroDivisionError, MemoryError)


def lambda_layers(data: Any) -> list[str]:
    """The names of the ``Lambda`` layers in a (normalised) config, nested models included."""
    found = []
    if isinstance(data, dict):
        if data.get("class_name") == "Lambda":
            config = data.get("config") or {}
            found.append(str(config.get("name", data.get("name", "?"))))
        for value in data.values():
            found += lambda_layers(value)
    elif isinstance(data, list):
        for value in data:
            found += lambda_layers(value)
    return found


#: Functions whose local ``data`` is the ``{"class_name", "config"}`` of the layer they work on.
_ON_AN_ENTRY = {deserialize_layer.__code__, normalize_entry.__code__}


def _culprit(error: BaseException) -> str:
    """``"layer 'dense_2' (Dense): "`` for the innermost layer at work when ``error`` was raised.

    The traceback holds every frame from here to the ``raise``: the deepest one that is a
    method of a layer (its ``self``), or that reads or rebuilds one layer's entry of the
    config (its ``data``), names the culprit, however deep inside the layer the error arose.
    """
    found = ""
    tb = error.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        obj, data = frame.f_locals.get("self"), frame.f_locals.get("data")
        if isinstance(obj, Layer) and isinstance(obj.__dict__.get("name"), str):
            found = f"layer {obj.name!r} ({type(obj).__name__}): "
        elif frame.f_code in _ON_AN_ENTRY and isinstance(data, dict):
            config = data.get("config")
            name = config.get("name") if isinstance(config, dict) else None
            name = name if isinstance(name, str) else data.get("name")
            found = f"layer {name!r} ({data.get('class_name')}): " if isinstance(name, str) else found
        tb = tb.tb_next
    return found


def _describe(error: BaseException) -> str:
    if isinstance(error, KeyError) and error.args and isinstance(error.args[0], str):
        return f"the field {error.args[0]!r} is missing (KeyError)"
    if isinstance(error, RecursionError):
        return "the config nests too deeply to be built (RecursionError)"
    text = str(error) or type(error).__name__
    return text if type(error) is ValueError else f"{text} ({type(error).__name__})"


@contextlib.contextmanager
def as_config_error(what: str) -> Iterator[None]:
    """Errors raised in the block as ``ConfigError("<what>: <layer>: <problem>")``."""
    try:
        yield
    except ModelFileError:
        raise
    except ConfigError as e:  # already names the layer and the field
        raise ConfigError(f"{what}: {e}") from e
    except MALFORMED as e:
        raise ConfigError(f"{what}: {_culprit(e)}{_describe(e)}") from e


def rebuild_model(config: Any, custom_objects: dict[str, Any] | None, safe_mode: bool,
                  check: WeightCheck) -> Any:
    """The model (or layer) ``config`` describes, its weights freshly made but checked by ``check``.

    ``safe_mode`` refuses ``Lambda`` layers (a file may name a function, never choose the code).
    """
    with as_config_error("cannot read the model config"):
        data = normalize_model_config(config, custom_objects)
        check_model_config(data, custom_objects)
    lambdas = lambda_layers(data)
    if lambdas and safe_mode:
        raise ConfigError(f"the model has Lambda layers {lambdas}, and loading them is refused in safe_mode "
                          "(the default). A Lambda layer runs a Python function; a file can name one but "
                          "should never choose the code you run. If you trust this file, pass "
                          "safe_mode=False and custom_objects={'<function name>': your_function}: "
                          "minikeras never runs code stored in a file.")
    with as_config_error("cannot rebuild the model from its config"), checking_weights(check):
        return deserialize_layer(data, custom_objects)
