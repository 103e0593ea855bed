"""A config fuzzer (issue 19, point 5): real model configs, mutated by hypothesis (keys deleted,
types changed, lists and dicts swapped, huge and negative numbers, deep nesting, wrong class
names), written into real ``.h5`` files and ``.keras`` archives and given as JSON text. Loading
either works or fails with ``ModelFileError`` naming the file (``ValueError`` for JSON text):
never an ``AttributeError``, ``IndexError``, ``KeyError``, ``TypeError`` or ``RecursionError``
from inside, and never an allocation the file cannot fill."""

from __future__ import annotations

import copy
import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from saving_models import conv_sequential, dense_sequential, multi_input_model, nested_model

from minikeras import backend as K
from minikeras import saving
from minikeras.saving import ModelFileError
from minikeras.saving.json_text import MAX_JSON_DEPTH

_BUILDERS = [dense_sequential, conv_sequential, multi_input_model, nested_model]


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[dict[str, Any]]]:
    """For each model: its .h5 file, its .keras archive, and the config each holds."""
    folder = tmp_path_factory.mktemp("originals")
    out = []
    for i, build in enumerate(_BUILDERS):
        K.clear_session()
        model = build()
        if i % 2:
            model.compile("adam", "mse")  # a training_config / compile_config to mutate too
        h5, keras = folder / f"m{i}.h5", folder / f"m{i}.keras"
        model.save(h5)
        model.save(keras)
        with h5py.File(h5, "r") as f:
            h5_configs = {name: json.loads(f.attrs[name]) for name in ("model_config", "training_config")
                          if name in f.attrs}
        with zipfile.ZipFile(keras) as z:
            keras_config = json.loads(z.read("config.json"))
        out.append({"h5": h5, "keras": keras, "h5_configs": h5_configs, "keras_config": keras_config,
                    "json_config": json.loads(model.to_json())})
    K.clear_session()
    yield out


# --- mutations -----------------------------------------------------------------------------------------

_HUGE = [10**12, 2**62, 10**100, 1e300, -1e300]
_NEGATIVE = [-1, -7, -(2**62)]
_ODD = ["abc", "", None, True, False, 0, 0.5, float("nan"), [], {}, [1, 2], {"class_name": 3},
        "NoSuchLayer", "Dense", "Sequential", "Model", "__keras_tensor__"]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*path, i))


def _nest(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


def _swap(value: Any) -> Any:
    """A list where a dict was and the other way round; a scalar wrapped in one."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    return [value]


@st.composite
def mutations(draw: st.DrawFn, config: Any) -> Any:
    """``config`` with one to three places changed."""
    config = copy.deepcopy(config)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(config))
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["delete", "swap", "huge", "negative", "odd", "deep", "shallow_deep",
                                     "class_name"]))
        if not path:
            config = _swap(config) if kind == "swap" else draw(st.sampled_from(_ODD))
            continue
        parent = config
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        if kind == "delete":
            del parent[key]
        elif kind == "swap":
            parent[key] = _swap(parent[key])
        elif kind == "huge":
            parent[key] = draw(st.sampled_from(_HUGE))
        elif kind == "negative":
            parent[key] = draw(st.sampled_from(_NEGATIVE))
        elif kind == "odd":
            parent[key] = draw(st.sampled_from(_ODD))
        elif kind == "deep":
            parent[key] = _nest(parent[key], MAX_JSON_DEPTH + draw(st.integers(1, 300)))
        elif kind == "shallow_deep":  # deep, but within the limit: the rest must cope with it
            parent[key] = _nest(parent[key], draw(st.integers(2, 60)))
        elif isinstance(parent, dict) and "class_name" in parent:
            parent["class_name"] = draw(st.sampled_from(["NoSuchLayer", "Dense", "Conv2D", "Sequential",
                                                         "Model", "Functional", "InputLayer", "Lambda",
                                                         "Merge", "BatchNormalization"]))
    return config


# --- loading them ----------------------------------------------------------------------------------------

_FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _load_or_refuse(path: Path) -> None:
    try:
        saving.load_model(path)
    except ModelFileError as e:
        assert str(e).startswith(str(path)), e


@_FUZZ
@given(data=st.data(), which=st.integers(0, len(_BUILDERS) - 1))
def test_mutated_h5_files(originals: list[dict[str, Any]], tmp_path: Path, data: st.DataObject,
                          which: int) -> None:
    original = originals[which]
    name = data.draw(st.sampled_from(sorted(original["h5_configs"])), label="attribute")
    config = data.draw(mutations(original["h5_configs"][name]), label=name)
    path = tmp_path / "fuzzed.h5"
    shutil.copyfile(original["h5"], path)
    with h5py.File(path, "a") as f:
        f.attrs[name] = json.dumps(config).encode()
    K.clear_session()
    _load_or_refuse(path)


@_FUZZ
@given(data=st.data(), which=st.integers(0, len(_BUILDERS) - 1))
def test_mutated_keras_archives(originals: list[dict[str, Any]], tmp_path: Path, data: st.DataObject,
                                which: int) -> None:
    original = originals[which]
    config = data.draw(mutations(original["keras_config"]), label="config.json")
    path = tmp_path / "fuzzed.keras"
    with zipfile.ZipFile(original["keras"]) as z:
        members = {name: z.read(name) for name in z.namelist()}
    members["config.json"] = json.dumps(config).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    path.write_bytes(buffer.getvalue())
    K.clear_session()
    _load_or_refuse(path)


@_FUZZ
@given(data=st.data(), which=st.integers(0, len(_BUILDERS) - 1))
def test_mutated_json_text(originals: list[dict[str, Any]], data: st.DataObject, which: int) -> None:
    config = data.draw(mutations(originals[which]["json_config"]), label="json")
    K.clear_session()
    try:
        saving.model_from_json(json.dumps(config))
    except TypeError as e:  # Keras 2.2's own error for a list given as the whole config
        assert isinstance(config, list) and "expects a dictionary" in str(e)
    except ValueError:
        pass
