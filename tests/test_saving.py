"""Saving: .h5 files in Keras's layout, JSON configs, files written by Keras 3 and tf.keras,
and every refusal (links, shape bombs, Lambda layers, foreign and broken files, failed saves)."""

from __future__ import annotations

import json
import os
import pickle
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from minikeras import backend as K
from minikeras import saving
from minikeras.layers import (
    AveragePooling2D,
    BatchNormalization,
    Concatenate,
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling2D,
    Input,
    Lambda,
    MaxPooling2D,
    concatenate,
)
from minikeras.models import Model, Sequential
from minikeras.optimizers import SGD, Adagrad, Adam, RMSprop
from minikeras.saving import ModelFileError


@pytest.fixture(autouse=True)
def fresh_session() -> None:
    K.clear_session()
    np.random.seed(1234)


# --- models ------------------------------------------------------------------------------

def dense_sequential() -> Sequential:
    return Sequential([Dense(6, activation="relu", input_shape=(4,)), BatchNormalization(),
                       Dropout(0.3), Dense(3, activation="softmax")])


def conv_sequential() -> Sequential:
    return Sequential([Conv2D(3, 3, padding="same", activation="relu", input_shape=(8, 8, 2)),
                       BatchNormalization(), MaxPooling2D(), Conv2D(4, 2), AveragePooling2D(),
                       Flatten(), Dropout(0.2), Dense(2)])


def multi_input_model() -> Model:
    ids = Input((5,), dtype="int32", name="ids")
    features = Input((3,), name="features")
    embedded = Flatten()(Embedding(10, 4)(ids))
    h = concatenate([Dense(6, activation="tanh")(embedded), features])
    h = BatchNormalization()(h)
    return Model([ids, features], Dense(2)(Dropout(0.5)(h)))


def nested_model() -> Model:
    """A functional model with a nested functional model and a nested Sequential (with BN)."""
    inner_in = Input((5,))
    inner = Model(inner_in, Dense(3, activation="relu")(BatchNormalization()(inner_in)), name="inner")
    stack = Sequential([Dense(4, input_shape=(3,)), BatchNormalization(), Dense(2)], name="stack")
    images = Input((6, 6, 1))
    vector = Input((2,))
    h = GlobalAveragePooling2D()(Conv2D(3, 3)(images))
    h = concatenate([h, vector])
    return Model([images, vector], stack(inner(h)))


def data_for(model: Model, n: int = 7) -> Any:
    """Random inputs for ``model``: one array, or a list for several inputs."""
    arrays = []
    for x in model.inputs:
        shape = (n,) + tuple(K.int_shape(x)[1:])
        if K.dtype(x).startswith("int"):
            arrays.append(np.random.randint(0, 10, shape).astype(K.dtype(x)))
        else:
            arrays.append(np.random.rand(*shape).astype("float32"))
    return arrays[0] if len(arrays) == 1 else arrays


def trained(model: Model, steps: int = 3) -> Model:
    """Weights and BN statistics away from their initial values."""
    x = data_for(model, 16)
    y = np.random.rand(16, K.int_shape(model.outputs[0])[-1])
    model.compile(Adam(lr=0.01), "mse")
    for _ in range(steps):
        model.train_on_batch(x, y)
    return model


MODELS: dict[str, Callable[[], Model]] = {
    "sequential": dense_sequential, "conv": conv_sequential,
    "multi_input": multi_input_model, "nested": nested_model,
}


# --- round trips ------------------------------------------------------------------------------

@pytest.mark.parametrize("build", MODELS.values(), ids=MODELS.keys())
def test_predictions_identical_after_save_clear_session_load(build: Callable[[], Model],
                                                              tmp_path: Path) -> None:
    model = trained(build())
    x = data_for(model)
    expected = model.predict(x)
    layer_names = [layer.name for layer in model.layers]
    saving.save_model(model, tmp_path / "model.h5")
    K.clear_session()
    loaded = saving.load_model(tmp_path / "model.h5")
    np.testing.assert_array_equal(loaded.predict(x), expected)
    assert [layer.name for layer in loaded.layers] == layer_names
    assert type(loaded).__name__ == type(model).__name__
    saving.save_model(loaded, tmp_path / "again.h5")  # a saved config is a fixed point
    assert _file_config(tmp_path / "again.h5") == _file_config(tmp_path / "model.h5")


def _file_config(path: Path) -> Any:
    with h5py.File(path, "r") as f:
        return json.loads(f.attrs["model_config"])


def test_sequential_nested_in_a_functional_model_is_written_as_a_model(tmp_path: Path) -> None:
    """As Keras 3 needs: a nested Sequential becomes a functional model, and the calls of nested
    models are numbered from 0 in inbound nodes (Keras 2 and minikeras count the model's own
    node 0, Keras 3 does not)."""
    model = nested_model()
    saving.save_model(model, tmp_path / "m.h5")
    stack = next(e for e in _file_config(tmp_path / "m.h5")["config"]["layers"] if e["name"] == "stack")
    assert stack["class_name"] == "Model"
    assert [e["name"] for e in stack["config"]["layers"]] == [
        "dense_2_input", "dense_2", "batch_normalization_2", "dense_3"]
    assert stack["config"]["layers"][2]["inbound_nodes"] == [[["dense_2", 0, 0, {}]]]
    assert stack["inbound_nodes"] == [[["inner", 0, 0, {}]]]
    assert saving.model_from_json(saving.model_to_json(model)).get_layer("stack").__class__ is Sequential
    loaded = saving.load_model(tmp_path / "m.h5")
    assert type(loaded.get_layer("stack")) is Model
    sequential = Sequential([Sequential([Dense(2, input_shape=(3,))]), Dense(1)])
    saving.save_model(sequential, tmp_path / "s.h5")
    assert _file_config(tmp_path / "s.h5")["config"]["layers"][1]["class_name"] == "Sequential"


