"""``fit_generator``, ``evaluate_generator`` and ``predict_generator`` with Python generators
and ``keras.utils.Sequence`` (read in the calling thread)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from minikeras.layers import Dense
from minikeras.models import Sequential
from minikeras.optimizers import SGD
from minikeras.utils import Sequence

X = np.random.RandomState(0).randn(40, 3).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")).astype("float32")


def model():
    m = Sequential([Dense(1, input_shape=(3,), kernel_initializer="zeros")])
    m.compile(SGD(lr=0.05), loss="mse", metrics=["mae"])
    return m


def batches(batch_size=10, forever=True):
    while True:
        for i in range(0, len(X), batch_size):
            yield X[i : i + batch_size], Y[i : i + batch_size]
        if not forever:
            return


class Batches(Sequence):
    def __init__(self, batch_size=10):
        self.batch_size, self.epochs_ended, self.threads = batch_size, 0, set()

    def __len__(self):
        return int(np.ceil(len(X) / self.batch_size))

    def __getitem__(self, i):
        self.threads.add(threading.get_ident())
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return X[s], Y[s]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_fit_generator_matches_fit_on_the_same_batches():
    a, b = model(), model()
    history = a.fit_generator(batches(), steps_per_epoch=4, epochs=3, verbose=0)
    reference = b.fit(X, Y, batch_size=10, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], reference.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(a.get_weights()[0], b.get_weights()[0], rtol=1e-5)
    assert a.history is history


def test_fit_generator_on_a_sequence_in_the_calling_thread_with_validation():
    seq = Batches()
    m = model()
    history = m.fit_generator(seq, epochs=2, verbose=0, validation_data=Batches(20), workers=4,
                              use_multiprocessing=True)
    assert seq.epochs_ended == 2 and seq.threads == {threading.get_ident()}
    assert set(history.history) == {"loss", "mean_absolute_error", "val_loss", "val_mean_absolute_error"}
    np.testing.assert_allclose(history.history["val_loss"][-1], m.evaluate(X, Y, verbose=0)[0], rtol=1e-5)
    tuple_val = m.fit_generator(seq, epochs=1, verbose=0, validation_data=(X, Y))
    assert "val_loss" in tuple_val.history


def test_evaluate_and_predict_generator():
    m = model()
    m.fit(X, Y, epochs=2, verbose=0)
    np.testing.assert_allclose(m.evaluate_generator(Batches(), steps=None), m.evaluate(X, Y, verbose=0),
                               rtol=1e-5)
    np.testing.assert_allclose(m.evaluate_generator(batches(16), steps=2),
                               m.evaluate(X[:32], Y[:32], verbose=0, batch_size=16), rtol=1e-5)
    np.testing.assert_allclose(m.predict_generator(Batches()), m.predict(X), rtol=1e-6)
    only_x = (x for x, _ in batches())
    np.testing.assert_allclose(m.predict_generator(only_x, steps=4), m.predict(X), rtol=1e-6)


def test_generator_errors():
    m = model()
    with pytest.raises(ValueError, match="steps_per_epoch"):
        m.fit_generator(batches(), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="Output of generator should be a tuple"):
        m.fit_generator((x for x, _ in batches()), steps_per_epoch=1, verbose=0)
