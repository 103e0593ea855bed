"""Callbacks around fit: History, EarlyStopping, LambdaCallback, ModelCheckpoint and the
progress output (verbose), each against what Keras 2 documents."""


from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from training_data import linear, mlp, regression_data, two_moons

from minikeras.callbacks import Callback, EarlyStopping, LambdaCallback
from minikeras.layers import Dense
from minikeras.models import Sequential
from minikeras.optimizers import SGD

# --- callbacks ---------------------------------------------------------------------------------

def constant_loss_model() -> tuple[Sequential, np.ndarray, np.ndarray]:
    x, y = regression_data(20)
    model = linear()
    model.compile(SGD(lr=0.0), "mse")
    return model, x, y


@pytest.mark.parametrize(("patience", "epochs_run"), [(0, 2), (2, 3), (4, 5)])
def test_early_stopping_waits_patience_epochs(patience: int, epochs_run: int) -> None:
    model, x, y = constant_loss_model()
    stop = EarlyStopping(monitor="loss", patience=patience)
    history = model.fit(x, y, epochs=20, batch_size=20, verbose=0, callbacks=[stop])
    assert len(history.history["loss"]) == epochs_run
    assert stop.stopped_epoch == epochs_run - 1


def test_early_stopping_does_not_stop_while_improving() -> None:
    x, y = regression_data(20)
    model = linear()
    model.compile(SGD(lr=0.05), "mse")
    history = model.fit(x, y, epochs=6, batch_size=20, verbose=0,
                        callbacks=[EarlyStopping(monitor="loss", patience=0)])
    assert len(history.history["loss"]) == 6


def test_early_stopping_restore_best_weights() -> None:
    x = np.random.randn(20, 1)
    y = 3 * x
    model = Sequential([Dense(1, input_shape=(1,), use_bias=False)])
    model.compile(SGD(lr=1.25 / float((x**2).mean())), "mse")  # overshoots: loss grows each step
    snapshots: list[list[np.ndarray]] = []
    record = LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(model.get_weights()))
    stop = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=10, batch_size=20, verbose=0, validation_data=(x, y),
                        callbacks=[record, stop])
    val = history.history["val_loss"]
    assert len(val) == 3
    best = int(np.argmin(val))
    np.testing.assert_array_equal(model.get_weights()[0], snapshots[best][0])
    assert not np.array_equal(model.get_weights()[0], snapshots[-1][0])


def test_early_stopping_max_mode_treats_a_falling_value_as_no_improvement() -> None:
    x, y = regression_data(20)
    model = linear()
    model.compile(SGD(lr=0.05), "mse")
    history = model.fit(x, y, epochs=6, batch_size=20, verbose=0,
                        callbacks=[EarlyStopping(monitor="loss", mode="max", patience=1)])
    assert len(history.history["loss"]) == 2


def test_early_stopping_auto_mode_maximises_accuracy() -> None:
    x, y = two_moons(100, 0.1, seed=0)
    model = mlp()
    model.compile(SGD(lr=0.0), "binary_crossentropy", metrics=["acc"])
    stop = EarlyStopping(monitor="acc", patience=1, baseline=1.01)  # never reached
    history = model.fit(x, y, epochs=6, batch_size=100, verbose=0, callbacks=[stop])
    assert len(history.history["loss"]) == 1


class Counter(Callback):
    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}

    def _count(self, hook: str) -> None:
        self.counts[hook] = self.counts.get(hook, 0) + 1

    def on_train_begin(self, logs: Any = None) -> None:
        self._count("train_begin")

    def on_train_end(self, logs: Any = None) -> None:
        self._count("train_end")

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._count("epoch_begin")

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        self._count("epoch_end")

    def on_batch_begin(self, batch: int, logs: Any = None) -> None:
        self._count("batch_begin")

    def on_batch_end(self, batch: int, logs: Any = None) -> None:
        self._count("batch_end")


def test_callback_hooks_are_called_the_right_number_of_times() -> None:
    model, x, y = constant_loss_model()  # 20 samples
    counter = Counter()
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[counter])  # 3 batches per epoch
    assert counter.counts == {"train_begin": 1, "train_end": 1, "epoch_begin": 3, "epoch_end": 3,
                              "batch_begin": 9, "batch_end": 9}