def test_sequential_file_layout_is_keras_2s(tmp_path: Path) -> None:
    model = dense_sequential()
    model.compile(SGD(lr=0.1, momentum=0.9), "mse", metrics=["mae", "acc"])
    model.train_on_batch(np.random.rand(4, 4), np.random.rand(4, 3))
    saving.save_model(model, tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert f.attrs["keras_version"] == b"2.2.4"
        assert f.attrs["backend"] == b"minikeras"
        assert isinstance(f.attrs["model_config"], bytes)
        config = json.loads(f.attrs["model_config"])
        assert config["class_name"] == "Sequential"
        first, second = config["config"]["layers"][:2]
        assert first["class_name"] == "InputLayer"
        assert first["config"]["batch_input_shape"] == [None, 4]
        # The InputLayer fixes the shape; Keras 3 would misread a second copy on the Dense.
        assert "batch_input_shape" not in second["config"]
        training = json.loads(f.attrs["training_config"])
        assert training["optimizer_config"] == {
            "class_name": "SGD", "config": {"learning_rate": pytest.approx(0.1),
                                            "momentum": pytest.approx(0.9), "nesterov": False}}
        assert training["loss"] == "mean_squared_error"
        assert training["metrics"] == ["mean_absolute_error", "acc"]
        assert training["loss_weights"] is None and "sample_weight_mode" in training
        weights = f["model_weights"]
        assert list(weights.attrs["layer_names"]) == [
            b"dense_1", b"batch_normalization_1", b"dropout_1", b"dense_2"]
        assert list(weights["dense_1"].attrs["weight_names"]) == [b"dense_1/kernel:0", b"dense_1/bias:0"]
        assert list(weights["batch_normalization_1"].attrs["weight_names"]) == [
            b"batch_normalization_1/gamma:0", b"batch_normalization_1/beta:0",
            b"batch_normalization_1/moving_mean:0", b"batch_normalization_1/moving_variance:0"]
        assert len(weights["dropout_1"].attrs["weight_names"]) == 0
        kernel = weights["dense_1/dense_1/kernel:0"][()]
        np.testing.assert_array_equal(kernel, model.layers[0].get_weights()[0])
        optimizer = f["minikeras_optimizer_weights"]
        assert list(optimizer.attrs["weight_names"])[:2] == [b"SGD/iterations:0", b"SGD/moment_0:0"]
        assert optimizer["SGD/iterations:0"][()] == 1
        assert "optimizer_weights" not in f  # Keras 3 cannot train a file that has one


def test_functional_layer_names_include_the_inputs(tmp_path: Path) -> None:
    model = multi_input_model()
    saving.save_model(model, tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        names = [n.decode() for n in f["model_weights"].attrs["layer_names"]]
        config = json.loads(f.attrs["model_config"])
    assert names == [layer.name for layer in model.layers] and names[0] == "ids"
    assert config["class_name"] == "Model"
    assert config["config"]["input_layers"] == [["ids", 0, 0], ["features", 0, 0]]


def test_uncompiled_model_has_no_training_config(tmp_path: Path) -> None:
    saving.save_model(dense_sequential(), tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert "training_config" not in f.attrs
        assert "minikeras_optimizer_weights" not in f
    assert saving.load_model(tmp_path / "m.h5").optimizer is None


def test_nested_model_weights_are_trainable_first_as_in_keras(tmp_path: Path) -> None:
    model = nested_model()
    saving.save_model(model, tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        names = [n.decode() for n in f["model_weights/stack"].attrs["weight_names"]]
    assert names == ["dense_2/kernel:0", "dense_2/bias:0", "batch_normalization_2/gamma:0",
                     "batch_normalization_2/beta:0", "dense_3/kernel:0", "dense_3/bias:0",
                     "batch_normalization_2/moving_mean:0", "batch_normalization_2/moving_variance:0"]


def test_sequential_inside_sequential_round_trip(tmp_path: Path) -> None:
    inner = Sequential([Dense(3, activation="relu", input_shape=(4,)), BatchNormalization()])
    model = trained(Sequential([inner, Dense(2)]))
    x = data_for(model)
    expected = model.predict(x)
    saving.save_model(model, tmp_path / "m.h5")
    K.clear_session()
    np.testing.assert_array_equal(saving.load_model(tmp_path / "m.h5").predict(x), expected)


# --- training continues -----------------------------------------------------------------------

OPTIMIZERS: dict[str, Callable[[], Any]] = {
    "sgd_nesterov": lambda: SGD(lr=0.05, momentum=0.9, nesterov=True, decay=0.01),
    "rmsprop": lambda: RMSprop(lr=0.01),
    "adagrad": lambda: Adagrad(lr=0.05),
    "adam": lambda: Adam(lr=0.01, amsgrad=True),
}


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_training_continues_identically_after_reload(make_optimizer: Callable[[], Any],
                                                     tmp_path: Path) -> None:
    model = Sequential([Dense(8, activation="relu", input_shape=(4,)), BatchNormalization(),
                        Dense(3, activation="softmax")])
    model.compile(make_optimizer(), "categorical_crossentropy", metrics=["accuracy"])
    x = np.random.rand(12, 4)
    y = np.eye(3)[np.random.randint(0, 3, 12)]
    for _ in range(3):
        model.train_on_batch(x, y)
    saving.save_model(model, tmp_path / "m.h5")
    expected_losses = [model.train_on_batch(x, y) for _ in range(4)]
    expected = model.get_weights()

    K.clear_session()
    loaded = saving.load_model(tmp_path / "m.h5")
    assert loaded.metrics_names == ["loss", "acc"] or loaded.metrics_names == ["loss", "accuracy"]
    losses = [loaded.train_on_batch(x, y) for _ in range(4)]
    np.testing.assert_array_equal(np.array(losses), np.array(expected_losses))
    for got, want in zip(loaded.get_weights(), expected):
        np.testing.assert_array_equal(got, want)


def test_without_the_optimizer_state_training_differs(tmp_path: Path) -> None:
    model = Sequential([Dense(3, input_shape=(4,))])
    model.compile(Adam(lr=0.01), "mse")
    x, y = np.random.rand(8, 4), np.random.rand(8, 3)
    for _ in range(3):
        model.train_on_batch(x, y)
    saving.save_model(model, tmp_path / "with.h5")
    saving.save_model(model, tmp_path / "without.h5", include_optimizer=False)
    model.train_on_batch(x, y)
    expected = model.get_weights()[0]
    K.clear_session()
    resumed = saving.load_model(tmp_path / "with.h5")
    resumed.train_on_batch(x, y)
    np.testing.assert_array_equal(resumed.get_weights()[0], expected)
    K.clear_session()
    fresh = saving.load_model(tmp_path / "without.h5")
    assert fresh.optimizer is None
    fresh.compile(Adam(lr=0.01), "mse")
    fresh.train_on_batch(x, y)
    assert not np.allclose(fresh.get_weights()[0], expected)


def test_multi_output_compile_settings_survive(tmp_path: Path) -> None:
    x = Input((3,))
    model = Model(x, [Dense(2, name="a")(x), Dense(1, activation="sigmoid", name="b")(x)])
    model.compile("rmsprop", loss=["mse", "binary_crossentropy"], loss_weights=[1.0, 0.5],
                  metrics={"b": ["acc"]})
    saving.save_model(model, tmp_path / "m.h5")
    K.clear_session()
    loaded = saving.load_model(tmp_path / "m.h5")
    assert loaded.metrics_names == model.metrics_names
    assert loaded.loss_weights == [1.0, 0.5]
    assert type(loaded.optimizer).__name__ == "RMSprop"


def test_load_model_compile_false(tmp_path: Path) -> None:
    model = trained(dense_sequential())
    saving.save_model(model, tmp_path / "m.h5")
    assert saving.load_model(tmp_path / "m.h5", compile=False).optimizer is None


def test_custom_loss_needs_custom_objects(tmp_path: Path) -> None:
    def my_loss(y_true: Any, y_pred: Any) -> Any:
        return K.mean(K.abs(y_true - y_pred), axis=-1)

    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile("sgd", my_loss)
    saving.save_model(model, tmp_path / "m.h5")
    with pytest.raises(ModelFileError, match=r"m\.h5.*my_loss.*compile=False"):
        saving.load_model(tmp_path / "m.h5")
    loaded = saving.load_model(tmp_path / "m.h5", custom_objects={"my_loss": my_loss})
    assert loaded.loss_functions == [my_loss]


# --- weights only -----------------------------------------------------------------------------

def test_save_weights_load_weights_by_order_ignores_names(tmp_path: Path) -> None:
    model = trained(dense_sequential())
    saving.save_weights(model, tmp_path / "w.h5")
    with h5py.File(tmp_path / "w.h5", "r") as f:
        assert "model_config" not in f.attrs and "layer_names" in f.attrs
        assert f.attrs["layer_names"][0] == b"dense_1"
    other = dense_sequential()  # same architecture, names dense_3, dense_4, ...
    assert other.layers[0].name != model.layers[0].name
    saving.load_weights(other, tmp_path / "w.h5")
    x = np.random.rand(5, 4)
    np.testing.assert_array_equal(other.predict(x), model.predict(x))


def test_load_weights_from_a_model_file(tmp_path: Path) -> None:
    model = trained(multi_input_model())
    saving.save_model(model, tmp_path / "m.h5")
    other = multi_input_model()
    saving.load_weights(other, tmp_path / "m.h5")
    x = data_for(model)
    np.testing.assert_array_equal(other.predict(x), model.predict(x))


def test_load_weights_by_name_loads_matching_layers_only(tmp_path: Path) -> None:
    source = Sequential([Dense(3, input_shape=(4,), name="shared"), Dense(2, name="head")])
    saving.save_weights(source, tmp_path / "w.h5")
    target = Sequential([Dense(3, input_shape=(4,), name="shared"), Dense(5, name="other_head")])
    before = target.get_layer("other_head").get_weights()
    saving.load_weights(target, tmp_path / "w.h5", by_name=True)
    for got, want in zip(target.get_layer("shared").get_weights(), source.get_layer("shared").get_weights()):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(target.get_layer("other_head").get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_by_name_shape_mismatch_fails_or_is_skipped(tmp_path: Path) -> None:
    source = Sequential([Dense(3, input_shape=(4,), name="a"), Dense(2, name="b")])
    saving.save_weights(source, tmp_path / "w.h5")
    target = Sequential([Dense(3, input_shape=(4,), name="a"), Dense(7, name="b")])
    before = target.get_weights()
    with pytest.raises(ModelFileError, match=r"w\.h5.*'b/kernel:0'.*\(3, 2\).*\(3, 7\)"):
        saving.load_weights(target, tmp_path / "w.h5", by_name=True)
    for got, want in zip(target.get_weights(), before):  # nothing was loaded
        np.testing.assert_array_equal(got, want)
    with pytest.warns(UserWarning, match="Skipping loading of weights for layer .* due to mismatch in shape"):
        saving.load_weights(target, tmp_path / "w.h5", by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(target.get_layer("a").get_weights()[0], source.get_layer("a").get_weights()[0])
    np.testing.assert_array_equal(target.get_layer("b").get_weights()[0], before[2])


def test_wrong_architecture_names_the_file_and_the_layers(tmp_path: Path) -> None:
    saving.save_weights(dense_sequential(), tmp_path / "w.h5")
    other = Sequential([Dense(6, input_shape=(4,)), Dense(3)])
    before = other.get_weights()
    with pytest.raises(ModelFileError, match=r"w\.h5: the file has weights for 3 layers.* 2 layers"):
        saving.load_weights(other, tmp_path / "w.h5")
    bigger = Sequential([Dense(5, input_shape=(4,)), BatchNormalization(), Dense(3)])
    with pytest.raises(ModelFileError, match=r"w\.h5: .*shape \(4, 6\).*shape \(4, 5\)"):
        saving.load_weights(bigger, tmp_path / "w.h5")
    for got, want in zip(other.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_unbuilt_model_cannot_be_saved(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not built yet"):
        saving.save_model(Sequential([Dense(2)]), tmp_path / "m.h5")
    assert not (tmp_path / "m.h5").exists()


# --- JSON ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("build", [dense_sequential, nested_model], ids=["sequential", "nested"])
def test_to_json_model_from_json(build: Callable[[], Model]) -> None:
    model = trained(build())
    text = saving.model_to_json(model, indent=2)
    data = json.loads(text)
    assert data["keras_version"] == "2.2.4" and data["backend"] == "minikeras"
    copy = saving.model_from_json(text)
    assert [layer.name for layer in copy.layers] == [layer.name for layer in model.layers]
    copy.set_weights(model.get_weights())
    x = data_for(model)
    np.testing.assert_array_equal(copy.predict(x), model.predict(x))
    assert saving.model_to_json(copy, indent=2) == text


def test_model_from_json_errors() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        saving.model_from_json("{not json")
    with pytest.raises(ValueError, match="Unknown layer: NoSuchLayer"):
        saving.model_from_json('{"class_name": "NoSuchLayer", "config": {}}')
    with pytest.raises(TypeError, match="expects a dictionary"):
        saving.model_from_config([{"class_name": "Dense", "config": {"units": 2}}])


def test_to_json_refuses_configs_that_are_not_data() -> None:
    model = Sequential([Dense(2, input_shape=(3,))])
    model.layers[0].get_config = lambda: {"name": "dense_1", "units": object()}  # type: ignore[method-assign]
    with pytest.raises(TypeError, match="plain data"):
        saving.model_to_json(model)


# --- chunked attributes -------------------------------------------------------------------------

def test_long_layer_names_are_chunked_and_read_back(tmp_path: Path) -> None:
    x = Input((2,), name="i" * 3000)
    h = x
    for i in range(25):
        h = Dense(2, name=f"{i:02d}" + "d" * 3000)(h)
    model = Model(x, h)
    saving.save_model(model, tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        attrs = f["model_weights"].attrs
        assert "layer_names" not in attrs and "layer_names0" in attrs and "layer_names1" in attrs
        assert all(attrs[k].nbytes <= 64512 for k in attrs if k.startswith("layer_names"))
    expected = model.predict(np.ones((1, 2)))
    K.clear_session()
    np.testing.assert_array_equal(saving.load_model(tmp_path / "m.h5").predict(np.ones((1, 2))), expected)


def test_chunked_weight_names_are_written_and_read(tmp_path: Path) -> None:
    from minikeras.saving.hdf5 import read_name_list, write_name_list

    names = [f"w{i}/" + "x" * 5000 for i in range(30)]
    with h5py.File(tmp_path / "a.h5", "w") as f:
        write_name_list(f, "weight_names", names)
        assert sorted(f.attrs) == [f"weight_names{i}" for i in range(3)]
        assert read_name_list(f, "weight_names") == names
        write_name_list(f, "short", ["a", "é"])
        assert read_name_list(f, "short") == ["a", "é"]


# --- Lambda and safe_mode -----------------------------------------------------------------------

def double(x: Any) -> Any:
    return x * 2


def lambda_model() -> Model:
    x = Input((3,))
    return Model(x, Dense(2)(Lambda(double)(x)))


def test_lambda_in_a_file_is_refused_in_safe_mode(tmp_path: Path) -> None:
    model = lambda_model()
    saving.save_model(model, tmp_path / "m.h5")
    with pytest.raises(ModelFileError, match=r"m\.h5: .*Lambda layers \['lambda_1'\].*safe_mode"):
        saving.load_model(tmp_path / "m.h5")
    with pytest.raises(ModelFileError, match=r"safe_mode"):  # custom_objects alone is not enough
        saving.load_model(tmp_path / "m.h5", custom_objects={"double": double})


def test_lambda_with_safe_mode_off_still_needs_your_function(tmp_path: Path) -> None:
    model = lambda_model()
    x = np.random.rand(4, 3)
    expected = model.predict(x)
    saving.save_model(model, tmp_path / "m.h5")
    K.clear_session()
    with pytest.raises(ModelFileError, match="custom_objects"):
        saving.load_model(tmp_path / "m.h5", safe_mode=False)
    loaded = saving.load_model(tmp_path / "m.h5", safe_mode=False, custom_objects={"double": double})
    np.testing.assert_array_equal(loaded.predict(x), expected)


def test_json_lambda_loads_with_its_function() -> None:
    text = saving.model_to_json(lambda_model())
    with pytest.raises(ValueError, match="custom_objects"):
        saving.model_from_json(text)
    assert saving.model_from_json(text, custom_objects={"double": double}).layers[1].function is double


def test_loading_never_unpickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = trained(multi_input_model())
    saving.save_model(model, tmp_path / "m.h5")

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("pickle or np.load was used while loading")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(np, "load", forbidden)
    saving.load_model(tmp_path / "m.h5")


# --- hostile and broken files ---------------------------------------------------------------------

@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "model.h5"
    saving.save_model(Sequential([Dense(3, input_shape=(4,)), Dense(2)]), path)
    return path


def test_soft_link_is_refused(saved: Path) -> None:
    with h5py.File(saved, "a") as f:
        del f["model_weights/dense_1/dense_1/kernel:0"]
        f["model_weights/dense_1/dense_1/kernel:0"] = h5py.SoftLink("/model_weights/dense_2/dense_2/kernel:0")
    with pytest.raises(ModelFileError, match=r"model\.h5: .*kernel:0 is a SoftLink.*refusing"):
        saving.load_model(saved)


def test_external_link_is_refused(saved: Path, tmp_path: Path) -> None:
    with h5py.File(tmp_path / "elsewhere.h5", "w") as other:
        other["secret"] = np.zeros((4, 3), "float32")
    with h5py.File(saved, "a") as f:
        del f["model_weights/dense_1"]
        f["model_weights/dense_1"] = h5py.ExternalLink(str(tmp_path / "elsewhere.h5"), "/")
    with pytest.raises(ModelFileError, match=r"dense_1 is a ExternalLink"):
        saving.load_model(saved)


def test_shape_bomb_is_refused_before_anything_is_allocated(saved: Path) -> None:
    with h5py.File(saved, "a") as f:
        del f["model_weights/dense_1/dense_1/kernel:0"]
        # 4 TB declared, nothing stored: reading it would try to allocate all of it.
        f["model_weights/dense_1/dense_1"].create_dataset("kernel:0", shape=(2**20, 2**20),
                                                           dtype="float32", chunks=(64, 64))
    with pytest.raises(ModelFileError, match=r"model\.h5: .*declares shape \(1048576, 1048576\).*shape bomb"):
        saving.load_model(saved)


def test_non_numeric_dataset_is_refused(saved: Path) -> None:
    with h5py.File(saved, "a") as f:
        del f["model_weights/dense_1/dense_1/bias:0"]
        f["model_weights/dense_1/dense_1"].create_dataset(
            "bias:0", data=np.array(["a", "b", "c"], dtype=h5py.string_dtype()))
    with pytest.raises(ModelFileError, match="plain numbers"):
        saving.load_model(saved)


def test_path_escapes_are_refused(saved: Path) -> None:
    with h5py.File(saved, "a") as f:
        f["model_weights"].attrs["layer_names"] = np.array([b"/model_weights/dense_1", b"dense_2"])
    with pytest.raises(ModelFileError, match="not a plain relative name"):
        saving.load_model(saved)


def test_truncated_file(saved: Path) -> None:
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=r"model\.h5: the HDF5 file is truncated or damaged"):
        saving.load_model(saved)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (b"I am a text file, not a model\n", "is not an HDF5 file"),
    (b"PK\x03\x04 a zip archive", r"zip archive.*\.keras"),
], ids=["empty", "text", "zip"])
def test_foreign_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "foreign.h5"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=r"foreign\.h5: .*" + message):
        saving.load_model(path)
    with pytest.raises(ModelFileError, match=message):
        saving.load_weights(dense_sequential(), path)


def test_hdf5_that_is_not_a_model(tmp_path: Path) -> None:
    path = tmp_path / "data.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(ModelFileError, match=r"data\.h5: no model config found"):
        saving.load_model(path)
    with pytest.raises(ModelFileError, match=r"data\.h5: holds no layer weights"):
        saving.load_weights(dense_sequential(), path)


def test_weights_file_given_to_load_model(tmp_path: Path) -> None:
    saving.save_weights(dense_sequential(), tmp_path / "w.h5")
    with pytest.raises(ModelFileError, match=r"w\.h5: holds only weights.*load_weights"):
        saving.load_model(tmp_path / "w.h5")


def test_keras3_weights_file_is_recognised(tmp_path: Path) -> None:
    """Read in Keras 3's layout (tests/test_keras_archive.py), so its faults are named in it."""
    path = tmp_path / "m.weights.h5"
    with h5py.File(path, "w") as f:
        f.create_group("layers/dense/vars")["0"] = np.zeros((4, 3))
        f.create_group("vars")
    with pytest.raises(ModelFileError, match=r"m\.weights\.h5: layers/dense: layer 'dense_1' has 2 variables"
                       r".*layers/dense/vars/1 is missing"):
        saving.load_weights(dense_sequential(), path)


def test_broken_json_and_missing_groups(saved: Path) -> None:
    with h5py.File(saved, "a") as f:
        f.attrs["model_config"] = b'{"class_name": "Sequential", '
    with pytest.raises(ModelFileError, match=r"model\.h5: the attribute 'model_config' is not valid JSON"):
        saving.load_model(saved)
    K.clear_session()
    saving.save_model(Sequential([Dense(3, input_shape=(4,))]), saved)
    with h5py.File(saved, "a") as f:
        del f["model_weights/dense_1"]
    with pytest.raises(ModelFileError, match=r"model\.h5: /model_weights/dense_1 is missing"):
        saving.load_model(saved)


def test_unknown_layer_in_a_file(saved: Path) -> None:
    with h5py.File(saved, "a") as f:
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][1]["class_name"] = "MyLayer"
        f.attrs["model_config"] = json.dumps(config).encode()
    with pytest.raises(ModelFileError, match=r"model\.h5: cannot rebuild the model.*Unknown layer: MyLayer"):
        saving.load_model(saved)


def test_missing_file() -> None:
    with pytest.raises(FileNotFoundError, match="no_such.h5"):
        saving.load_model("no_such.h5")


# --- saving is atomic ---------------------------------------------------------------------------

def _fail_after(n: int, error: BaseException) -> Callable[..., Any]:
    original = h5py.Group.create_dataset
    calls = {"n": 0}

    def create_dataset(self: h5py.Group, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > n:
            raise error
        return original(self, *args, **kwargs)

    return create_dataset


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()], ids=["oserror", "interrupt"])
@pytest.mark.parametrize("save", [saving.save_model, saving.save_weights], ids=["model", "weights"])
def test_a_save_that_fails_half_way_leaves_the_old_file_intact(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException,
        save: Callable[..., None]) -> None:
    path = tmp_path / "model.h5"
    save(dense_sequential(), path)
    before = path.read_bytes()
    monkeypatch.setattr(h5py.Group, "create_dataset", _fail_after(2, error))
    with pytest.raises(type(error)):
        save(trained(dense_sequential()), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.h5"]


def test_a_failing_get_config_leaves_no_file(tmp_path: Path) -> None:
    model = dense_sequential()

    def broken() -> dict[str, Any]:
        raise RuntimeError("get_config exploded")

    model.layers[1].get_config = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="exploded"):
        saving.save_model(model, tmp_path / "new.h5")
    assert os.listdir(tmp_path) == []


def test_overwrite_false(saved: Path) -> None:
    before = saved.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=False"):
        saving.save_model(dense_sequential(), saved, overwrite=False)
    assert saved.read_bytes() == before


def test_an_open_h5py_file_is_written_and_read_as_it_is(tmp_path: Path) -> None:
    model = trained(dense_sequential())
    x = data_for(model)
    with h5py.File(tmp_path / "both.h5", "w") as f:
        saving.save_model(model, f.create_group("first"))
    with h5py.File(tmp_path / "both.h5", "r") as f:
        np.testing.assert_array_equal(saving.load_model(f["first"]).predict(x), model.predict(x))


def test_saving_into_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        saving.save_model(dense_sequential(), tmp_path / "nowhere" / "m.h5")


def test_saving_through_a_symlink_replaces_the_target(tmp_path: Path) -> None:
    target = tmp_path / "real.h5"
    saving.save_model(Sequential([Dense(2, input_shape=(3,))]), target)
    link = tmp_path / "link.h5"
    link.symlink_to(target)
    saving.save_model(dense_sequential(), link)
    assert link.is_symlink()
    assert saving.load_model(target).layers[0].units == 6


# --- files in the Keras 3 and tf.keras layouts (built by hand, as §6.4 describes) ---------------

def _policy() -> dict[str, Any]:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
            "registered_name": None}


def _init(class_name: str, **config: Any) -> dict[str, Any]:
    return {"module": "keras.initializers", "class_name": class_name, "config": config,
            "registered_name": None}


def _k3_dense(name: str, units: int, activation: str) -> dict[str, Any]:
    return {"name": name, "trainable": True, "dtype": _policy(), "units": units,
            "activation": activation, "use_bias": True,
            "kernel_initializer": _init("GlorotUniform", seed=None, input_axes=None, output_axes=None),
            "bias_initializer": _init("Zeros"), "kernel_regularizer": None, "bias_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None, "quantization_config": None}


def _k3_bn(name: str) -> dict[str, Any]:
    return {"name": name, "trainable": True, "dtype": _policy(), "axis": -1, "momentum": 0.99,
            "epsilon": 0.001, "center": True, "scale": True, "beta_initializer": _init("Zeros"),
            "gamma_initializer": _init("Ones"), "moving_mean_initializer": _init("Zeros"),
            "moving_variance_initializer": _init("Ones"), "beta_regularizer": None,
            "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None,
            "synchronized": False, "renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99}


def _k3_input(name: str, shape: list[Any]) -> dict[str, Any]:
    return {"class_name": "InputLayer", "config": {"batch_shape": shape, "dtype": "float32",
                                                   "sparse": False, "ragged": False, "name": name,
                                                   "optional": False}}


def _tensor(layer: str, node: int = 0, shape: list[Any] | None = None) -> dict[str, Any]:
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape or [None, 4], "dtype": "float32", "keras_history": [layer, node, 0]}}


def _write_keras3(path: Path, model_config: dict[str, Any], weights: dict[str, dict[str, np.ndarray]],
                  layer_names: list[str], training_config: dict[str, Any] | None = None) -> None:
    """A file as Keras 3.15's legacy writer lays it out: str attributes, names without ':0'."""
    text = h5py.string_dtype()
    with h5py.File(path, "w") as f:
        f.attrs["backend"] = "jax"
        f.attrs["keras_version"] = "3.15.1"
        f.attrs["model_config"] = json.dumps(model_config)
        if training_config is not None:
            f.attrs["training_config"] = json.dumps(training_config)
        g = f.create_group("model_weights")
        g.attrs["backend"] = "jax"
        g.attrs["keras_version"] = "3.15.1"
        g.attrs["layer_names"] = np.array(layer_names, dtype=text)
        for name in layer_names:
            layer = g.create_group(name)
            values = weights.get(name, {})
            layer.attrs["weight_names"] = np.array(list(values), dtype=text) if values else np.array([])
            for weight_name, value in values.items():
                layer[weight_name] = value
        g.create_group("top_level_model_weights").attrs["weight_names"] = np.array([])


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def test_reads_a_keras3_functional_file(tmp_path: Path) -> None:
    w1, b1 = np.random.randn(4, 3).astype("float32"), np.random.randn(3).astype("float32")
    w2, b2 = np.random.randn(3, 2).astype("float32"), np.random.randn(2).astype("float32")
    config = {"class_name": "Functional", "config": {
        "name": "functional", "trainable": True,
        "layers": [
            {**_k3_input("input_layer", [None, 4]), "name": "input_layer", "inbound_nodes": []},
            {"class_name": "Dense", "config": _k3_dense("dense", 3, "relu"), "name": "dense",
             "inbound_nodes": [{"args": [_tensor("input_layer")], "kwargs": {}}]},
            {"class_name": "Dense", "config": _k3_dense("dense_1", 2, "linear"), "name": "dense_1",
             "inbound_nodes": [{"args": [_tensor("dense", shape=[None, 3])], "kwargs": {}}]},
        ],
        "input_layers": ["input_layer", 0, 0], "output_layers": ["dense_1", 0, 0]}}
    _write_keras3(tmp_path / "k3.h5", config,
                  {"dense": {"dense/kernel": w1, "dense/bias": b1},
                   "dense_1": {"dense_1/kernel": w2, "dense_1/bias": b2}},
                  ["input_layer", "dense", "dense_1"])
    model = saving.load_model(tmp_path / "k3.h5")
    assert type(model).__name__ == "Model"
    x = np.random.rand(5, 4).astype("float32")
    np.testing.assert_allclose(model.predict(x), _relu(x @ w1 + b1) @ w2 + b2, rtol=1e-5, atol=1e-6)


def test_reads_a_keras3_sequential_file_compiled(tmp_path: Path) -> None:
    w, b = np.random.randn(4, 3).astype("float32"), np.random.randn(3).astype("float32")
    gamma, beta = np.random.rand(3).astype("float32") + 0.5, np.random.randn(3).astype("float32")
    mean, var = np.random.randn(3).astype("float32"), np.random.rand(3).astype("float32") + 0.5
    config = {"class_name": "Sequential", "config": {
        "name": "sequential", "trainable": True, "dtype": _policy(),
        "layers": [_k3_input("input_layer", [None, 4]),
                   {"class_name": "Dense", "config": _k3_dense("dense", 3, "tanh")},
                   {"class_name": "BatchNormalization", "config": _k3_bn("batch_normalization")},
                   {"class_name": "Dropout", "config": {"name": "dropout", "trainable": True,
                                                        "dtype": _policy(), "rate": 0.2, "seed": None,
                                                        "noise_shape": None}}],
        "build_input_shape": [None, 4]}}
    training = {"loss": "mse", "loss_weights": None, "metrics": ["mae"], "weighted_metrics": None,
                "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False,
                "optimizer_config": {"class_name": "Adam", "config": {
                    "name": "adam", "learning_rate": 0.01, "weight_decay": None, "clipnorm": None,
                    "global_clipnorm": None, "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                    "ema_overwrite_frequency": None, "loss_scale_factor": None,
                    "gradient_accumulation_steps": None, "beta_1": 0.9, "beta_2": 0.999,
                    "epsilon": 1e-07, "amsgrad": False}}}
    bn = "sequential/batch_normalization/"
    _write_keras3(tmp_path / "k3.h5", config,
                  {"dense": {"sequential/dense/kernel": w, "sequential/dense/bias": b},
                   "batch_normalization": {bn + "gamma": gamma, bn + "beta": beta,
                                           bn + "moving_mean": mean, bn + "moving_variance": var}},
                  ["dense", "batch_normalization", "dropout"],  # no InputLayer here, as Keras 3 writes
                  training_config=training)
    with h5py.File(tmp_path / "k3.h5", "a") as f:  # Keras 3's optimizer state: not in Keras 2's form
        f.create_group("optimizer_weights").attrs["weight_names"] = np.array(
            ["adam/iteration", "adam/learning_rate"], dtype=h5py.string_dtype())
        f["optimizer_weights/adam/iteration"] = np.int64(3)
        f["optimizer_weights/adam/learning_rate"] = np.float32(0.01)
    with pytest.warns(UserWarning, match="optimizer state was not restored"):
        model = saving.load_model(tmp_path / "k3.h5")
    x = np.random.rand(5, 4).astype("float32")
    h = np.tanh(x @ w + b)
    expected = (h - mean) / np.sqrt(var + 0.001) * gamma + beta
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-5, atol=1e-5)
    assert type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.01)
    assert model.metrics_names == ["loss", "mean_absolute_error"]
    model.train_on_batch(x, expected)  # and it trains


