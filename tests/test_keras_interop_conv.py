"""Interop with real Keras 3 for every layer kind of the convolution family: a minikeras
``.h5`` file loads in ``keras.models.load_model`` and predicts the same numbers, and a file
Keras 3 saved loads in minikeras and predicts the same.

Needs the ``interop`` extra. Keras 3's backend is whichever of jax, torch or numpy is
importable (unless ``KERAS_BACKEND`` says otherwise), set before keras is imported: nothing
here depends on which. Skipped, with the reason, when keras is not installed.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

if "KERAS_BACKEND" not in os.environ:
    for _backend in ("jax", "torch", "numpy"):
        if _backend == "numpy" or importlib.util.find_spec(_backend) is not None:
            os.environ["KERAS_BACKEND"] = _backend
            break
keras = pytest.importorskip("keras", reason="the interop extra (keras and a backend) is not installed")

from minikeras import layers, saving  # noqa: E402
from minikeras.models import Model  # noqa: E402

pytestmark = [pytest.mark.interop, pytest.mark.filterwarnings("ignore::DeprecationWarning:keras.*")]

ATOL = 1e-5
SEED = 11


@pytest.fixture(autouse=True)
def fresh_keras() -> None:
    keras.backend.clear_session()
    keras.utils.set_random_seed(SEED)


# Each case: an input shape, and the layers to stack, made from a module of layer classes
# (``minikeras.layers`` or ``keras.layers``): the same arguments mean the same layer in both.
Case = tuple[tuple[int, ...], Callable[[Any], list[Any]]]
CASES: dict[str, Case] = {
    "conv1d": ((10, 3), lambda L: [L.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu"),
                                   L.Conv1D(2, 2, strides=2, bias_initializer="ones")]),
    "conv2d_dilated": ((8, 8, 2), lambda L: [L.Conv2D(3, 3, dilation_rate=2, padding="same"),
                                             L.Conv2D(2, (2, 3), strides=(2, 1))]),
    "conv2d_channels_first": ((2, 6, 5), lambda L: [
        L.Conv2D(3, 3, padding="same", data_format="channels_first", bias_initializer="ones"),
        L.MaxPooling2D(data_format="channels_first"), L.Flatten()]),
    "conv3d": ((4, 4, 4, 1), lambda L: [L.Conv3D(2, 2, strides=(1, 2, 1), padding="same"),
                                        L.Conv3D(2, (2, 1, 2))]),
    "conv2d_transpose": ((4, 4, 2), lambda L: [L.Conv2DTranspose(3, 3, strides=2, padding="same"),
                                               L.Conv2DTranspose(2, 3, strides=2, bias_initializer="ones")]),
    "conv3d_transpose": ((2, 3, 2, 1), lambda L: [L.Conv3DTranspose(2, 2, strides=2)]),
    "separable_conv1d": ((8, 3), lambda L: [L.SeparableConv1D(4, 3, depth_multiplier=2, padding="same")]),
    "separable_conv2d": ((7, 7, 3), lambda L: [L.SeparableConv2D(4, 3, strides=2, activation="relu")]),
    "depthwise_conv2d": ((5, 5, 3), lambda L: [L.DepthwiseConv2D(3, depth_multiplier=2, padding="same",
                                                                 bias_initializer="ones")]),
    "upsampling": ((3, 3, 2), lambda L: [L.UpSampling2D((2, 3)), L.Conv2D(2, 3)]),
    "upsampling_1d_3d": ((4, 2), lambda L: [L.UpSampling1D(3), L.Reshape((3, 4, 2, 1)), L.UpSampling3D(2)]),
    "zero_padding": ((3, 3, 2), lambda L: [L.ZeroPadding2D(((1, 0), (2, 1))), L.Conv2D(2, 2)]),
    "zero_padding_1d_3d": ((4, 2), lambda L: [L.ZeroPadding1D((1, 2)), L.Reshape((1, 7, 2, 1)),
                                              L.ZeroPadding3D(1)]),
    "cropping": ((5, 6, 2), lambda L: [L.Cropping2D(((1, 0), (1, 2)))]),
    "cropping_1d_3d": ((6, 4), lambda L: [L.Cropping1D((1, 2)), L.Reshape((3, 2, 2, 1)),
                                          L.Cropping3D(((1, 0), (0, 1), (1, 0)))]),
    "pooling_1d": ((9, 3), lambda L: [L.MaxPooling1D(), L.AveragePooling1D(2, strides=1),
                                      L.GlobalMaxPooling1D()]),
    "pooling_3d": ((4, 4, 6, 2), lambda L: [L.MaxPooling3D(), L.AveragePooling3D((1, 2, 3)),
                                            L.GlobalAveragePooling3D()]),
    "global_pooling": ((5, 3), lambda L: [L.Conv1D(3, 2), L.GlobalAveragePooling1D()]),
    "global_max_3d": ((2, 3, 4, 2), lambda L: [L.GlobalMaxPooling3D()]),
}


def mk_model(case: Case) -> Model:
    shape, make = case
    x = layers.Input(shape)
    h = x
    for layer in make(layers):
        h = layer(h)
    return Model(x, h)


def k3_model(case: Case) -> Any:
    shape, make = case
    x = keras.Input(shape)
    h = x
    for layer in make(keras.layers):
        h = layer(h)
    return keras.Model(x, h)


def batch(case: Case, n: int = 3) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, *case[0])).astype("float32")


@pytest.mark.parametrize("name", CASES)
def test_minikeras_file_loads_in_keras3_and_predicts_the_same(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    model = mk_model(case)
    x = batch(case)
    saving.save_model(model, tmp_path / "model.h5")
    loaded = keras.models.load_model(tmp_path / "model.h5")
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), model.predict(x), atol=ATOL)


@pytest.mark.parametrize("name", CASES)
def test_keras3_file_loads_in_minikeras_and_predicts_the_same(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    model = k3_model(case)
    x = batch(case)
    expected = np.asarray(model.predict(x, verbose=0))
    model.save(tmp_path / "model.h5")
    loaded = saving.load_model(tmp_path / "model.h5")
    np.testing.assert_allclose(loaded.predict(x), expected, atol=ATOL)
    # and back: the weights land in a minikeras twin by position, under Keras 2 names
    twin = mk_model(case)
    saving.load_weights(twin, tmp_path / "model.h5")
    np.testing.assert_allclose(twin.predict(x), expected, atol=ATOL)
