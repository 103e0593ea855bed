"""``.keras`` archives and ``.weights.h5`` files both ways with real Keras 3 (the ``interop``
extra): equal predictions for every layer kind minikeras has, Sequential and functional, and
training that continues from the saved optimizer state on the other side.

Keras 3 picks its backend from ``KERAS_BACKEND`` at import; unless it is set, this module uses
the first of jax, torch and numpy that is installed (numpy cannot train: those tests skip).
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

if "KERAS_BACKEND" not in os.environ:
    _found = [b for b in ("jax", "torch", "numpy") if importlib.util.find_spec(b) is not None]
    os.environ["KERAS_BACKEND"] = _found[0]
keras = pytest.importorskip("keras", reason="the interop extra (keras and a backend) is not installed")

from minikeras import backend as K  # noqa: E402
from minikeras import layers, saving  # noqa: E402
from minikeras.models import Model, Sequential  # noqa: E402
from minikeras.optimizers import SGD, Adam  # noqa: E402

pytestmark = [pytest.mark.interop,
              pytest.mark.filterwarnings("ignore::DeprecationWarning:keras.*")]

ATOL = 1e-5  # float32 arithmetic in another order
can_train = pytest.mark.skipif(keras.backend.backend() == "numpy", reason="Keras's numpy backend cannot train")


@pytest.fixture(autouse=True)
def fresh_session() -> None:
    K.clear_session()
    keras.backend.clear_session()
    np.random.seed(7)
    keras.utils.set_random_seed(7)


def _arrays(shapes_dtypes: list[tuple[tuple[int, ...], str]], n: int) -> Any:
    arrays = [np.random.randint(0, 10, (n, *shape)).astype("int32") if "int" in dtype
              else np.random.rand(n, *shape).astype("float32") for shape, dtype in shapes_dtypes]
    return arrays[0] if len(arrays) == 1 else arrays


def mk_inputs(model: Model, n: int = 6) -> Any:
    return _arrays([(tuple(K.int_shape(x)[1:]), K.dtype(x)) for x in model.inputs], n)


def k3_inputs(model: Any, n: int = 6) -> Any:
    return _arrays([(tuple(x.shape[1:]), str(x.dtype)) for x in model.inputs], n)


def k3_predict(model: Any, x: Any) -> Any:
    out = model.predict(x, verbose=0)
    return [np.asarray(o) for o in out] if isinstance(out, list) else np.asarray(out)


def assert_same(got: Any, want: Any) -> None:
    for g, w in zip(got if isinstance(got, list) else [got], want if isinstance(want, list) else [want]):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), atol=ATOL)


# --- minikeras -> Keras 3 --------------------------------------------------------------------------

def mk_sequential() -> Model:
    model = Sequential([layers.Dense(6, activation="relu", input_shape=(4,)), layers.BatchNormalization(),
                        layers.Dropout(0.3), layers.Dense(3, activation="softmax")])
    model.compile(Adam(lr=0.01), "categorical_crossentropy", metrics=["acc"])
    model.fit(np.random.rand(32, 4), np.eye(3)[np.random.randint(0, 3, 32)], epochs=2, verbose=0)
    return model


def mk_every_layer() -> Model:
    a, b = layers.Input((6,), name="a"), layers.Input((6,), name="b")
    image = layers.Input((6, 6, 1), name="image")
    ids = layers.Input((4,), dtype="int32", name="ids")
    h = layers.Activation("tanh")(layers.Dense(6)(a))
    merged = [layers.Add()([h, b]), layers.Subtract()([h, b]), layers.Multiply()([h, b]),
              layers.Average()([h, b]), layers.Maximum()([h, b]), layers.Minimum()([h, b]),
              layers.Dot(axes=1, normalize=True)([h, b])]
    conv = layers.Conv2D(2, 3, padding="same", activation="relu")(image)
    pooled = [layers.GlobalMaxPooling2D()(conv),
              layers.GlobalAveragePooling2D()(layers.AveragePooling2D()(conv)),
              layers.Flatten()(layers.MaxPooling2D(pool_size=(3, 3))(layers.Conv2D(3, 2, strides=2)(conv)))]
    embedded = layers.Flatten()(layers.Reshape((2, 6))(layers.Embedding(10, 3)(ids)))
    inner_in = layers.Input((6,))
    inner = Model(inner_in, layers.Dense(3)(layers.BatchNormalization()(inner_in)), name="inner")
    stack = Sequential([layers.Dense(5, input_shape=(6,), activation="relu"), layers.Dropout(0.5)],
                       name="stack")
    out = layers.Concatenate()(merged + pooled + [embedded, stack(b), inner(a)])
    model = Model([a, b, image, ids], layers.Dense(2)(layers.BatchNormalization()(out)))
    model.compile(SGD(lr=0.01, momentum=0.9), "mse")
    model.fit(mk_inputs(model, 16), np.random.rand(16, 2), epochs=2, verbose=0)
    return model


def mk_nested_sequential() -> Model:
    inner = Sequential([layers.Dense(3, input_shape=(4,)), layers.BatchNormalization()], name="inner")
    model = Sequential([inner, layers.Dense(2)])
    model.compile("rmsprop", "mse")
    model.fit(np.random.rand(16, 4), np.random.rand(16, 2), verbose=0)
    return model


MK_MODELS: dict[str, Callable[[], Model]] = {"sequential": mk_sequential, "every_layer": mk_every_layer,
                                             "nested_sequential": mk_nested_sequential}


@pytest.mark.parametrize("build", MK_MODELS.values(), ids=MK_MODELS.keys())
def test_minikeras_archive_loads_in_keras3_with_its_optimizer_state(build: Callable[[], Model],
                                                                    tmp_path: Path) -> None:
    model = build()
    x = mk_inputs(model)
    model.save(tmp_path / "m.keras")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*Skipping variable loading.*")
        loaded = keras.models.load_model(tmp_path / "m.keras")
    assert_same(k3_predict(loaded, x), model.predict(x))
    assert int(loaded.optimizer.iterations.numpy()) == int(K.get_value(model.optimizer.iterations))


def two_dense(optimizer: Any) -> Model:
    model = Sequential([layers.Dense(5, activation="tanh", input_shape=(4,)), layers.Dense(2)])
    model.compile(optimizer, "mse")
    return model


STEPPERS = {"adam": lambda: Adam(lr=0.01), "sgd_nesterov": lambda: SGD(lr=0.05, momentum=0.9, nesterov=True)}


@can_train
@pytest.mark.parametrize("make", STEPPERS.values(), ids=STEPPERS.keys())
def test_keras3_continues_training_where_minikeras_stopped(make: Callable[[], Any], tmp_path: Path) -> None:
    """Keras 2's SGD and Adam are Keras 3's: one more step lands on the same weights."""
    model = two_dense(make())
    x, y = np.random.rand(16, 4).astype("float32"), np.random.rand(16, 2).astype("float32")
    model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    model.train_on_batch(x[:8], y[:8])
    loaded.train_on_batch(x[:8], y[:8])
    for got, want in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(got, want, atol=ATOL)


def test_minikeras_weights_file_loads_in_keras3(tmp_path: Path) -> None:
    model = mk_sequential()
    model.save_weights(tmp_path / "m.weights.h5")
    kl = keras.layers
    twin = keras.Sequential([keras.Input((4,)), kl.Dense(6, activation="relu"), kl.BatchNormalization(),
                             kl.Dropout(0.3), kl.Dense(3, activation="softmax")])
    twin.load_weights(tmp_path / "m.weights.h5")
    x = mk_inputs(model)
    assert_same(k3_predict(twin, x), model.predict(x))


# --- Keras 3 -> minikeras --------------------------------------------------------------------------

def k3_sequential() -> Any:
    kl = keras.layers
    model = keras.Sequential([keras.Input((4,)), kl.Dense(6, activation="relu"), kl.BatchNormalization(),
                              kl.Dropout(0.2), kl.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def k3_sequential_built_from_data() -> Any:
    kl = keras.layers
    model = keras.Sequential([kl.Dense(4, activation="relu"), kl.Dense(2)])
    model.build((None, 3))  # no Input: the shape is only recorded as build_input_shape
    model.compile(optimizer="rmsprop", loss="mse")
    return model


def k3_every_layer() -> Any:
    kl = keras.layers
    a, b = keras.Input((6,), name="a"), keras.Input((6,), name="b")
    image = keras.Input((6, 6, 1), name="image")
    ids = keras.Input((4,), dtype="int32", name="ids")
    h = kl.Activation("tanh")(kl.Dense(6)(a))
    merged = [kl.Add()([h, b]), kl.Subtract()([h, b]), kl.Multiply()([h, b]), kl.Average()([h, b]),
              kl.Maximum()([h, b]), kl.Minimum()([h, b]), kl.Dot(axes=1, normalize=True)([h, b])]
    conv = kl.Conv2D(2, 3, padding="same", activation="relu")(image)
    pooled = [kl.GlobalMaxPooling2D()(conv), kl.GlobalAveragePooling2D()(kl.AveragePooling2D(2)(conv)),
              kl.Flatten()(kl.MaxPooling2D(pool_size=(3, 3))(kl.Conv2D(3, 2, strides=2)(conv)))]
    embedded = kl.Flatten()(kl.Reshape((2, 6))(kl.Embedding(10, 3)(ids)))
    inner_in = keras.Input((6,))
    inner = keras.Model(inner_in, kl.Dense(3)(kl.BatchNormalization()(inner_in)), name="inner")
    stack = keras.Sequential([keras.Input((6,)), kl.Dense(5, activation="relu"), kl.Dropout(0.5)], name="stack")
    out = kl.Concatenate()(merged + pooled + [embedded, stack(b), inner(a)])
    model = keras.Model([a, b, image, ids], kl.Dense(2)(kl.BatchNormalization()(out)))
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="mse")
    return model


K3_MODELS: dict[str, Callable[[], Any]] = {
    "sequential": k3_sequential, "built_from_data": k3_sequential_built_from_data, "every_layer": k3_every_layer}


def _k3_targets(model: Any, n: int) -> Any:
    width = model.outputs[0].shape[-1]
    return np.eye(width)[np.random.randint(0, width, n)].astype("float32")


@can_train
@pytest.mark.parametrize("build", K3_MODELS.values(), ids=K3_MODELS.keys())
def test_keras3_archive_loads_in_minikeras_with_its_optimizer_state(build: Callable[[], Any],
                                                                    tmp_path: Path) -> None:
    model = build()
    x = k3_inputs(model, 16)
    model.fit(x, _k3_targets(model, 16), epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "optimizer state was not restored" would fail
        loaded = saving.load_model(tmp_path / "m.keras")
    assert_same(loaded.predict(x), k3_predict(model, x))
    assert int(K.get_value(loaded.optimizer.iterations)) == int(model.optimizer.iterations.numpy())


@can_train
def test_minikeras_continues_training_where_keras3_stopped(tmp_path: Path) -> None:
    kl = keras.layers
    model = keras.Sequential([keras.Input((4,)), kl.Dense(5, activation="tanh"), kl.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    x, y = np.random.rand(16, 4).astype("float32"), np.random.rand(16, 2).astype("float32")
    model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = saving.load_model(tmp_path / "m.keras")
    model.train_on_batch(x[:8], y[:8])
    loaded.train_on_batch(x[:8], y[:8])
    for got, want in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(got, np.asarray(want), atol=ATOL)


def test_uncompiled_keras3_archive_and_its_weights_file(tmp_path: Path) -> None:
    model = k3_every_layer()
    x = k3_inputs(model)
    expected = k3_predict(model, x)
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "m.weights.h5")
    loaded = saving.load_model(tmp_path / "m.keras", compile=False)
    assert loaded.optimizer is None
    assert_same(loaded.predict(x), expected)
    K.clear_session()
    twin = saving.load_model(tmp_path / "m.keras", compile=False)
    for w in twin.weights:
        K.set_value(w, np.zeros(K.int_shape(w)))
    twin.load_weights(tmp_path / "m.weights.h5")
    assert_same(twin.predict(x), expected)


def test_compiled_but_untrained_both_ways(tmp_path: Path) -> None:
    """Keras 3 saves an unbuilt optimizer as its step count and learning rate; so does minikeras."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
    model.save(tmp_path / "k3.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        loaded = saving.load_model(tmp_path / "k3.keras")
    assert float(K.get_value(loaded.optimizer.lr)) == pytest.approx(0.02)
    loaded.save(tmp_path / "mk.keras")
    again = keras.models.load_model(tmp_path / "mk.keras")
    assert float(again.optimizer.learning_rate.numpy()) == pytest.approx(0.02)