def test_reads_a_keras3_file_with_nested_sequential_and_functional(tmp_path: Path) -> None:
    """Keras 3 counts a nested Sequential's first call as node 0, a nested Functional's as 1."""
    rng = np.random.RandomState(0)
    wa, ba = rng.randn(4, 4).astype("float32"), rng.randn(4).astype("float32")
    ws, bs = rng.randn(7, 5).astype("float32"), rng.randn(5).astype("float32")
    wf, bf = rng.randn(5, 2).astype("float32"), rng.randn(2).astype("float32")
    inner_seq = {"class_name": "Sequential", "config": {
        "name": "inner_seq", "trainable": True, "dtype": _policy(),
        "layers": [_k3_input("input_layer_1", [None, 7]),
                   {"class_name": "Dense", "config": _k3_dense("dense_2", 5, "linear")}],
        "build_input_shape": [None, 7]}}
    inner_f = {"class_name": "Functional", "config": {
        "name": "inner_f", "trainable": True,
        "layers": [{**_k3_input("input_layer_2", [None, 5]), "name": "input_layer_2", "inbound_nodes": []},
                   {"class_name": "Dense", "config": _k3_dense("dense_3", 2, "linear"), "name": "dense_3",
                    "inbound_nodes": [{"args": [_tensor("input_layer_2", shape=[None, 5])], "kwargs": {}}]}],
        "input_layers": [["input_layer_2", 0, 0]], "output_layers": [["dense_3", 0, 0]]}}
    config = {"class_name": "Functional", "config": {
        "name": "functional_2", "trainable": True,
        "layers": [
            {**_k3_input("a", [None, 4]), "name": "a", "inbound_nodes": []},
            {"class_name": "Dense", "config": _k3_dense("dense_4", 4, "linear"), "name": "dense_4",
             "inbound_nodes": [{"args": [_tensor("a")], "kwargs": {}}]},
            {**_k3_input("b", [None, 3]), "name": "b", "inbound_nodes": []},
            {"class_name": "Concatenate", "config": {"name": "concatenate", "trainable": True,
                                                     "dtype": _policy(), "axis": -1},
             "name": "concatenate",
             "inbound_nodes": [{"args": [[_tensor("dense_4"), _tensor("b", shape=[None, 3])]], "kwargs": {}}]},
            {**inner_seq, "name": "inner_seq",
             "inbound_nodes": [{"args": [_tensor("concatenate", shape=[None, 7])], "kwargs": {"mask": None}}]},
            {**inner_f, "name": "inner_f",
             "inbound_nodes": [{"args": [_tensor("inner_seq", shape=[None, 5])], "kwargs": {"mask": None}}]},
        ],
        "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": ["inner_f", 1, 0]}}
    _write_keras3(tmp_path / "k3.h5", config,
                  {"dense_4": {"dense_4/kernel": wa, "dense_4/bias": ba},
                   "inner_seq": {"inner_seq/dense_2/kernel": ws, "inner_seq/dense_2/bias": bs},
                   "inner_f": {"dense_3/kernel": wf, "dense_3/bias": bf}},
                  ["a", "dense_4", "b", "concatenate", "inner_seq", "inner_f"])
    model = saving.load_model(tmp_path / "k3.h5")
    xa, xb = rng.rand(3, 4).astype("float32"), rng.rand(3, 3).astype("float32")
    expected = (np.concatenate([xa @ wa + ba, xb], axis=1) @ ws + bs) @ wf + bf
    np.testing.assert_allclose(model.predict([xa, xb]), expected, rtol=1e-5, atol=1e-5)
    assert [type(layer).__name__ for layer in model.layers][-2:] == ["Sequential", "Model"]


