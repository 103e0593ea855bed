"""Hostile model files (issue 19, point 5): a config declaring weights the file does not hold is
refused before anything is allocated; JSON nested deeper than a fixed limit is refused before it
is parsed; a malformed config is a ``ModelFileError`` (``ValueError`` without a file) naming the
file, the layer and the field; a file another process is writing is reported as locked."""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import pytest

from minikeras import saving
from minikeras.layers import Dense, Dropout, Embedding, Input
from minikeras.models import Model, Sequential
from minikeras.saving import ModelFileError
from minikeras.saving.json_text import MAX_JSON_DEPTH


def _model() -> Sequential:
    return Sequential([Dense(6, activation="relu", input_shape=(4,), name="hidden"), Dropout(0.5, name="drop"),
                       Dense(3, name="out")])


@pytest.fixture(params=["h5", "keras"])
def saved(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    path = tmp_path / f"m.{request.param}"
    _model().save(path)
    return path


def _edit_config(path: Path, edit: Callable[[dict[str, Any]], Any]) -> None:
    """Rewrite the model config inside an .h5 file or a .keras archive (``edit`` changes it in
    place, or returns the JSON text to write instead)."""
    if path.suffix == ".h5":
        with h5py.File(path, "a") as f:
            config = json.loads(f.attrs["model_config"])
            text = _text(config, edit)
            f.attrs["model_config"] = text.encode()
        return
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    members["config.json"] = _text(json.loads(members["config.json"]), edit).encode()
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def _text(config: dict[str, Any], edit: Callable[[dict[str, Any]], Any]) -> str:
    result = edit(config)
    return result if isinstance(result, str) else json.dumps(config)


def _layer(config: dict[str, Any], name: str) -> dict[str, Any]:
    layer = next(e for e in config["config"]["layers"] if e["config"]["name"] == name)
    return layer["config"]  # type: ignore[no-any-return]


def _refused(path: Path, pattern: str) -> ModelFileError:
    with pytest.raises(ModelFileError) as info:
        saving.load_model(path)
    assert str(info.value).startswith(str(path)), info.value
    assert info.match(pattern)
    return info.value


# --- weights the file does not hold -----------------------------------------------------------------


def test_a_60_gb_kernel_is_refused_not_allocated(saved: Path) -> None:
    _edit_config(saved, lambda c: _layer(c, "out").update(units=4_000_000_000))
    assert saved.stat().st_size < 100_000
    tracemalloc.start()
    try:
        _refused(saved, r"layer 'out' \(Dense\) declares its weight 'kernel' with shape \(6, 4000000000\) "
                        r"\(96\.0 GB\), more than the file holds.*refusing to allocate it.*units=4000000000")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000


def test_a_huge_input_shape_is_refused_at_the_first_kernel(saved: Path) -> None:
    def widen(config: dict[str, Any]) -> None:
        first = config["config"]["layers"][0]["config"]
        first["batch_shape" if "batch_shape" in first else "batch_input_shape"] = [None, 10**12]

    _edit_config(saved, widen)
    _refused(saved, r"layer 'hidden' \(Dense\) declares its weight 'kernel' with shape \(1000000000000, 6\)")


def test_a_negative_size_names_the_layer_the_weight_and_the_field(saved: Path) -> None:
    _edit_config(saved, lambda c: _layer(c, "hidden").update(units=-6))
    _refused(saved, r"layer 'hidden' \(Dense\) declares its weight 'kernel' with shape \(4, -6\): a size must "
                    r"be an integer >= 0, -6 is not\. \(its config has units=-6\)")


def test_a_small_mismatch_still_gets_the_loaders_message(saved: Path) -> None:
    """Within what the file holds, the weight loader decides, and names both shapes."""
    _edit_config(saved, lambda c: _layer(c, "out").update(units=2))
    _refused(saved, r"shape \(6, 3\).*\(6, 2\)|\(6, 2\).*\(6, 3\)")


def test_model_from_json_refuses_a_weight_larger_than_memory() -> None:
    config = json.loads(_model().to_json())
    config["config"]["layers"][1]["config"]["units"] = 10**13
    with pytest.raises(ValueError, match=r"layer 'hidden' \(Dense\) declares its weight 'kernel' with shape "
                                         r"\(4, 10000000000000\) \(160\.0 TB\), more than this machine's memory"):
        saving.model_from_json(json.dumps(config))


# --- nesting --------------------------------------------------------------------------------------


def test_deep_json_is_refused_before_parsing() -> None:
    for text in ("[" * 100_000 + "]" * 100_000, '{"a":' * 5000 + "1" + "}" * 5000):
        with pytest.raises(ValueError, match=rf"model_from_json: the text nests brackets \d+ levels deep.*"
                                             rf"at most {MAX_JSON_DEPTH}"):
            saving.model_from_json(text)
    # brackets inside strings are text, not nesting
    with pytest.raises(ValueError, match=r"Unknown layer: \[\[\["):
        saving.model_from_json(json.dumps({"class_name": "[" * 10_000, "config": {}}))


def test_deep_json_in_a_file(saved: Path) -> None:
    _edit_config(saved, lambda c: "[" * 50_000 + "]" * 50_000)
    _refused(saved, r"nests brackets 50000 levels deep")


def test_deep_nesting_inside_a_field(saved: Path) -> None:
    def deepen(config: dict[str, Any]) -> None:
        value: Any = "relu"
        for _ in range(MAX_JSON_DEPTH + 5):
            value = [value]
        _layer(config, "hidden")["activation"] = value

    _edit_config(saved, deepen)
    _refused(saved, r"nests brackets \d+ levels deep")


def test_twenty_nested_models_are_within_the_limit(tmp_path: Path) -> None:
    model: Any = Sequential([Dense(2, input_shape=(2,))])
    for _ in range(20):
        x = Input((2,))
        model = Model(x, model(x))
    for name in ("m.h5", "m.keras"):
        model.save(tmp_path / name)
        assert saving.load_model(tmp_path / name).count_params() == 6
    assert saving.model_from_json(model.to_json()).count_params() == 6


# --- malformed configs: the file, the layer, the field -----------------------------------------------


@pytest.mark.parametrize(("edit", "pattern"), [
    (lambda c: _layer(c, "out").update(units="abc"),
     r"layer 'out' \(Dense\): the field 'units' should be an integer, found 'abc' \(a str\)"),
    (lambda c: _layer(c, "out").update(units=3.5),
     r"layer 'out' \(Dense\): the field 'units' should be an integer, found 3\.5 \(a float\)"),
    (lambda c: _layer(c, "out").pop("units"),
     r"layer 'out' \(Dense\): the field 'units' is missing from its config"),
    (lambda c: _layer(c, "out").update(kernel_initializer=[1, 2]),
     r"layer 'out' \(Dense\): the field 'kernel_initializer' should be null, a name or a \{'class_name', "
     r"'config'\} dict, found \[1, 2\] \(a list\)"),
    (lambda c: _layer(c, "drop").update(rate="half"),
     r"layer 'drop' \(Dropout\): the field 'rate' should be a number, found 'half'"),
    (lambda c: _layer(c, "hidden").update(use_bias=[]),
     r"layer 'hidden' \(Dense\): the field 'use_bias' should be true or false, found \[\]"),
    (lambda c: _layer(c, "drop").update(rate=7),
     r"layer 'drop' \(Dropout\): Dropout rate must be in \[0, 1\)"),
    (lambda c: c["config"].update(layers={"a": 1}),
     r"the field 'layers' of a Sequential should be a list of layer configs, found \{'a': 1\}"),
    (lambda c: c["config"]["layers"][3].update(class_name="NoSuchLayer"),
     r"Unknown layer: NoSuchLayer"),
    (lambda c: c["config"]["layers"][3].update(config=["units", 3]),
     r"The config of a Dense should be a dict"),
])
def test_malformed_fields_name_the_file_layer_and_field(saved: Path, edit: Callable[[dict[str, Any]], Any],
                                                        pattern: str) -> None:
    _edit_config(saved, edit)
    _refused(saved, pattern)


def test_malformed_functional_wiring(tmp_path: Path) -> None:
    x = Input((4,), name="x")
    model = Model(x, Dense(2, name="d")(Dense(3, name="h")(x)))
    path = tmp_path / "f.h5"
    model.save(path)

    def node(c: dict[str, Any]) -> dict[str, Any]:
        return c["config"]["layers"][2]["inbound_nodes"][0]  # type: ignore[no-any-return]

    for edit, pattern in [
        (lambda c: node(c)[0].__setitem__(0, "ghost"),
         r"layer 'd' \(Dense\) of layer .*: the field 'inbound_nodes' names the layer 'ghost', which the "
         r"model does not have"),
        (lambda c: node(c)[0].__setitem__(2, 5), r"The config of layer 'd' takes output 5 of call 0 of layer 'h', which does not exist"),
        (lambda c: node(c).__setitem__(0, {"a": 1}),
         r"Layer 'd': an entry of 'inbound_nodes' should be \[layer name, node index, tensor index, kwargs\], "
         r"found \{'a': 1\}"),
        (lambda c: c["config"].update(output_layers=[]), r"the field 'output_layers' is empty"),
        (lambda c: c["config"]["layers"][2].update(name="h"), r"two layers are named 'h'"),
    ]:
        model.save(path)
        _edit_config(path, edit)
        _refused(path, pattern)


def test_model_from_json_errors_are_value_errors_naming_layer_and_field() -> None:
    config = json.loads(_model().to_json())
    config["config"]["layers"][1]["config"]["units"] = {"oops": 1}
    with pytest.raises(ValueError, match=r"layer 'hidden' \(Dense\): the field 'units' should be an integer"):
        saving.model_from_json(json.dumps(config))
    with pytest.raises(ValueError, match=r"Improper config format"):
        saving.model_from_config({"config": {}})


# --- a file another process is writing ------------------------------------------------------------------


def test_a_file_locked_by_another_process_is_reported_as_locked(tmp_path: Path) -> None:
    path = tmp_path / "busy.h5"
    _model().save(path)
    writer = subprocess.Popen(
        [sys.executable, "-c", "import sys, h5py; f = h5py.File(sys.argv[1], 'a'); print('open', flush=True); "
         "sys.stdin.read()", str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "open"
        try:
            h5py.File(path, "r").close()
        except OSError:
            pass  # locked, as HDF5 does by default
        else:
            pytest.skip("HDF5 file locking is off here (HDF5_USE_FILE_LOCKING=FALSE, or the file system)")
        for load in (saving.load_model, lambda p: saving.load_weights(_model(), p)):
            with pytest.raises(ModelFileError) as info:
                load(path)
            message = str(info.value)
            assert message.startswith(f"{path}: the file is locked: another process holds it open for writing")
            assert "h5clear" in message and "truncated" not in message
    finally:
        writer.communicate("", timeout=30)
    assert saving.load_model(path).count_params() == 51


def test_errors_from_deep_inside_name_the_layer() -> None:
    """An initializer option nested 40 lists deep (within the JSON limit) makes numpy raise a
    RuntimeError while the weight is filled: reported as a ValueError naming the layer."""
    x = Input((3,), dtype="int32")
    config = json.loads(Model(x, Embedding(5, 2, name="words")(x)).to_json())
    value: Any = -0.05
    for _ in range(40):
        value = [value]
    config["config"]["layers"][1]["config"]["embeddings_initializer"]["config"]["minval"] = value
    with pytest.raises(ValueError, match=r"cannot rebuild the model from its config: layer 'words' "
                                         r"\(Embedding\): .*\(RuntimeError\)"):
        saving.model_from_json(json.dumps(config))
