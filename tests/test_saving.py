"""Saving: .h5 files in Keras's layout, JSON configs, files written by Keras 3 and tf.keras,
and every refusal (links, shape bombs, Lambda layers, foreign and broken files, failed saves)."""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from saving_models import (
    MODELS,
    data_for,
    dense_sequential,
    double,
    multi_input_model,
    nested_model,
    trained,
)

from minikeras import backend as K
from minikeras import saving
from minikeras.layers import (
    BatchNormalization,
    Dense,
    Input,
    Lambda,
)
from minikeras.models import Model, Sequential
from minikeras.optimizers import SGD, Adagrad, Adam, RMSprop
from minikeras.saving import ModelFileError

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