def test_reads_a_keras3_conv_embedding_file(tmp_path: Path) -> None:
    rng = np.random.RandomState(1)
    kernel, bias = rng.randn(3, 3, 2, 4).astype("float32"), rng.randn(4).astype("float32")
    table = rng.randn(10, 2).astype("float32")
    conv = {"name": "conv2d", "trainable": True, "dtype": _policy(), "filters": 4, "kernel_size": [3, 3],
            "strides": [1, 1], "padding": "valid", "data_format": "channels_last", "dilation_rate": [1, 1],
            "groups": 1, "activation": "relu", "use_bias": True,
            "kernel_initializer": _init("GlorotUniform", seed=None), "bias_initializer": _init("Zeros"),
            "kernel_regularizer": {"module": "keras.regularizers", "class_name": "L2",
                                   "config": {"l2": 0.01}, "registered_name": None},
            "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
            "bias_constraint": None}
    pool = {"name": "global_average_pooling2d", "trainable": True, "dtype": _policy(),
            "data_format": "channels_last", "keepdims": False}
    emb = {"name": "embedding", "trainable": True, "dtype": _policy(), "input_dim": 10, "output_dim": 2,
           "embeddings_initializer": _init("RandomUniform", minval=-0.05, maxval=0.05, seed=None),
           "embeddings_regularizer": None, "activity_regularizer": None, "embeddings_constraint": None,
           "mask_zero": False}
    config = {"class_name": "Functional", "config": {
        "name": "functional", "trainable": True,
        "layers": [
            {**_k3_input("image", [None, 5, 5, 2]), "name": "image", "inbound_nodes": []},
            {"class_name": "Conv2D", "config": conv, "name": "conv2d",
             "inbound_nodes": [{"args": [_tensor("image", shape=[None, 5, 5, 2])], "kwargs": {}}]},
            {"class_name": "GlobalAveragePooling2D", "config": pool, "name": "global_average_pooling2d",
             "inbound_nodes": [{"args": [_tensor("conv2d", shape=[None, 3, 3, 4])], "kwargs": {}}]},
            {"class_name": "InputLayer", "config": {"batch_shape": [None, 2], "dtype": "int32",
                                                    "sparse": False, "ragged": False, "name": "ids",
                                                    "optional": False}, "name": "ids", "inbound_nodes": []},
            {"class_name": "Embedding", "config": emb, "name": "embedding",
             "inbound_nodes": [{"args": [_tensor("ids", shape=[None, 2])], "kwargs": {}}]},
            {"class_name": "Flatten", "config": {"name": "flatten", "trainable": True, "dtype": _policy(),
                                                 "data_format": "channels_last"}, "name": "flatten",
             "inbound_nodes": [{"args": [_tensor("embedding", shape=[None, 2, 2])], "kwargs": {}}]},
            {"class_name": "Add", "config": {"name": "add", "trainable": True, "dtype": _policy()},
             "name": "add", "inbound_nodes": [{"args": [[_tensor("global_average_pooling2d"),
                                                         _tensor("flatten")]],
                                               "kwargs": {}}]},
        ],
        "input_layers": [["image", 0, 0], ["ids", 0, 0]], "output_layers": ["add", 0, 0]}}
    _write_keras3(tmp_path / "k3.h5", config,
                  {"conv2d": {"conv2d/kernel": kernel, "conv2d/bias": bias},
                   "embedding": {"embedding/embeddings": table}},
                  ["image", "conv2d", "global_average_pooling2d", "ids", "embedding", "flatten", "add"])
    model = saving.load_model(tmp_path / "k3.h5")
    images = rng.rand(2, 5, 5, 2).astype("float32")
    ids = rng.randint(0, 10, (2, 2)).astype("int32")
    windows = np.lib.stride_tricks.sliding_window_view(images, (3, 3), axis=(1, 2))  # (n,3,3,c,3,3)
    conv_out = _relu(np.einsum("nijcab,abcf->nijf", windows, kernel) + bias)
    expected = conv_out.mean(axis=(1, 2)) + table[ids].reshape(2, -1)
    np.testing.assert_allclose(model.predict([images, ids]), expected, rtol=1e-4, atol=1e-5)
    assert model.get_layer("conv2d").kernel_regularizer.get_config()["l2"] == pytest.approx(0.01)


