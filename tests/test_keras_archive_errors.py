"""Bad ``.keras`` archives: each refused with an error naming the file and the member, before
anything is extracted (nothing is ever written outside the target), leaving no partial model;
a failed save leaves the previous file as it was."""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from minikeras import backend as K
from minikeras import saving
from minikeras.layers import BatchNormalization, Dense, Input, Lambda
from minikeras.models import Model, Sequential
from minikeras.saving import ModelFileError


@pytest.fixture(autouse=True)
def fresh_session() -> None:
    K.clear_session()
    np.random.seed(1234)


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    model = Sequential([Dense(6, activation="relu", input_shape=(4,)), BatchNormalization(), Dense(3)])
    model.compile("adam", "mse")
    model.fit(np.random.rand(8, 4), np.random.rand(8, 3), verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    return path


def _rewrite(path: Path, edit: Callable[[dict[str, bytes]], None]) -> None:
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    edit(members)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def _edit_weights(members: dict[str, bytes], edit: Callable[[h5py.File], None]) -> None:
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "a") as f:
        edit(f)
    members["model.weights.h5"] = buffer.getvalue()


def _edit_config(members: dict[str, bytes], edit: Callable[[dict[str, Any]], None]) -> None:
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()


def _refused(path: Path, message: str) -> None:
    """Loading fails with ``message``, and neither the folder nor its parent gains a file."""
    before = sorted(path.parent.parent.rglob("*"))
    with pytest.raises(ModelFileError, match=message):
        saving.load_model(path)
    assert sorted(path.parent.parent.rglob("*")) == before


def test_truncated_zip(saved: Path) -> None:
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) * 2 // 3])
    _refused(saved, r"m\.keras: is a zip archive that cannot be read as a \.keras file: it is truncated"
                    r".*The last member that begins in it, 'model\.weights\.h5', is cut off")


def test_damaged_member(saved: Path) -> None:
    data = bytearray(saved.read_bytes())
    start = data.index(b"\x89HDF")  # the weights member, stored uncompressed
    data[start + 2000: start + 2010] = b"\x00" * 10
    saved.write_bytes(bytes(data))
    _refused(saved, r"m\.keras: member 'model\.weights\.h5' cannot be read: the archive is truncated or "
                    r"damaged \(Bad CRC-32")


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/etc/x", "C:/x", "a\\..\\x"])
def test_member_escaping_the_archive(saved: Path, name: str) -> None:
    _rewrite(saved, lambda members: members.update({name: b"boom"}))
    _refused(saved, re.escape(f"m.keras: member {name!r} is refused"))


def test_member_twice(saved: Path) -> None:
    with zipfile.ZipFile(saved, "a") as z, pytest.warns(UserWarning, match="Duplicate name"):
        z.writestr("config.json", b"{}")
    _refused(saved, r"m\.keras: member 'config\.json' is refused: it appears twice")


def test_unknown_class_in_config(saved: Path) -> None:
    def rename(config: dict[str, Any]) -> None:
        config["config"]["layers"][2]["class_name"] = "FancyLayer"

    _rewrite(saved, lambda members: _edit_config(members, rename))
    _refused(saved, r"m\.keras: member 'config\.json': cannot rebuild the model from its config: "
                    r"layer 'batch_normalization_1' \(FancyLayer\): Unknown layer: FancyLayer")


def test_weights_missing_a_variable(saved: Path) -> None:
    def drop(f: h5py.File) -> None:
        del f["layers/batch_normalization/vars/3"]

    _rewrite(saved, lambda members: _edit_weights(members, drop))
    _refused(saved, r"m\.keras: member 'model\.weights\.h5': layers/batch_normalization: layer "
                    r"'batch_normalization_1' has 4 variables .*layers/batch_normalization/vars/3 is missing")


def test_weights_with_a_wrong_shape(saved: Path) -> None:
    def reshape(f: h5py.File) -> None:
        del f["layers/dense_1/vars/0"]
        f["layers/dense_1/vars/0"] = np.zeros((6, 2), "float32")

    _rewrite(saved, lambda members: _edit_weights(members, reshape))
    _refused(saved, r"member 'model\.weights\.h5': layers/dense_1/vars/0 has shape \(6, 2\)")


def test_huge_claimed_size(saved: Path) -> None:
    """The central directory says the weights expand to ~4 GB: refused before reading a byte."""
    data = bytearray(saved.read_bytes())
    entry = data.index(b"PK\x01\x02model.weights.h5"[:4], data.index(b"PK\x05\x06") - 200)
    while data[entry + 46: entry + 46 + 16] != b"model.weights.h5":
        entry = data.index(b"PK\x01\x02", entry + 1)
    data[entry + 24: entry + 28] = struct.pack("<I", 0xFFFFFF00)  # uncompressed size
    saved.write_bytes(bytes(data))
    _refused(saved, r"m\.keras: member 'model\.weights\.h5' claims 4,294,967,040 bytes uncompressed .*zip bomb")


def test_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "m.keras"
    path.write_text("I am not a model")
    _refused(path, r"m\.keras: is a zip archive that cannot be read|m\.keras: .*not a zip file")


def test_missing_member(saved: Path) -> None:
    _rewrite(saved, lambda members: members.pop("model.weights.h5"))
    _refused(saved, r"m\.keras: member 'model\.weights\.h5' is missing")


# --- no code from a file ---------------------------------------------------------------------------

def double(x: Any) -> Any:
    return x * 2


def test_lambda_refused_unless_safe_mode_off_and_function_given(tmp_path: Path) -> None:
    x = Input((3,))
    model = Model(x, Dense(2)(Lambda(double)(x)))
    model.save(tmp_path / "m.keras")
    data = np.random.rand(4, 3)
    with pytest.raises(ModelFileError, match=r"m\.keras: member 'config\.json': the model has Lambda layers "
                                             r"\['lambda_1'\].*safe_mode=False"):
        saving.load_model(tmp_path / "m.keras")
    with pytest.raises(ModelFileError, match="double"):
        saving.load_model(tmp_path / "m.keras", safe_mode=False)  # named, but the code is never read
    loaded = saving.load_model(tmp_path / "m.keras", safe_mode=False, custom_objects={"double": double})
    np.testing.assert_allclose(loaded.predict(data), model.predict(data), atol=1e-6)


# --- saving is atomic ------------------------------------------------------------------------------

def test_failed_save_keeps_the_old_file(saved: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = saved.read_bytes()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    model = Sequential([Dense(2, input_shape=(4,))])
    monkeypatch.setattr(zipfile.ZipFile, "writestr", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(saved)
    assert saved.read_bytes() == old
    assert sorted(p.name for p in saved.parent.iterdir()) == ["m.keras"]  # no temporary file left


def test_overwrite_false(saved: Path) -> None:
    with pytest.raises(FileExistsError, match="overwrite=False"):
        saving.save_model(Sequential([Dense(2, input_shape=(4,))]), saved, overwrite=False)
