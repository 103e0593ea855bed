"""Interop with real Keras 3: files written by minikeras load in ``keras.models.load_model`` and
predict the same numbers (and train on); ``.h5`` files saved by Keras 3 load in minikeras.

Needs the ``interop`` extra (``keras`` and its lightest backend, a CPU-only ``jax``). Keras 3
picks its backend from ``KERAS_BACKEND`` at import; this module sets ``jax`` unless another
is given. Skipped, with the reason, when keras is not installed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras", reason="the interop extra (keras, jax) is not installed")

from minikeras import backend as K  # noqa: E402
from minikeras import layers, saving  # noqa: E402
from minikeras.models import Model, Sequential  # noqa: E402
from minikeras.optimizers import SGD, Adam  # noqa: E402

pytestmark = [pytest.mark.interop,
              # Keras's backends and NumPy 2 disagree about __array__(copy=...): not ours.
              pytest.mark.filterwarnings("ignore::DeprecationWarning:keras.*")]

ATOL = 1e-5  # float32 arithmetic in another order (XLA kernels vs NumPy)


SEED = 7  # NumPy's global seed for each test (tests/conftest.py)


@pytest.fixture(autouse=True)
def fresh_keras() -> None:
    keras.backend.clear_session()
    keras.utils.set_random_seed(SEED)


def _predict_keras(model: Any, x: Any) -> Any:
    out = model.predict(x, verbose=0)
    return [np.asarray(o) for o in out] if isinstance(out, list) else np.asarray(out)


# --- minikeras -> Keras 3 ------------------------------------------------------------------------

def mk_sequential() -> Model:
    model = Sequential([layers.Dense(6, activation="relu", input_shape=(4,)),
                        layers.BatchNormalization(), layers.Dropout(0.3),
                        layers.Dense(3, activation="softmax")])
    model.compile(SGD(lr=0.1, momentum=0.9), "categorical_crossentropy", metrics=["acc"])
    x = np.random.rand(32, 4).astype("float32")
    model.fit(x, np.eye(3)[np.random.randint(0, 3, 32)], epochs=3, batch_size=8, verbose=0)
    return model


def mk_functional() -> Model:
    a = layers.Input((4,), name="a")
    b = layers.Input((3,), name="b")
    h = layers.concatenate([layers.Dense(5, activation="tanh")(a), b])
    model = Model([a, b], [layers.Dense(2)(h), layers.Dense(1, activation="sigmoid")(h)])
    model.compile(Adam(lr=0.01), ["mse", "binary_crossentropy"], metrics=["mae"])
    xs = [np.random.rand(16, 4).astype("float32"), np.random.rand(16, 3).astype("float32")]
    model.fit(xs, [np.random.rand(16, 2), np.random.randint(0, 2, (16, 1))], epochs=2, verbose=0)
    return model


def mk_conv() -> Model:
    return Sequential([layers.Conv2D(3, 3, padding="same", activation="relu", input_shape=(8, 8, 2)),
                       layers.MaxPooling2D(), layers.Conv2D(4, 2, strides=2),
                       layers.AveragePooling2D(pool_size=(2, 2), padding="same"),
                       layers.BatchNormalization(), layers.Flatten(), layers.Dense(3)])


def mk_nested() -> Model:
    inner_in = layers.Input((5,))
    inner = Model(inner_in, layers.Dense(3)(layers.BatchNormalization()(inner_in)), name="inner")
    stack = Sequential([layers.Dense(5, input_shape=(5,), activation="relu"),
                        layers.BatchNormalization()], name="stack")
    ids = layers.Input((4,), dtype="int32", name="ids")
    h = layers.GlobalAveragePooling2D()(layers.Reshape((2, 2, 5))(layers.Embedding(10, 5)(ids)))
    model = Model(ids, inner(stack(h)))
    model.compile("rmsprop", "mse")
    model.fit(np.random.randint(0, 10, (16, 4)), np.random.rand(16, 3), verbose=0)
    return model


def _inputs(model: Model, n: int = 6) -> Any:
    arrays = []
    for x in model.inputs:
        shape = (n,) + tuple(K.int_shape(x)[1:])
        arrays.append(np.random.randint(0, 10, shape).astype("int32") if K.dtype(x).startswith("int")
                      else np.random.rand(*shape).astype("float32"))
    return arrays[0] if len(arrays) == 1 else arrays


MK_MODELS: dict[str, Callable[[], Model]] = {
    "sequential": mk_sequential, "functional_multi_input": mk_functional, "conv": mk_conv,
    "nested_embedding": mk_nested,
}


@pytest.mark.parametrize("build", MK_MODELS.values(), ids=MK_MODELS.keys())
def test_minikeras_file_loads_in_keras3_and_predicts_the_same(build: Callable[[], Model],
                                                              tmp_path: Path) -> None:
    model = build()
    x = _inputs(model)
    expected = model.predict(x)
    saving.save_model(model, tmp_path / "model.h5")
    loaded = keras.models.load_model(tmp_path / "model.h5")
    got = loaded.predict(x, verbose=0)
    for g, e in zip(got if isinstance(got, list) else [got], expected if isinstance(expected, list) else [expected]):
        np.testing.assert_allclose(np.asarray(g), e, atol=ATOL)


def test_keras3_trains_on_from_a_minikeras_file(tmp_path: Path) -> None:
    model = mk_sequential()
    saving.save_model(model, tmp_path / "model.h5")
    loaded = keras.models.load_model(tmp_path / "model.h5")
    assert type(loaded.optimizer).__name__ == "SGD"
    assert float(loaded.optimizer.learning_rate) == pytest.approx(0.1)
    assert float(loaded.optimizer.momentum) == pytest.approx(0.9)
    x = np.random.rand(32, 4).astype("float32")
    y = np.eye(3)[np.random.randint(0, 3, 32)]
    history = loaded.fit(x, y, epochs=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_minikeras_weights_file_loads_in_keras3(tmp_path: Path) -> None:
    model = mk_functional()
    saving.save_weights(model, tmp_path / "weights.h5")
    a, b = keras.Input((4,)), keras.Input((3,))
    h = keras.layers.Concatenate()([keras.layers.Dense(5, activation="tanh")(a), b])
    twin = keras.Model([a, b], [keras.layers.Dense(2)(h), keras.layers.Dense(1, activation="sigmoid")(h)])
    twin.load_weights(tmp_path / "weights.h5")  # by position: Keras 3's names are "dense", not "dense_1"
    x = _inputs(model)
    for g, e in zip(twin.predict(x, verbose=0), model.predict(x)):
        np.testing.assert_allclose(np.asarray(g), e, atol=ATOL)


# --- Keras 3 -> minikeras ------------------------------------------------------------------------

def k3_sequential() -> Any:
    kl = keras.layers
    model = keras.Sequential([keras.Input((4,)), kl.Dense(6, activation="relu"), kl.BatchNormalization(),
                              kl.Dropout(0.2), kl.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(np.random.rand(32, 4), np.eye(3)[np.random.randint(0, 3, 32)], epochs=2, verbose=0)
    return model


def k3_functional_nested() -> Any:
    kl = keras.layers
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    stack = keras.Sequential([keras.Input((7,)), kl.Dense(5, activation="relu"), kl.BatchNormalization()],
                             name="stack")
    inner_in = keras.Input((5,))
    inner = keras.Model(inner_in, kl.Dense(2)(kl.BatchNormalization()(inner_in)), name="inner")
    h = kl.Concatenate()([kl.Dense(4, activation="tanh")(a), b])
    out = inner(stack(h))  # a nested Sequential feeding a nested functional model: call 0 of each
    model = keras.Model([a, b], kl.Add()([out, kl.Dense(2)(out)]))
    model.compile(optimizer="sgd", loss="mean_squared_error")
    model.fit([np.random.rand(16, 4), np.random.rand(16, 3)], np.random.rand(16, 2), epochs=2, verbose=0)
    return model


def k3_nested_outputs() -> Any:
    """Nested models as outputs: Keras 3 writes a functional model's call as 1, a Sequential's as 0."""
    kl = keras.layers
    x = keras.Input((3,))
    inner_in = keras.Input((3,))
    inner = keras.Model(inner_in, kl.Dense(2)(inner_in), name="inner")
    stack = keras.Sequential([keras.Input((3,)), kl.Dense(4)], name="stack")
    return keras.Model(x, [inner(x), stack(x)])


def k3_conv() -> Any:
    kl = keras.layers
    return keras.Sequential([keras.Input((8, 8, 2)), kl.Conv2D(3, 3, padding="same", activation="relu"),
                             kl.MaxPooling2D(), kl.Conv2D(4, 2), kl.AveragePooling2D(2),
                             kl.GlobalAveragePooling2D(), kl.Dropout(0.1), kl.Dense(2)])


def k3_embedding() -> Any:
    kl = keras.layers
    ids = keras.Input((5,), dtype="int32")
    return keras.Model(ids, kl.Dense(2)(kl.Flatten()(kl.Embedding(10, 3)(ids))))


K3_MODELS: dict[str, Callable[[], Any]] = {
    "sequential": k3_sequential, "functional_nested": k3_functional_nested,
    "nested_outputs": k3_nested_outputs, "conv": k3_conv, "embedding": k3_embedding,
}


def _k3_inputs(model: Any, n: int = 6) -> Any:
    arrays = []
    for x in model.inputs:
        shape = (n,) + tuple(x.shape[1:])
        arrays.append(np.random.randint(0, 10, shape).astype("int32") if "int" in str(x.dtype)
                      else np.random.rand(*shape).astype("float32"))
    return arrays[0] if len(arrays) == 1 else arrays


@pytest.mark.filterwarnings("ignore:.*optimizer state was not restored")
@pytest.mark.parametrize("build", K3_MODELS.values(), ids=K3_MODELS.keys())
def test_keras3_file_loads_in_minikeras_and_predicts_the_same(build: Callable[[], Any],
                                                              tmp_path: Path) -> None:
    model = build()
    x = _k3_inputs(model)
    expected = _predict_keras(model, x)
    model.save(tmp_path / "model.h5")
    loaded = saving.load_model(tmp_path / "model.h5")
    got = loaded.predict(x)
    for g, e in zip(got if isinstance(got, list) else [got], expected if isinstance(expected, list) else [expected]):
        np.testing.assert_allclose(g, np.asarray(e), atol=ATOL)


def test_keras3_compiled_file_compiles_and_trains_in_minikeras(tmp_path: Path) -> None:
    model = k3_sequential()
    model.save(tmp_path / "model.h5")
    with pytest.warns(UserWarning, match="optimizer state was not restored"):
        loaded = saving.load_model(tmp_path / "model.h5")
    assert type(loaded.optimizer).__name__ == "Adam"
    assert loaded.optimizer.get_config()["learning_rate"] == pytest.approx(0.01)
    x = np.random.rand(8, 4)
    loss = loaded.train_on_batch(x, np.eye(3)[np.random.randint(0, 3, 8)])
    assert np.isfinite(loss).all()


def test_keras3_model_file_weights_load_into_a_minikeras_model(tmp_path: Path) -> None:
    model = k3_conv()
    model.save(tmp_path / "model.h5")
    twin = Sequential([layers.Conv2D(3, 3, padding="same", activation="relu", input_shape=(8, 8, 2)),
                       layers.MaxPooling2D(), layers.Conv2D(4, 2), layers.AveragePooling2D(2),
                       layers.GlobalAveragePooling2D(), layers.Dropout(0.1), layers.Dense(2)])
    saving.load_weights(twin, tmp_path / "model.h5")
    x = _k3_inputs(model)
    np.testing.assert_allclose(twin.predict(x), _predict_keras(model, x), atol=ATOL)


# --- every layer minikeras has, both ways -----------------------------------------------------------

def k3_every_layer() -> Any:
    kl = keras.layers
    a, b = keras.Input((6,), name="a"), keras.Input((6,), name="b")
    image = keras.Input((6, 6, 1), name="image")
    h = kl.Activation("tanh")(kl.Dense(6)(a))
    merged = [kl.Add()([h, b]), kl.Subtract()([h, b]), kl.Multiply()([h, b]), kl.Average()([h, b]),
              kl.Maximum()([h, b]), kl.Minimum()([h, b])]
    dot = kl.Dot(axes=1, normalize=True)([h, b])
    pooled = kl.GlobalMaxPooling2D()(kl.Conv2D(2, 3, activation="relu")(image))
    flat = kl.Flatten()(kl.Reshape((3, 4))(kl.Dropout(0.5)(kl.Concatenate()(merged[:1]
                                                                             + [kl.Reshape((6,))(b)]))))
    out = kl.Concatenate()(merged + [dot, pooled, flat])
    return keras.Model([a, b, image], kl.BatchNormalization()(out))


def mk_every_layer() -> Model:
    a, b = layers.Input((6,), name="a"), layers.Input((6,), name="b")
    image = layers.Input((6, 6, 1), name="image")
    h = layers.Activation("tanh")(layers.Dense(6)(a))
    merged = [layers.Add()([h, b]), layers.Subtract()([h, b]), layers.Multiply()([h, b]),
              layers.Average()([h, b]), layers.Maximum()([h, b]), layers.Minimum()([h, b])]
    dot = layers.Dot(axes=1, normalize=True)([h, b])
    pooled = layers.GlobalMaxPooling2D()(layers.Conv2D(2, 3, activation="relu")(image))
    flat = layers.Flatten()(layers.Reshape((3, 4))(layers.Dropout(0.5)(
        layers.Concatenate()(merged[:1] + [layers.Reshape((6,))(b)]))))
    out = layers.Concatenate()(merged + [dot, pooled, flat])
    return trained_bn(Model([a, b, image], layers.BatchNormalization()(out)))


def trained_bn(model: Model) -> Model:
    """Moving statistics away from 0 and 1, so that loading them is checked too."""
    x = _inputs(model, 16)
    model.compile(SGD(lr=0.01), "mse")
    model.fit(x, np.random.rand(16, K.int_shape(model.outputs[0])[-1]), epochs=2, verbose=0)
    return model


def test_every_layer_from_keras3(tmp_path: Path) -> None:
    model = k3_every_layer()
    model.compile(optimizer="sgd", loss="mse")
    x = _k3_inputs(model, 16)
    model.fit(x, np.random.rand(16, model.outputs[0].shape[-1]), epochs=2, verbose=0)
    model.save(tmp_path / "model.h5")
    with pytest.warns(UserWarning, match="optimizer state was not restored"):
        loaded = saving.load_model(tmp_path / "model.h5")
    np.testing.assert_allclose(loaded.predict(x), _predict_keras(model, x), atol=ATOL)


def test_every_layer_to_keras3(tmp_path: Path) -> None:
    model = mk_every_layer()
    x = _inputs(model)
    saving.save_model(model, tmp_path / "model.h5")
    loaded = keras.models.load_model(tmp_path / "model.h5")
    np.testing.assert_allclose(_predict_keras(loaded, x), model.predict(x), atol=ATOL)