def test_keras3_lambda_bytecode_is_never_decoded(tmp_path: Path) -> None:
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        _k3_input("input_layer", [None, 3]),
        {"class_name": "Lambda", "config": {
            "name": "lambda", "trainable": True, "dtype": _policy(),
            "function": {"class_name": "__lambda__",
                         "config": {"code": "not even base64 !!", "defaults": None, "closure": None}},
            "arguments": {}}}]}}
    _write_keras3(tmp_path / "k3.h5", config, {}, ["lambda"])
    with pytest.raises(ModelFileError, match=r"Lambda layers \['lambda'\].*safe_mode"):
        saving.load_model(tmp_path / "k3.h5")
    with pytest.raises(ModelFileError, match="'<lambda>'.*custom_objects"):
        saving.load_model(tmp_path / "k3.h5", safe_mode=False)
    model = saving.load_model(tmp_path / "k3.h5", safe_mode=False, custom_objects={"<lambda>": double})
    np.testing.assert_array_equal(model.predict(np.ones((1, 3))), 2 * np.ones((1, 3)))


def test_keras3_options_that_change_results_are_refused() -> None:
    config = {"class_name": "Sequential", "config": {"layers": [
        _k3_input("input_layer", [None, 4]),
        {"class_name": "BatchNormalization", "config": {**_k3_bn("bn"), "renorm": True}}]}}
    with pytest.raises(ValueError, match=r"Layer 'bn' \(BatchNormalization\) has renorm=True"):
        saving.model_from_config(config)