def test_callback_gets_the_model_and_params() -> None:
    model, x, y = constant_loss_model()
    counter = Counter()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[counter], validation_data=(x, y))
    assert counter.model is model
    assert counter.params["epochs"] == 2
    assert counter.params["samples"] == 20
    assert set(counter.params["metrics"]) == {"loss", "val_loss"}


def test_lambda_callback_hooks_are_called_the_right_number_of_times() -> None:
    model, x, y = constant_loss_model()
    calls: list[str] = []
    hooks = {name: (lambda *args, name=name: calls.append(name))
             for name in ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
                          "on_batch_begin", "on_batch_end")}
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[LambdaCallback(**hooks)])
    assert {name: calls.count(name) for name in hooks} == {
        "on_train_begin": 1, "on_train_end": 1, "on_epoch_begin": 2, "on_epoch_end": 2,
        "on_batch_begin": 6, "on_batch_end": 6}


def test_lambda_callback_epoch_end_gets_the_epoch_logs() -> None:
    model, x, y = constant_loss_model()
    seen: list[tuple[int, dict[str, float]]] = []
    cb = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((epoch, dict(logs))))
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    assert [e for e, _ in seen] == [0, 1]
    assert [logs["loss"] for _, logs in seen] == history.history["loss"]


def test_lambda_callback_with_keras_signatures() -> None:
    model, x, y = constant_loss_model()
    calls: list[str] = []
    cb = LambdaCallback(on_train_begin=lambda logs: calls.append("tb"),
                        on_epoch_begin=lambda epoch, logs: calls.append("eb"),
                        on_epoch_end=lambda epoch, logs: calls.append("ee"),
                        on_batch_begin=lambda batch, logs: calls.append("bb"),
                        on_batch_end=lambda batch, logs: calls.append("be"),
                        on_train_end=lambda logs: calls.append("te"))
    model.fit(x, y, epochs=1, batch_size=10, verbose=0, callbacks=[cb])
    assert calls == ["tb", "eb", "bb", "be", "bb", "be", "ee", "te"]


def test_stop_training_set_at_epoch_end_stops_fit() -> None:
    model, x, y = constant_loss_model()

    def stop(epoch: int, logs: Any) -> None:
        if epoch == 1:
            model.stop_training = True

    history = model.fit(x, y, epochs=10, verbose=0, callbacks=[LambdaCallback(on_epoch_end=stop)])
    assert len(history.history["loss"]) == 2


def test_stop_training_set_at_batch_end_stops_at_once() -> None:
    model, x, y = constant_loss_model()  # 20 samples, 5 batches of 4
    batches: list[int] = []

    def stop(batch: int, logs: Any) -> None:
        batches.append(batch)
        if batch == 1:
            model.stop_training = True

    model.fit(x, y, epochs=3, batch_size=4, verbose=0, callbacks=[LambdaCallback(on_batch_end=stop)])
    assert batches == [0, 1]


