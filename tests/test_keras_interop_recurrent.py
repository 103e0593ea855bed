"""Recurrent models in Keras's .h5 layout, loaded by real Keras 3 and back, predicting the same.

Keras 3's backend is whichever of jax, torch or numpy is importable (``KERAS_BACKEND`` is set
before keras is imported, unless given). Keras 3's ``hard_sigmoid`` is not Keras 2's
(``x / 6 + 0.5`` against ``0.2 x + 0.5``), so these models use ``sigmoid`` gates.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

if "KERAS_BACKEND" not in os.environ:
    os.environ["KERAS_BACKEND"] = next((b for b in ("jax", "torch") if importlib.util.find_spec(b)), "numpy")
keras = pytest.importorskip("keras", reason="the interop extra (keras and a backend) is not installed")

from minikeras import layers  # noqa: E402
from minikeras.models import Model, Sequential, load_model  # noqa: E402

pytestmark = [pytest.mark.interop, pytest.mark.filterwarnings("ignore::DeprecationWarning:keras.*"),
              pytest.mark.filterwarnings("ignore::UserWarning")]
ATOL = 1e-5
GATES = {"recurrent_activation": "sigmoid"}


def sequential_lstm_gru():
    return Sequential([layers.LSTM(4, return_sequences=True, input_shape=(5, 3), **GATES),
                       layers.GRU(3, reset_after=True, return_sequences=True, **GATES),
                       layers.SimpleRNN(2, go_backwards=True), layers.Dense(2)])


def embedding_bidirectional():
    ids = layers.Input((6,))
    x = layers.Embedding(12, 4, mask_zero=True)(ids)
    x = layers.Bidirectional(layers.LSTM(3, return_sequences=True, **GATES), merge_mode="sum")(x)
    x = layers.TimeDistributed(layers.Dense(2))(x)
    return Model(ids, x)


def seq2seq():
    return Sequential([layers.Masking(input_shape=(5, 3)), layers.GRU(4, **GATES), layers.RepeatVector(3),
                       layers.LSTM(4, return_sequences=True, **GATES),
                       layers.TimeDistributed(layers.Dense(2, activation="softmax"))])


def inputs_for(model):
    shape = model.inputs[0].shape
    if len(shape) == 2:
        x = np.random.randint(1, 12, (4, shape[1])).astype("float32")
        x[1, 3:] = 0  # padding
        return x
    x = np.random.randn(4, *shape[1:]).astype("float32")
    x[2, 3:] = 0
    return x


@pytest.mark.parametrize("make", [sequential_lstm_gru, embedding_bidirectional, seq2seq])
def test_minikeras_recurrent_models_load_in_keras_3_and_predict_the_same(make, tmp_path):
    model = make()
    model.set_weights([np.random.randn(*w.shape).astype("float32") * 0.5 for w in model.weights])
    x = inputs_for(model)
    path = str(tmp_path / "model.h5")
    model.save(path)
    theirs = keras.models.load_model(path, compile=False)
    got, want = np.asarray(theirs.predict(x, verbose=0)), model.predict(x)
    if make is embedding_bidirectional:
        # A masked step's output is Keras 2's previous output, Keras 3's zeros: compare real steps.
        real = x != 0
        got, want = got[real], want[real]
    np.testing.assert_allclose(got, want, atol=ATOL)


def test_a_keras_3_lstm_model_loads_in_minikeras(tmp_path):
    theirs = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4, return_sequences=True),
                               keras.layers.GRU(3), keras.layers.Dense(2)])
    x = np.random.randn(2, 5, 3).astype("float32")
    path = str(tmp_path / "keras3.h5")
    theirs.save(path)
    ours = load_model(path, compile=False)
    np.testing.assert_allclose(ours.predict(x), np.asarray(theirs.predict(x, verbose=0)), atol=ATOL)