def test_keras3_get_config_with_module_keys_and_build_config() -> None:
    """What Keras 3's ``model.get_config()`` / ``to_json()`` give (the .keras format's config)."""
    config = {"module": "keras", "class_name": "Functional", "registered_name": "Functional",
              "config": {"name": "f", "trainable": True, "layers": [
                  {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
                   "config": {"batch_shape": [None, 4], "dtype": "float32", "sparse": False,
                              "ragged": False, "name": "x", "optional": False},
                   "name": "x", "inbound_nodes": []},
                  {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
                   "build_config": {"input_shape": [None, 4]}, "config": _k3_dense("d", 2, "sigmoid"),
                   "name": "d", "inbound_nodes": [{"args": [_tensor("x")], "kwargs": {}}]}],
                  "input_layers": [["x", 0, 0]], "output_layers": [["d", 0, 0]]}}
    model = saving.model_from_json(json.dumps(config))
    assert [layer.name for layer in model.layers] == ["x", "d"]
    assert K.int_shape(model.outputs[0]) == (None, 2)


def test_reads_a_keras_224_file_with_optimizer_state(tmp_path: Path) -> None:
    """Keras 2.2.4: bytes attrs, ``Model``, ``lr``, ``mse``, chunked names, ``optimizer_weights``."""
    w = np.random.randn(3, 2).astype("float32")
    b = np.random.randn(2).astype("float32")
    moment_w, moment_b = np.random.randn(3, 2).astype("float32"), np.random.randn(2).astype("float32")
    config = {"class_name": "Model", "config": {
        "name": "model_1",
        "layers": [
            {"name": "input_1", "class_name": "InputLayer", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, 3], "dtype": "float32", "sparse": False, "name": "input_1"}},
            {"name": "dense_1", "class_name": "Dense", "inbound_nodes": [[["input_1", 0, 0, {}]]],
             "config": {"name": "dense_1", "trainable": True, "units": 2, "activation": "linear",
                        "use_bias": True,
                        "kernel_initializer": {"class_name": "VarianceScaling", "config": {
                            "scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}},
                        "bias_initializer": {"class_name": "Zeros", "config": {}},
                        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
                        "kernel_constraint": None, "bias_constraint": None}}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_1", 0, 0]]}}
    training = {"optimizer_config": {"class_name": "SGD", "config": {
        "lr": 0.05, "momentum": 0.9, "decay": 0.0, "nesterov": False}},
        "loss": "mse", "metrics": ["acc"], "sample_weight_mode": None, "loss_weights": None}
    with h5py.File(tmp_path / "k2.h5", "w") as f:
        f.attrs["keras_version"] = b"2.2.4"
        f.attrs["backend"] = b"tensorflow"
        f.attrs["model_config"] = json.dumps(config).encode()
        f.attrs["training_config"] = json.dumps(training).encode()
        g = f.create_group("model_weights")
        g.attrs["layer_names0"] = np.array([b"input_1"])  # chunked, as for very long names
        g.attrs["layer_names1"] = np.array([b"dense_1"])
        g.create_group("input_1").attrs["weight_names"] = np.array([])
        d = g.create_group("dense_1")
        d.attrs["weight_names"] = np.array([b"dense_1/kernel:0", b"dense_1/bias:0"])
        d["dense_1/kernel:0"], d["dense_1/bias:0"] = w, b
        o = f.create_group("optimizer_weights")
        o.attrs["weight_names"] = np.array([b"training/SGD/Variable:0", b"training/SGD/Variable_1:0",
                                            b"training/SGD/Variable_2:0"])
        o["training/SGD/Variable:0"] = np.int64(7)
        o["training/SGD/Variable_1:0"], o["training/SGD/Variable_2:0"] = moment_w, moment_b
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = saving.load_model(tmp_path / "k2.h5")
    x = np.random.rand(4, 3).astype("float32")
    np.testing.assert_allclose(model.predict(x), x @ w + b, rtol=1e-6, atol=1e-6)
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.05)
    iterations, restored_w, restored_b = model.optimizer.get_weights()
    assert iterations == 7
    np.testing.assert_array_equal(restored_w, moment_w)
    np.testing.assert_array_equal(restored_b, moment_b)


def test_reads_tf_keras_style_configs() -> None:
    """tf.keras >= 2.4: ``Functional``, legacy inbound nodes, ``axis: [1]``, nested calls from 1."""
    inner = {"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3], "dtype": "float32",
                                                "sparse": False, "ragged": False, "name": "seq_in"}},
        {"class_name": "BatchNormalization", "config": {"name": "bn", "trainable": True,
                                                        "dtype": "float32", "axis": [1]}}]}}
    dense = {"name": "d", "trainable": True, "dtype": "float32", "units": 1, "activation": "linear",
             "use_bias": True, "kernel_initializer": {"class_name": "Ones", "config": {}},
             "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
             "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
             "bias_constraint": None}
    config = {"class_name": "Functional", "config": {"name": "model", "layers": [
        {"class_name": "InputLayer", "name": "x", "inbound_nodes": [],
         "config": {"batch_input_shape": [None, 3], "dtype": "float32", "sparse": False, "ragged": False,
                    "name": "x"}},
        {**inner, "name": "seq", "inbound_nodes": [[["x", 0, 0, {}]]]},
        {"class_name": "Dense", "config": dense, "name": "d", "inbound_nodes": [[["seq", 1, 0, {}]]]}],
        "input_layers": [["x", 0, 0]], "output_layers": [["seq", 1, 0], ["d", 0, 0]]}}
    model = saving.model_from_config(config)
    assert model.get_layer("seq").layers[0].axis == 1
    normalized, summed = model.predict(np.ones((2, 3)))
    np.testing.assert_allclose(normalized, np.ones((2, 3)) / np.sqrt(1.001), rtol=1e-6)
    np.testing.assert_allclose(summed, 3 / np.sqrt(1.001) * np.ones((2, 1)), rtol=1e-6)


