"""Keras 3's ``.keras`` archives and ``.weights.h5`` files, without Keras: the layout Keras 3
reads (checked against files real Keras 3 wrote, see test_keras3_archive_interop.py), round
trips, training that continues exactly, the format chosen by extension or ``save_format``."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from minikeras import backend as K
from minikeras import saving
from minikeras.layers import (
    Activation,
    Add,
    AveragePooling2D,
    BatchNormalization,
    Concatenate,
    Conv2D,
    Dense,
    Dot,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    Input,
    Maximum,
    MaxPooling2D,
    Minimum,
    Multiply,
    Reshape,
    Subtract,
)
from minikeras.models import Model, Sequential
from minikeras.optimizers import SGD, Adagrad, Adam, RMSprop


@pytest.fixture(autouse=True)
def fresh_session() -> None:
    K.clear_session()
    np.random.seed(1234)


def dense_sequential() -> Sequential:
    return Sequential([Dense(6, activation="relu", input_shape=(4,)), BatchNormalization(),
                       Dense(3, activation="softmax")])


def every_layer() -> Model:
    """Every layer kind minikeras has, in one functional model with a nested Sequential."""
    a, b = Input((6,), name="a"), Input((6,), name="b")
    image = Input((6, 6, 1), name="image")
    ids = Input((4,), dtype="int32", name="ids")
    h = Activation("tanh")(Dense(6)(a))
    merged = [Add()([h, b]), Subtract()([h, b]), Multiply()([h, b]), Maximum()([h, b]), Minimum()([h, b]),
              Dot(axes=1, normalize=True)([h, b])]
    conv = Conv2D(2, 3, padding="same", activation="relu")(image)
    pooled = [GlobalMaxPooling2D()(conv), GlobalAveragePooling2D()(AveragePooling2D()(conv)),
              Flatten()(MaxPooling2D(pool_size=(3, 3))(conv))]
    embedded = Flatten()(Reshape((2, 6))(Embedding(10, 3)(ids)))
    stack = Sequential([Dense(5, input_shape=(6,), activation="relu"), Dropout(0.5)], name="stack")
    out = Concatenate()(merged + pooled + [embedded, stack(b)])
    return Model([a, b, image, ids], Dense(2)(BatchNormalization()(out)))


def _inputs(model: Model, n: int = 8) -> Any:
    arrays = []
    for x in model.inputs:
        shape = (n,) + tuple(K.int_shape(x)[1:])
        arrays.append(np.random.randint(0, 10, shape) if K.dtype(x).startswith("int") else np.random.rand(*shape))
    return arrays[0] if len(arrays) == 1 else arrays


def _trained(model: Model, optimizer: Any = "adam") -> Model:
    x = _inputs(model, 16)
    model.compile(optimizer, "mse")
    model.fit(x, np.random.rand(16, K.int_shape(model.outputs[0])[-1]), epochs=2, batch_size=8, verbose=0)
    return model


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def _weights(path: Path) -> h5py.File:
    return h5py.File(io.BytesIO(_members(path)["model.weights.h5"]), "r")


# --- the layout ----------------------------------------------------------------------------------

def test_archive_holds_keras3_members_config_and_weight_paths(tmp_path: Path) -> None:
    model = _trained(dense_sequential(), Adam(lr=0.01))
    model.save(tmp_path / "m.keras")
    members = _members(tmp_path / "m.keras")
    assert list(members) == ["metadata.json", "config.json", "model.weights.h5"]
    assert json.loads(members["metadata.json"])["keras_version"].startswith("3.")
    config = json.loads(members["config.json"])
    assert {k: config[k] for k in ("module", "class_name", "registered_name")} == \
        {"module": "keras", "class_name": "Sequential", "registered_name": None}
    assert config["build_config"] == {"input_shape": [None, 4]}
    first, dense = config["config"]["layers"][:2]
    assert first["class_name"] == "InputLayer" and first["config"]["batch_shape"] == [None, 4]
    assert dense["module"] == "keras.layers" and dense["build_config"] == {"input_shape": [None, 4]}
    assert dense["config"]["kernel_initializer"]["module"] == "keras.initializers"
    optimizer = config["compile_config"]["optimizer"]
    assert optimizer["class_name"] == "Adam" and optimizer["config"]["learning_rate"] == pytest.approx(0.01)
    assert config["compile_config"]["loss"] == "mean_squared_error"
    with _weights(tmp_path / "m.keras") as f:
        # Paths follow the class (dense, dense_1), the name attribute the layer (dense_1, dense_2).
        assert f["layers/dense/vars"].attrs["name"] == model.layers[0].name
        np.testing.assert_array_equal(f["layers/dense/vars/0"][()], K.get_value(model.layers[0].kernel))
        np.testing.assert_array_equal(f["layers/dense_1/vars/1"][()], K.get_value(model.layers[2].bias))
        bn = model.layers[1]
        for i, w in enumerate([bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance]):
            np.testing.assert_array_equal(f[f"layers/batch_normalization/vars/{i}"][()], K.get_value(w))
        # Keras 3's optimizer order: iterations, learning rate, then (m, v) of each parameter in turn.
        opt = f["optimizer/vars"]
        assert len(opt) == 2 + 2 * len(model.trainable_weights)
        assert int(opt["0"][()]) == 4 and float(opt["1"][()]) == pytest.approx(0.01)
        slots = model.optimizer._made_slots
        kernel, bias = model.layers[0].kernel, model.layers[0].bias
        np.testing.assert_array_equal(opt["2"][()], K.get_value(slots["m"][kernel]))
        np.testing.assert_array_equal(opt["3"][()], K.get_value(slots["v"][kernel]))
        np.testing.assert_array_equal(opt["4"][()], K.get_value(slots["m"][bias]))


def test_functional_config_records_calls_as_keras3_does(tmp_path: Path) -> None:
    model = every_layer()
    model.save(tmp_path / "m.keras")
    config = json.loads(_members(tmp_path / "m.keras")["config.json"])
    assert (config["class_name"], config["registered_name"]) == ("Functional", "Functional")
    entries = {e["name"]: e for e in config["config"]["layers"]}
    add = entries[next(n for n in entries if n.startswith("add"))]
    tensors = add["inbound_nodes"][0]["args"][0]
    assert [t["class_name"] for t in tensors] == ["__keras_tensor__"] * 2
    assert tensors[1]["config"] == {"shape": [None, 6], "dtype": "float32", "keras_history": ["b", 0, 0]}
    stack_call = next(e for e in entries.values() if e["name"] == "stack")
    assert stack_call["class_name"] == "Functional"  # a nested Sequential, written as what it is
    with _weights(tmp_path / "m.keras") as f:
        assert set(f["layers"]) >= {"input_layer", "input_layer_3", "conv2d", "embedding", "functional",
                                    "dense_1", "batch_normalization"}
        assert f["layers/functional/vars"].attrs["name"] == "stack"  # the real name, as an attribute
        assert f["layers/functional/layers/dense/vars/0"].shape == (6, 5)


def test_same_model_same_bytes(tmp_path: Path) -> None:
    model = _trained(dense_sequential())
    model.save(tmp_path / "a.keras")
    model.save(tmp_path / "b.keras")
    assert _members(tmp_path / "a.keras") == _members(tmp_path / "b.keras")


# --- round trips ----------------------------------------------------------------------------------

def nested_sequential() -> Sequential:
    inner = Sequential([Dense(3, input_shape=(4,)), BatchNormalization()], name="inner")
    return Sequential([inner, Dense(2)])


MODELS: dict[str, Callable[[], Model]] = {"sequential": dense_sequential, "every_layer": every_layer,
                                          "nested_sequential": nested_sequential}


@pytest.mark.parametrize("build", MODELS.values(), ids=MODELS.keys())
def test_round_trip_predicts_the_same(build: Callable[[], Model], tmp_path: Path) -> None:
    model = _trained(build())
    x = _inputs(model)
    model.save(tmp_path / "m.keras")
    loaded = saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), atol=1e-6)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


OPTIMIZERS: dict[str, Callable[[], Any]] = {
    "sgd_momentum": lambda: SGD(lr=0.05, momentum=0.9, nesterov=True), "sgd": lambda: SGD(lr=0.05),
    "adam": lambda: Adam(lr=0.01), "adam_amsgrad": lambda: Adam(lr=0.01, amsgrad=True),
    "rmsprop": lambda: RMSprop(lr=0.01), "adagrad": lambda: Adagrad(lr=0.05),
    "adam_decay": lambda: Adam(lr=0.01, decay=0.1),
}


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_fit_continues_from_the_saved_optimizer_state(make: Callable[[], Any], tmp_path: Path) -> None:
    """Train 2 epochs, save, load, train 2 more: the same weights as 4 epochs without a break."""
    x, y = np.random.rand(24, 4), np.random.rand(24, 3)

    def build() -> Model:
        K.clear_session()
        np.random.seed(5)
        model = dense_sequential()
        model.compile(make(), "mse")
        return model

    straight = build()
    straight.fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0)
    expected = straight.get_weights()
    interrupted = build()
    interrupted.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    interrupted.save(tmp_path / "m.keras")
    K.clear_session()
    resumed = saving.load_model(tmp_path / "m.keras")
    assert int(K.get_value(resumed.optimizer.iterations)) == 6
    resumed.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    for got, want in zip(resumed.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_decay_is_written_as_an_inverse_time_decay_schedule(tmp_path: Path) -> None:
    model = _trained(dense_sequential(), Adam(lr=0.01, decay=0.1))
    model.save(tmp_path / "m.keras")
    schedule = json.loads(_members(tmp_path / "m.keras")["config.json"])["compile_config"]["optimizer"][
        "config"]["learning_rate"]
    assert schedule["class_name"] == "InverseTimeDecay"
    assert schedule["config"] == {"initial_learning_rate": pytest.approx(0.01), "decay_steps": 1,
                                  "decay_rate": pytest.approx(0.1), "staircase": False,
                                  "name": "InverseTimeDecay"}
    with _weights(tmp_path / "m.keras") as f:  # no learning-rate variable beside a schedule
        assert len(f["optimizer/vars"]) == 1 + 2 * len(model.trainable_weights)


def test_uncompiled_and_include_optimizer_false(tmp_path: Path) -> None:
    model = _trained(dense_sequential())
    model.save(tmp_path / "m.keras", include_optimizer=False)
    config = json.loads(_members(tmp_path / "m.keras")["config.json"])
    assert "compile_config" not in config
    with _weights(tmp_path / "m.keras") as f:
        assert "optimizer" not in f
    assert saving.load_model(tmp_path / "m.keras").optimizer is None
    loaded = saving.load_model(tmp_path / "m.keras", compile=False)
    assert loaded.optimizer is None


# --- choosing the format ----------------------------------------------------------------------------

def test_format_from_extension_or_save_format(tmp_path: Path) -> None:
    model = _trained(dense_sequential())
    x = _inputs(model)
    expected = model.predict(x)
    model.save(tmp_path / "m.h5")
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "zip.h5", save_format="keras")
    model.save(tmp_path / "hdf5.keras", save_format="h5")
    assert h5py.is_hdf5(tmp_path / "m.h5") and h5py.is_hdf5(tmp_path / "hdf5.keras")
    assert zipfile.is_zipfile(tmp_path / "m.keras") and zipfile.is_zipfile(tmp_path / "zip.h5")
    for name in ("m.h5", "m.keras", "zip.h5", "hdf5.keras"):  # read by content, whatever the name
        np.testing.assert_allclose(saving.load_model(tmp_path / name).predict(x), expected, atol=1e-6)
    with pytest.raises(ValueError, match="Unknown save_format='tf'.*'keras'.*'h5'"):
        model.save(tmp_path / "m", save_format="tf")
    assert not (tmp_path / "m").exists()


def test_weights_h5_in_keras3_layout_both_ways(tmp_path: Path) -> None:
    model = _trained(every_layer())
    x = _inputs(model)
    expected = model.predict(x)
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5") as f:
        assert "layer_names" not in f.attrs
        assert f["layers/dense/vars/0"].shape == (6, 6)
        assert f["layers/sequential/layers/dense/vars/0"].shape == (6, 5)  # nested Sequential kept
        assert "optimizer/vars" in f
    K.clear_session()
    twin = every_layer()
    twin.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_allclose(twin.predict(x), expected, atol=1e-6)


def test_load_weights_from_a_keras_archive(tmp_path: Path) -> None:
    model = _trained(dense_sequential())
    model.save(tmp_path / "m.keras")
    twin = dense_sequential()
    twin.load_weights(tmp_path / "m.keras")
    x = _inputs(model)
    np.testing.assert_allclose(twin.predict(x), model.predict(x), atol=1e-6)


# --- by_name and skip_mismatch, every format -----------------------------------------------------

def _named(units: int) -> Sequential:
    return Sequential([Dense(3, input_shape=(4,), name="a"), Dense(units, name="b")])


@pytest.mark.parametrize("name", ["w.h5", "w.weights.h5", "m.keras", "m.h5"])
def test_by_name_and_skip_mismatch_in_every_format(name: str, tmp_path: Path) -> None:
    source = _named(2)
    path = tmp_path / name
    source.save(path) if name.startswith("m.") else source.save_weights(path)
    target = Sequential([Dense(3, input_shape=(4,), name="a"), Dense(7, name="b"), Dense(1, name="new")])
    before = target.get_weights()
    with pytest.raises(saving.ModelFileError, match=r"\(3, 2\).*\(3, 7\)"):
        target.load_weights(path, by_name=True)
    for got, want in zip(target.get_weights(), before):  # nothing was loaded
        np.testing.assert_array_equal(got, want)
    with pytest.warns(UserWarning, match=r"Skipping loading of weights for layer 'b' due to mismatch in shape"):
        target.load_weights(path, by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(target.get_layer("a").get_weights()[0], source.get_layer("a").get_weights()[0])
    np.testing.assert_array_equal(target.get_layer("b").get_weights()[0], before[2])
    np.testing.assert_array_equal(target.get_layer("new").get_weights()[0], before[4])


def test_optimizer_saved_before_its_first_step(tmp_path: Path) -> None:
    """As Keras 3 saves an unbuilt optimizer: its step count and learning rate only."""
    model = dense_sequential()
    model.compile(Adam(lr=0.02), "mse")
    model.save(tmp_path / "m.keras")
    with _weights(tmp_path / "m.keras") as f:
        assert sorted(f["optimizer/vars"]) == ["0", "1"]
        assert float(f["optimizer/vars/1"][()]) == pytest.approx(0.02)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = saving.load_model(tmp_path / "m.keras")
    assert float(K.get_value(loaded.optimizer.lr)) == pytest.approx(0.02)
    assert np.isfinite(loaded.train_on_batch(np.random.rand(4, 4), np.random.rand(4, 3)))