def test_fit_resets_stop_training() -> None:
    model, x, y = constant_loss_model()
    model.stop_training = True
    history = model.fit(x, y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


# --- verbose --------------------------------------------------------------------------------

def _fit_output(capsys: Any, verbose: int, **kwargs: Any) -> str:
    x, y = two_moons(100, 0.1, seed=0)
    model = mlp()
    model.compile("sgd", "binary_crossentropy", metrics=["acc"])
    capsys.readouterr()
    model.fit(x, y, epochs=2, batch_size=32, verbose=verbose, **kwargs)
    return capsys.readouterr().out


def test_verbose_0_prints_nothing(capsys: Any) -> None:
    assert _fit_output(capsys, 0) == ""


def test_verbose_1_prints_a_keras_progress_bar(capsys: Any) -> None:
    out = _fit_output(capsys, 1)
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    bars = re.findall(r"^100/100 \[(=+)\] - \d+s.* - loss: \d+\.\d{4} - acc: \d\.\d{4}\s*$", out, re.M)
    assert len(bars) == 2
    assert all(len(bar) == 30 for bar in bars)


def test_verbose_1_shows_validation_metrics(capsys: Any) -> None:
    out = _fit_output(capsys, 1, validation_split=0.2)
    assert re.search(r"^80/80 \[=+\] .* - loss: [\d.]+ - acc: [\d.]+ - val_loss: [\d.]+ - val_acc: [\d.]+",
                     out, re.M)


def test_verbose_2_prints_one_line_per_epoch(capsys: Any) -> None:
    out = _fit_output(capsys, 2)
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 2
    assert all(re.search(r"- loss: \d+\.\d{4} - acc: \d\.\d{4}", line) for line in lines)
    assert "[=" not in out


def test_evaluate_and_predict_with_verbose_0_print_nothing(capsys: Any) -> None:
    x, y = regression_data()
    model = linear()
    model.compile("sgd", "mse")
    capsys.readouterr()
    model.evaluate(x, y, verbose=0)
    model.predict(x)
    assert capsys.readouterr().out == ""


# --- ModelCheckpoint ------------------------------------------------------------------------

def _checkpointed(tmp_path: Any, **kwargs: Any) -> tuple[Any, Any]:
    from minikeras.callbacks import ModelCheckpoint

    model = linear()
    model.compile(SGD(lr=0.05), "mse", metrics=["mae"])
    return model, ModelCheckpoint(str(tmp_path / kwargs.pop("name", "m-{epoch:02d}.h5")), **kwargs)


def test_checkpoint_saves_a_loadable_model_each_epoch_named_from_the_logs(tmp_path: Any) -> None:
    from minikeras.models import load_model

    x, y = regression_data(24)
    model, checkpoint = _checkpointed(tmp_path, name="m-{epoch:02d}-{loss:.3f}.h5")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[checkpoint])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"m-{e + 1:02d}-{loss:.3f}.h5" for e, loss in enumerate(history.history["loss"])]
    last = load_model(str(tmp_path / names[-1]))
    for a, b in zip(last.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(last.predict(x), model.predict(x), rtol=1e-6)


def test_checkpoint_save_best_only_writes_when_the_monitor_improves(tmp_path: Any, capsys: Any) -> None:
    model, checkpoint = _checkpointed(tmp_path, monitor="val_loss", save_best_only=True, verbose=1)
    checkpoint.set_model(model)
    for epoch, val_loss in enumerate([1.0, 0.5, 0.7, 0.4]):
        checkpoint.on_epoch_end(epoch, {"loss": 1.0, "val_loss": val_loss})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-01.h5", "m-02.h5", "m-04.h5"]
    out = capsys.readouterr().out
    assert "Epoch 00003: val_loss did not improve from 0.50000" in out
    assert "Epoch 00004: val_loss improved from 0.50000 to 0.40000, saving model to" in out


def test_checkpoint_mode_auto_maximises_an_accuracy(tmp_path: Any) -> None:
    model, checkpoint = _checkpointed(tmp_path, monitor="val_acc", save_best_only=True)
    checkpoint.set_model(model)
    for epoch, acc in enumerate([0.5, 0.4, 0.9]):
        checkpoint.on_epoch_end(epoch, {"val_acc": acc})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-01.h5", "m-03.h5"]


def test_checkpoint_weights_only_and_period(tmp_path: Any) -> None:
    import h5py

    model, checkpoint = _checkpointed(tmp_path, save_weights_only=True, period=2)
    checkpoint.set_model(model)
    for epoch in range(5):
        checkpoint.on_epoch_end(epoch, {"loss": 1.0})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-02.h5", "m-04.h5"]
    with h5py.File(tmp_path / "m-04.h5", "r") as f:
        assert "model_config" not in f.attrs and "layer_names" in f.attrs
    twin = linear()
    twin.load_weights(str(tmp_path / "m-04.h5"))
    for a, b in zip(twin.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_without_its_monitor_warns_and_writes_nothing(tmp_path: Any) -> None:
    model, checkpoint = _checkpointed(tmp_path, monitor="val_loss", save_best_only=True)
    checkpoint.set_model(model)
    with pytest.warns(RuntimeWarning, match="Can save best model only with val_loss available"):
        checkpoint.on_epoch_end(0, {"loss": 1.0})
    assert not list(tmp_path.iterdir())


def test_checkpoint_filepath_naming_a_missing_log_says_which(tmp_path: Any) -> None:
    model, checkpoint = _checkpointed(tmp_path, name="m-{val_loss:.2f}.h5")
    x, y = regression_data(8)
    with pytest.raises(KeyError, match=r"names \{val_loss\}.*they have: epoch, loss, mean_absolute_error"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[checkpoint])
    with pytest.raises(ValueError, match="mode sideways is unknown"):
        _checkpointed(tmp_path, mode="sideways")
