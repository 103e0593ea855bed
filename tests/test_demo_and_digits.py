"""The README's demo runs, and a small network learns the digits."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import minikeras as keras
from minikeras import backend as K
from minikeras.datasets import digits
from minikeras.layers import Conv2D, Dense, Flatten, MaxPooling2D


def test_demo_runs_and_explains_itself() -> None:
    out = subprocess.run([sys.executable, "-m", "minikeras"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    for expected in ("Test accuracy", "hidden/Relu:0", "classes/BiasAdd:0", "Epoch 20/20"):
        assert expected in out.stdout


def test_a_small_cnn_reaches_95_percent_on_the_digits() -> None:
    K.clear_session()
    np.random.seed(1)
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    x_train = x_train[..., None].astype("float32") / 16
    x_test = x_test[..., None].astype("float32") / 16
    model = keras.Sequential([
        Conv2D(16, (3, 3), padding="same", activation="relu", input_shape=(8, 8, 1)),
        MaxPooling2D(),
        Flatten(),
        Dense(64, activation="relu"),
        Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=12, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy >= 0.95