def test_keras3_nested_functional_feeding_a_layer_is_its_call_0() -> None:
    """Keras 3's inbound nodes number a nested functional model's first call 0, its
    ``output_layers`` 1: both mean the same call."""
    inner = {"class_name": "Functional", "config": {
        "name": "inner", "trainable": True,
        "layers": [{**_k3_input("i", [None, 2]), "name": "i", "inbound_nodes": []},
                   {"class_name": "Activation", "name": "neg",
                    "config": {"name": "neg", "trainable": True, "dtype": _policy(), "activation": "relu"},
                    "inbound_nodes": [{"args": [_tensor("i", shape=[None, 2])], "kwargs": {}}]}],
        "input_layers": [["i", 0, 0]], "output_layers": [["neg", 0, 0]]}}
    config = {"class_name": "Functional", "config": {"name": "outer", "trainable": True, "layers": [
        {**_k3_input("x", [None, 2]), "name": "x", "inbound_nodes": []},
        {**inner, "name": "inner",
         "inbound_nodes": [{"args": [_tensor("x", shape=[None, 2])], "kwargs": {"mask": None}}]},
        {"class_name": "Add", "name": "add", "config": {"name": "add", "trainable": True, "dtype": _policy()},
         "inbound_nodes": [{"args": [[_tensor("inner", 0, [None, 2]), _tensor("x", shape=[None, 2])]],
                            "kwargs": {}}]}],
        "input_layers": [["x", 0, 0]], "output_layers": [["add", 0, 0], ["inner", 1, 0]]}}
    model = saving.model_from_config(config)
    x = np.array([[-1.0, 2.0]])
    added, inner_out = model.predict(x)
    np.testing.assert_array_equal(inner_out, [[0.0, 2.0]])
    np.testing.assert_array_equal(added, [[-1.0, 4.0]])


