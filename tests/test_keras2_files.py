"""Files written by Keras 2 itself (tests/data/keras2, see its README.md): tf.keras 2.x legacy
HDF5 and Keras 2.2.4's form load, predict what Keras 2 predicted and train on from its state;
Keras 2's renamed layer classes map, and what cannot be mapped says which layer and field."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

from minikeras import backend as K
from minikeras import saving
from minikeras.layers import BatchNormalization, Conv2D, Dense, Flatten, MaxPooling2D
from minikeras.models import Sequential
from minikeras.saving import ModelFileError
from minikeras.saving.keras2 import legacy_layer

DATA = Path(__file__).parent / "data" / "keras2"
EXPECTED = np.load(DATA / "expected.npz")


@pytest.fixture(autouse=True)
def fresh_session() -> None:
    K.clear_session()


def _inputs(name: str) -> object:
    if f"{name}/x0" in EXPECTED:
        return [EXPECTED[f"{name}/x0"], EXPECTED[f"{name}/x1"]]
    return EXPECTED[f"{name}/x"]


@pytest.mark.parametrize("name", ["tfkeras_sequential", "tfkeras_functional", "keras22_sequential"])
def test_keras2_file_predicts_what_keras2_predicted(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the optimizer state is restored too: no warning
        model = saving.load_model(DATA / f"{name}.h5")
    np.testing.assert_allclose(model.predict(_inputs(name)), EXPECTED[f"{name}/y"], atol=1e-5)


def test_keras22_file_compiles_from_lr_and_continues_from_its_optimizer_state() -> None:
    model = saving.load_model(DATA / "keras22_sequential.h5")
    assert type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.01)  # from "lr"
    assert model.metrics == ["acc"]
    assert int(K.get_value(model.optimizer.iterations)) == 8  # 2 epochs of 4 batches
    model.train_on_batch(EXPECTED["keras22_sequential/next_x"], EXPECTED["keras22_sequential/next_y"])
    after = model.predict(EXPECTED["keras22_sequential/x"])
    # A fresh Adam state lands ~1e-2 away (README.md): only the restored m, v and t land here.
    np.testing.assert_allclose(after, EXPECTED["keras22_sequential/after_step"], atol=2e-4)


def test_tfkeras_adam_state_without_vhat_slots_is_restored() -> None:
    model = saving.load_model(DATA / "tfkeras_sequential.h5")
    assert int(K.get_value(model.optimizer.iterations)) == 12
    with h5py.File(DATA / "tfkeras_sequential.h5") as f:
        m_kernel = f["optimizer_weights/Adam/dense/kernel/m:0"][()]
    np.testing.assert_array_equal(K.get_value(model.optimizer._made_slots["m"][model.trainable_weights[0]]),
                                  m_kernel)


def test_keras2_file_weights_load_into_a_model_built_in_code() -> None:
    twin = Sequential([Dense(6, activation="relu", input_shape=(4,)), BatchNormalization(),
                       Dense(3, activation="softmax")])
    twin.load_weights(DATA / "keras22_sequential.h5")
    np.testing.assert_allclose(twin.predict(EXPECTED["keras22_sequential/x"]),
                               EXPECTED["keras22_sequential/y"], atol=1e-5)


def _edited(tmp_path: Path, edit: object) -> Path:
    path = tmp_path / "model.h5"
    shutil.copy(DATA / "keras22_sequential.h5", path)
    with h5py.File(path, "a") as f:
        config = json.loads(f.attrs["model_config"])
        edit(config["config"]["layers"])  # type: ignore[operator]
        f.attrs["model_config"] = np.bytes_(json.dumps(config).encode())
    return path


def test_renamed_layer_classes_map(tmp_path: Path) -> None:
    model = Sequential([Conv2D(2, 3, input_shape=(6, 6, 1)), MaxPooling2D(), Flatten(), Dense(2)])
    x = np.random.RandomState(0).rand(3, 6, 6, 1)
    path = tmp_path / "model.h5"
    model.save(path)
    with h5py.File(path, "a") as f:
        config = json.loads(f.attrs["model_config"])
        layers = config["config"]["layers"]
        layers[1]["class_name"], layers[2]["class_name"] = "Convolution2D", "MaxPool2D"
        f.attrs["model_config"] = np.bytes_(json.dumps(config).encode())
    np.testing.assert_allclose(saving.load_model(path).predict(x), model.predict(x), atol=1e-6)
    assert legacy_layer("Merge", {"name": "m", "mode": "concat", "concat_axis": 1}) == \
        ("Concatenate", {"name": "m", "axis": 1})
    assert legacy_layer("Merge", {"name": "m", "mode": "sum"}) == ("Add", {"name": "m"})


@pytest.mark.parametrize(("edit", "message"), [
    (lambda layers: layers[1].update(class_name="Merge", config={"name": "merge_1", "mode": "cos"}),
     r"Layer 'merge_1' \(Merge\) has mode='cos'"),
    (lambda layers: layers[1].update(class_name="Merge", config={"name": "merge_1", "mode": "lambda",
                                                                 "mode_type": "lambda"}),
     r"Layer 'merge_1' \(Merge\) has mode='lambda'"),
    (lambda layers: layers[1].update(class_name="Highway"), r"Unknown layer: Highway"),
    (lambda layers: layers[0]["config"].update(kernel_size=3), r"'dense_1' \(Dense\) has kernel_size=3"),
], ids=["merge_cos", "merge_function", "unknown_class", "unknown_field"])
def test_what_cannot_be_mapped_names_the_layer_and_field(tmp_path: Path, edit: object, message: str) -> None:
    with pytest.raises(ModelFileError, match=r"model\.h5: .*" + message):
        saving.load_model(_edited(tmp_path, edit))
