"""Keras 2.2's further callbacks (ReduceLROnPlateau, LearningRateScheduler, TerminateOnNaN,
CSVLogger) and accuracy's two spellings wherever a logged name is looked up."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest

from minikeras import backend as K
from minikeras.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TerminateOnNaN,
    other_spelling,
)
from minikeras.layers import Dense
from minikeras.models import Sequential
from minikeras.optimizers import SGD


def classifier(lr=0.1, metrics=("accuracy",)):
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(SGD(lr=lr), loss="categorical_crossentropy", metrics=list(metrics))
    return model


def data(n=32):
    x = np.random.randn(n, 4).astype("float32")
    return x, np.eye(3, dtype="float32")[x[:, :3].argmax(1)]


def test_other_spelling():
    assert other_spelling("acc") == "accuracy" and other_spelling("val_accuracy") == "val_acc"
    assert other_spelling("dense_1_acc") == "dense_1_accuracy"
    assert other_spelling("loss") is None and other_spelling("val_accident") is None


@pytest.mark.parametrize("written, asked", [("accuracy", "acc"), ("acc", "accuracy")])
def test_history_answers_to_both_spellings(written, asked):
    x, y = data()
    history = classifier(metrics=[written]).fit(x, y, epochs=2, validation_data=(x, y), verbose=0)
    assert written in history.history and asked in history.history
    assert history.history[asked] == history.history[written]
    assert history.history["val_" + asked] == history.history["val_" + written]
    assert sorted(history.history) == sorted(["loss", written, "val_loss", "val_" + written])


def test_early_stopping_and_checkpoint_monitor_the_other_spelling(tmp_path):
    x, y = data()
    stop = EarlyStopping(monitor="val_acc", patience=0, mode="max")
    best = tmp_path / "best-{epoch:02d}-{val_acc:.2f}.h5"
    check = ModelCheckpoint(str(best), monitor="val_acc", save_best_only=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "not available" warning from the checkpoint
        classifier(lr=0.0).fit(x, y, epochs=5, validation_data=(x, y), verbose=0, callbacks=[stop, check])
    assert stop.stopped_epoch == 1  # lr 0: no improvement after the first epoch
    assert [p.name[:8] for p in tmp_path.iterdir()] == ["best-01-"]


def test_learning_rate_scheduler_sets_lr_each_epoch():
    x, y = data()
    model = classifier()
    seen = []

    class Record(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(float(K.get_value(self.model.optimizer.lr)))

    model.fit(x, y, epochs=3, verbose=0, callbacks=[LearningRateScheduler(lambda epoch: 0.5 ** epoch), Record()])
    np.testing.assert_allclose(seen, [1.0, 0.5, 0.25])
    two_args = LearningRateScheduler(lambda epoch, lr: lr * 0.1)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[two_args])
    assert float(K.get_value(model.optimizer.lr)) == pytest.approx(0.025)
    with pytest.raises(ValueError, match="should be float"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[LearningRateScheduler(lambda epoch: "fast")])


def test_reduce_lr_on_plateau_with_patience_cooldown_and_min_lr():
    x, y = data()
    model = classifier()
    lrs = []

    class Record(Callback):
        def on_epoch_end(self, epoch, logs=None):
            lrs.append(float(K.get_value(self.model.optimizer.lr)))

    K.set_value(model.optimizer.lr, 1e-9)  # tiny: the loss stays flat
    reduce = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, cooldown=1, min_lr=2e-10)
    model.fit(x, y, epochs=8, verbose=0, callbacks=[reduce, Record()])
    # Keras 2's order: epoch 0 sets the best; epochs 1, 2 wait -> cut at 2, cooldown 1. Epoch 3
    # spends the cooldown (the counter reaches 0 first) and so waits at once: cut again at 4,
    # and at 6, where min_lr stops the cut at 2e-10.
    expected = [1e-9, 1e-9, 5e-10, 5e-10, 2.5e-10, 2.5e-10, 2e-10, 2e-10]
    np.testing.assert_allclose(lrs, expected, rtol=1e-5)
    with pytest.raises(ValueError, match="factor >= 1.0"):
        ReduceLROnPlateau(factor=1.0)


def test_reduce_lr_on_plateau_monitors_accuracy_upwards_by_either_name():
    assert ReduceLROnPlateau(monitor="val_acc").maximize
    assert ReduceLROnPlateau(monitor="val_accuracy").maximize
    assert not ReduceLROnPlateau().maximize
    x, y = data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        classifier().fit(x, y, epochs=1, verbose=0, validation_data=(x, y),
                         callbacks=[ReduceLROnPlateau(monitor="val_acc")])


def test_terminate_on_nan_stops_at_the_first_bad_batch(capsys):
    x, y = data(64)
    x[40] = np.nan
    model = classifier()
    history = model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0, callbacks=[TerminateOnNaN()])
    assert len(history.history["loss"]) == 1
    assert "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out


def test_csv_logger_writes_one_row_per_epoch_and_appends(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    model = classifier()
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[CSVLogger(path)])
    rows = list(csv.DictReader(path.open()))
    assert list(rows[0]) == ["epoch", "accuracy", "loss"]
    assert [r["epoch"] for r in rows] == ["0", "1"]
    np.testing.assert_allclose([float(r["loss"]) for r in rows], history.history["loss"], rtol=1e-6)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(path, append=True)])
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[0] == "epoch,accuracy,loss"
    semi = tmp_path / "semi.csv"
    model.fit(x, y, epochs=1, verbose=0, callbacks=[CSVLogger(semi, separator=";")])
    assert semi.read_text().splitlines()[0] == "epoch;accuracy;loss"