def test_normalizer_keeps_keras2_configs_as_they_are() -> None:
    model = nested_model()
    config = {"class_name": "Model", "config": model.get_config()}
    assert json.loads(json.dumps(saving.normalize_model_config(config))) == json.loads(json.dumps(config))


def test_reads_bare_concatenate_axis_and_unknown_keys_fail_clearly() -> None:
    config = {"class_name": "Functional", "config": {"name": "m", "layers": [
        {**_k3_input("x", [None, 2]), "name": "x", "inbound_nodes": []},
        {"class_name": "Concatenate", "name": "c",
         "config": {"name": "c", "trainable": True, "dtype": _policy(), "axis": -1, "fancy": 3},
         "inbound_nodes": [{"args": [[_tensor("x", shape=[None, 2]), _tensor("x", shape=[None, 2])]],
                            "kwargs": {}}]}],
        "input_layers": ["x", 0, 0], "output_layers": ["c", 0, 0]}}
    with pytest.raises(ValueError, match=r"Layer 'c' \(Concatenate\) has fancy=3"):
        saving.model_from_config(config)
    del config["config"]["layers"][1]["config"]["fancy"]
    model = saving.model_from_config(config)
    assert isinstance(model.layers[1], Concatenate)
    np.testing.assert_array_equal(model.predict(np.ones((1, 2))), np.ones((1, 4)))
