"""Training: compile, fit, evaluate, predict, train_on_batch and test_on_batch, with losses
and metrics checked against NumPy, the learning phase (Dropout, BatchNormalization),
callbacks, progress output and Keras's error messages."""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np
import pytest

from minikeras import backend as K
from minikeras.callbacks import Callback, EarlyStopping, History, LambdaCallback
from minikeras.layers import BatchNormalization, Dense, Dropout, Input
from minikeras.models import Model, Sequential
from minikeras.optimizers import SGD, Adam, RMSprop


@pytest.fixture(autouse=True)
def fresh_session() -> None:
    K.clear_session()
    np.random.seed(1234)


# --- data and models -----------------------------------------------------------------------

def two_moons(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, labels 0 and 1 (like sklearn's make_moons)."""
    rng = np.random.RandomState(seed)
    t = rng.uniform(0, np.pi, n)
    labels = rng.randint(0, 2, n)
    outer = np.c_[np.cos(t), np.sin(t)]
    inner = np.c_[1 - np.cos(t), 0.5 - np.sin(t)]
    x = np.where(labels[:, None] == 0, outer, inner) + rng.randn(n, 2) * noise
    return x, labels


def mlp(hidden: int = 16, out: int = 1, activation: str = "sigmoid") -> Sequential:
    return Sequential([Dense(hidden, activation="relu", input_shape=(2,)),
                       Dense(out, activation=activation)])


def linear(inputs: int = 3, units: int = 2) -> Sequential:
    return Sequential([Dense(units, input_shape=(inputs,))])


def regression_data(n: int = 20, inputs: int = 3, units: int = 2) -> tuple[np.ndarray, np.ndarray]:
    return np.random.randn(n, inputs), np.random.randn(n, units)


def numpy_mse(prediction: np.ndarray, y: np.ndarray) -> np.ndarray:
    return ((prediction - y) ** 2).mean(-1)


# --- fit learns ---------------------------------------------------------------------------

def test_fit_reaches_95_percent_on_two_moons() -> None:
    x, y = two_moons(300, 0.1, seed=0)
    x_test, y_test = two_moons(300, 0.1, seed=1)
    model = Sequential([Dense(32, activation="relu", input_shape=(2,)),
                        Dense(32, activation="relu"), Dense(1, activation="sigmoid")])
    model.compile(Adam(lr=0.01), "binary_crossentropy", metrics=["acc"])
    history = model.fit(x, y, epochs=40, batch_size=32, verbose=0)
    assert history.history["acc"][-1] >= 0.95
    assert model.evaluate(x_test, y_test, verbose=0)[1] >= 0.95
    assert ((model.predict(x_test)[:, 0] > 0.5) == y_test).mean() >= 0.95


def test_fit_softmax_with_sparse_targets_learns_two_moons() -> None:
    x, y = two_moons(300, 0.1, seed=0)
    model = mlp(hidden=32, out=2, activation="softmax")
    model.compile(Adam(lr=0.01), "sparse_categorical_crossentropy", metrics=["acc"])
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert history.history["acc"][-1] >= 0.95


def test_fit_loss_decreases_over_epochs() -> None:
    x, y = two_moons(200, 0.1, seed=0)
    model = mlp()
    model.compile(SGD(lr=0.1), "binary_crossentropy")
    losses = model.fit(x, y, epochs=5, batch_size=20, verbose=0).history["loss"]
    assert losses[-1] < losses[0]


# --- History ------------------------------------------------------------------------------

def test_fit_returns_a_history_with_one_entry_per_epoch() -> None:
    x, y = two_moons(60, 0.1, seed=0)
    model = mlp()
    model.compile("sgd", "binary_crossentropy", metrics=["acc"])
    history = model.fit(x, y, epochs=3, verbose=0)
    assert isinstance(history, History)
    assert history.epoch == [0, 1, 2]
    assert set(history.history) == {"loss", "acc"}
    assert all(len(v) == 3 for v in history.history.values())


def test_history_keys_follow_metrics_names() -> None:
    x, y = two_moons(60, 0.1, seed=0)
    model = mlp()
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy", "mse"])
    history = model.fit(x, y, epochs=1, verbose=0)
    assert model.metrics_names[0] == "loss"
    assert model.metrics_names[1] in ("acc", "accuracy")
    assert model.metrics_names[2] in ("mse", "mean_squared_error")
    assert list(history.history) == model.metrics_names


def test_history_has_val_keys_with_validation_data() -> None:
    x, y = two_moons(60, 0.1, seed=0)
    model = mlp()
    model.compile("sgd", "binary_crossentropy", metrics=["acc"])
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=(x[:10], y[:10]))
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}
    assert len(history.history["val_loss"]) == 2


def test_history_has_val_keys_with_validation_split() -> None:
    x, y = two_moons(60, 0.1, seed=0)
    model = mlp()
    model.compile("sgd", "binary_crossentropy", metrics=["acc"])
    history = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25)
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}


def test_validation_split_holds_out_the_last_samples() -> None:
    x, y = regression_data(40)
    model = linear()
    model.compile(SGD(lr=0.0), "mse")
    history = model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, batch_size=40)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[30:], y[30:], verbose=0), rel=1e-5)
    assert history.history["loss"][0] == pytest.approx(model.evaluate(x[:30], y[:30], verbose=0), rel=1e-5)


def test_val_loss_is_the_loss_on_validation_data_after_the_epoch() -> None:
    x, y = regression_data(40)
    xv, yv = regression_data(10)
    model = linear()
    model.compile(SGD(lr=0.05), "mse")
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=(xv, yv))
    want = numpy_mse(model.predict(xv), yv).mean()
    assert history.history["val_loss"][-1] == pytest.approx(want, rel=1e-5)


def test_model_history_is_the_returned_history() -> None:
    x, y = regression_data()
    model = linear()
    model.compile("sgd", "mse")
    history = model.fit(x, y, epochs=1, verbose=0)
    assert model.history is history


# --- train_on_batch / test_on_batch / evaluate / predict -----------------------------------------

def test_train_on_batch_returns_the_loss_before_the_step() -> None:
    x, y = regression_data()
    model = linear()
    model.compile(SGD(lr=0.1), "mse")
    before = numpy_mse(model.predict(x), y).mean()
    assert model.train_on_batch(x, y) == pytest.approx(before, rel=1e-5)
    assert numpy_mse(model.predict(x), y).mean() < before


def test_train_on_batch_loss_decreases_over_steps() -> None:
    x, y = regression_data()
    model = linear()
    model.compile(SGD(lr=0.1), "mse")
    losses = [model.train_on_batch(x, y) for _ in range(5)]
    assert all(later < earlier for earlier, later in itertools.pairwise(losses))


def test_train_on_batch_with_metrics_returns_loss_and_metrics() -> None:
    x, y = two_moons(40, 0.1, seed=0)
    model = mlp()
    model.compile(SGD(lr=0.1), "binary_crossentropy", metrics=["acc"])
    p = model.predict(x)[:, 0]
    loss, acc = model.train_on_batch(x, y)
    assert acc == pytest.approx(((p > 0.5) == y).mean())
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    assert loss == pytest.approx(bce, rel=1e-4)


def test_test_on_batch_gives_the_loss_and_changes_nothing() -> None:
    x, y = regression_data()
    model = linear()
    model.compile(SGD(lr=0.1), "mse")
    weights = model.get_weights()
    assert model.test_on_batch(x, y) == pytest.approx(numpy_mse(model.predict(x), y).mean(), rel=1e-5)
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_evaluate_averages_over_batches_weighted_by_size() -> None:
    x, y = regression_data(23)
    model = linear()
    model.compile("sgd", "mse")
    want = numpy_mse(model.predict(x), y).mean()
    assert model.evaluate(x, y, batch_size=5, verbose=0) == pytest.approx(want, rel=1e-5)
    assert model.evaluate(x, y, batch_size=100, verbose=0) == pytest.approx(want, rel=1e-5)


def test_predict_matches_numpy_forward_pass_for_any_batch_size() -> None:
    x = np.random.randn(23, 2)
    model = mlp(hidden=4)
    (w1, b1), (w2, b2) = model.layers[0].get_weights(), model.layers[1].get_weights()
    want = 1 / (1 + np.exp(-(np.maximum(x @ w1 + b1, 0) @ w2 + b2)))
    for batch_size in (5, 32):
        np.testing.assert_allclose(model.predict(x, batch_size=batch_size), want, rtol=1e-5)


def test_predict_on_batch_equals_predict() -> None:
    x = np.random.randn(7, 2)
    model = mlp()
    np.testing.assert_allclose(model.predict_on_batch(x), model.predict(x), rtol=1e-6)


# --- optimizer, shuffle ---------------------------------------------------------------------

def test_optimizer_by_name_is_resolved() -> None:
    model = linear()
    model.compile("rmsprop", "mse")
    assert isinstance(model.optimizer, RMSprop)


def test_optimizer_instance_is_used_as_is() -> None:
    opt = SGD(lr=0.5)
    model = linear()
    model.compile(opt, "mse")
    assert model.optimizer is opt
    x, y = regression_data()
    model.train_on_batch(x, y)
    assert K.get_value(opt.iterations) == 1


def test_train_on_batch_takes_exactly_one_sgd_step() -> None:
    x, y = regression_data(10)
    model = linear()
    model.compile(SGD(lr=0.1), "mse")
    kernel, bias = model.get_weights()
    d_prediction = 2 * (x @ kernel + bias - y) / y.size
    model.train_on_batch(x, y)
    np.testing.assert_allclose(model.get_weights()[0], kernel - 0.1 * x.T @ d_prediction, rtol=1e-5)
    np.testing.assert_allclose(model.get_weights()[1], bias - 0.1 * d_prediction.sum(0), rtol=1e-5)


def _fit_weights(shuffle: bool, initial: list[np.ndarray], rng_seed: int) -> list[np.ndarray]:
    K.clear_session()
    x, y = regression_data(30)
    model = linear()
    model.set_weights(initial)
    model.compile(SGD(lr=0.1), "mse")
    np.random.seed(rng_seed)
    model.fit(x, y, epochs=2, batch_size=4, shuffle=shuffle, verbose=0)
    return model.get_weights()


def test_shuffle_false_is_reproducible_whatever_the_random_state() -> None:
    initial = linear().get_weights()
    np.random.seed(0)
    a = _fit_weights(False, initial, rng_seed=1)
    np.random.seed(0)
    b = _fit_weights(False, initial, rng_seed=2)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_shuffle_true_depends_on_the_random_state() -> None:
    initial = linear().get_weights()
    np.random.seed(0)
    a = _fit_weights(True, initial, rng_seed=1)
    np.random.seed(0)
    b = _fit_weights(True, initial, rng_seed=2)
    assert not np.array_equal(a[0], b[0])


def test_shuffle_false_feeds_batches_in_order() -> None:
    x, y = regression_data(10)
    model = linear()
    model.compile(SGD(lr=0.0), "mse")
    per_sample = numpy_mse(model.predict(x), y)
    seen: list[float] = []
    record = LambdaCallback(on_batch_end=lambda batch, logs: seen.append(logs["loss"]))
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0, callbacks=[record])
    want = [per_sample[:4].mean(), per_sample[4:8].mean(), per_sample[8:].mean()]
    np.testing.assert_allclose(seen, want, rtol=1e-5)


# --- learning phase: BatchNormalization and Dropout ---------------------------------------------

def bn_model() -> Sequential:
    return Sequential([BatchNormalization(input_shape=(3,)), Dense(1)])


def moving_stats(model: Sequential) -> list[np.ndarray]:
    return model.layers[0].get_weights()[2:]


def test_batchnorm_moving_statistics_follow_keras_update_in_train_on_batch() -> None:
    model = bn_model()
    model.compile(SGD(lr=0.0), "mse")
    x = np.random.randn(16, 3) * 2 + 5
    model.train_on_batch(x, np.zeros((16, 1)))
    mean, variance = moving_stats(model)
    n = 16
    unbiased = x.var(0) * n / (n - (1 + 1e-3))
    np.testing.assert_allclose(mean, 0.01 * x.mean(0), rtol=1e-4)
    np.testing.assert_allclose(variance, 0.99 + 0.01 * unbiased, rtol=1e-4)


def test_batchnorm_moving_statistics_change_during_fit() -> None:
    model = bn_model()
    model.compile("sgd", "mse")
    before = moving_stats(model)
    model.fit(np.random.randn(32, 3) + 5, np.zeros((32, 1)), epochs=1, batch_size=8, verbose=0)
    after = moving_stats(model)
    assert not np.allclose(before[0], after[0])
    assert not np.allclose(before[1], after[1])


@pytest.mark.parametrize("method", ["predict", "evaluate", "test_on_batch", "predict_on_batch"])
def test_batchnorm_moving_statistics_do_not_change_at_inference(method: str) -> None:
    model = bn_model()
    model.compile("sgd", "mse")
    model.train_on_batch(np.random.randn(8, 3) + 5, np.zeros((8, 1)))
    before = moving_stats(model)
    x, y = np.random.randn(8, 3) - 3, np.zeros((8, 1))
    if method in ("predict", "predict_on_batch"):
        getattr(model, method)(x)
    elif method == "evaluate":
        model.evaluate(x, y, verbose=0)
    else:
        model.test_on_batch(x, y)
    for a, b in zip(before, moving_stats(model)):
        np.testing.assert_array_equal(a, b)


def test_batchnorm_predict_uses_moving_statistics() -> None:
    model = bn_model()
    model.compile("sgd", "mse")
    model.train_on_batch(np.random.randn(8, 3) + 5, np.zeros((8, 1)))
    gamma, beta, mean, variance = model.layers[0].get_weights()
    kernel, bias = model.layers[1].get_weights()
    x = np.random.randn(5, 3)
    want = ((x - mean) / np.sqrt(variance + 1e-3) * gamma + beta) @ kernel + bias
    np.testing.assert_allclose(model.predict(x), want, rtol=1e-4, atol=1e-6)


def test_batchnorm_train_on_batch_loss_uses_batch_statistics() -> None:
    model = bn_model()
    model.compile(SGD(lr=0.0), "mse")
    x, y = np.random.randn(8, 3) * 3 + 5, np.random.randn(8, 1)
    gamma, beta, _, _ = model.layers[0].get_weights()
    kernel, bias = model.layers[1].get_weights()
    normed = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3) * gamma + beta
    want = numpy_mse(normed @ kernel + bias, y).mean()
    assert model.train_on_batch(x, y) == pytest.approx(want, rel=1e-4)


def dropout_model(rate: float) -> Sequential:
    return Sequential([Dense(16, activation="relu", input_shape=(4,)), Dropout(rate), Dense(2)])


def test_dropout_predict_is_deterministic_and_ignores_dropout() -> None:
    model = dropout_model(0.5)
    x = np.random.randn(10, 4)
    (w1, b1), (w2, b2) = model.layers[0].get_weights(), model.layers[2].get_weights()
    want = np.maximum(x @ w1 + b1, 0) @ w2 + b2
    np.testing.assert_allclose(model.predict(x), want, rtol=1e-5)
    np.testing.assert_array_equal(model.predict(x), model.predict(x))


def test_dropout_evaluate_is_deterministic() -> None:
    model = dropout_model(0.9)
    model.compile("sgd", "mse")
    x, y = np.random.randn(10, 4), np.random.randn(10, 2)
    first = model.evaluate(x, y, verbose=0)
    assert model.evaluate(x, y, verbose=0) == first
    assert model.test_on_batch(x, y) == pytest.approx(first, rel=1e-6)


def test_dropout_acts_in_train_on_batch() -> None:
    model = dropout_model(0.9)
    model.compile(SGD(lr=0.0), "mse")
    x, y = np.random.randn(10, 4), np.random.randn(10, 2)
    test_loss = model.test_on_batch(x, y)
    train_losses = [model.train_on_batch(x, y) for _ in range(3)]
    assert all(loss != pytest.approx(test_loss, rel=1e-3) for loss in train_losses)
    assert len(set(train_losses)) == 3


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


# --- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["fit", "evaluate", "train_on_batch", "test_on_batch"])
def test_uncompiled_model_raises(method: str) -> None:
    model = linear()
    x, y = regression_data()
    kwargs = {"verbose": 0} if method in ("fit", "evaluate") else {}
    with pytest.raises(RuntimeError, match="You must compile your model before using it."):
        getattr(model, method)(x, y, **kwargs)


def test_uncompiled_model_can_predict() -> None:
    assert linear().predict(np.zeros((4, 3))).shape == (4, 2)


def test_mismatched_sample_counts_raise() -> None:
    model = linear()
    model.compile("sgd", "mse")
    x, y = regression_data(10)
    with pytest.raises(ValueError, match="Input arrays should have the same number of samples as "
                                         "target arrays. Found 10 input samples and 9 target samples."):
        model.fit(x, y[:9], verbose=0)


def test_wrong_target_shape_raises() -> None:
    model = linear()
    model.compile("sgd", "mse")
    x = np.zeros((10, 3))
    with pytest.raises(ValueError, match=r"Error when checking target: expected dense_1 to have shape "
                                         r"\(2,\) but got array with shape \(5,\)"):
        model.fit(x, np.zeros((10, 5)), verbose=0)


def test_wrong_input_shape_raises() -> None:
    model = linear()
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="Error when checking input"):
        model.train_on_batch(np.zeros((10, 4)), np.zeros((10, 2)))


@pytest.mark.parametrize("shape", [(10,), (10, 1)])
def test_integer_labels_with_categorical_crossentropy_suggest_sparse(shape: tuple[int, ...]) -> None:
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError) as info:
        model.fit(np.zeros((10, 4)), np.zeros(shape), verbose=0)
    message = str(info.value)
    assert "You are passing a target array of shape" in message
    assert "`categorical_crossentropy` expects targets to be binary matrices" in message
    assert "`sparse_categorical_crossentropy`" in message


def test_unknown_loss_name_raises() -> None:
    with pytest.raises(ValueError, match="Unknown loss function"):
        linear().compile("sgd", "mean_sqared_error")


def test_unknown_optimizer_name_raises() -> None:
    with pytest.raises(ValueError, match="optimizer"):
        linear().compile("adamw_but_not_here", "mse")


def test_compile_without_loss_raises() -> None:
    with pytest.raises(ValueError):
        linear().compile("sgd")


def test_loss_list_of_wrong_length_raises() -> None:
    model, *_ = two_output_model()
    with pytest.raises(ValueError, match="one entry per model output"):
        model.compile("sgd", ["mse"])


def test_loss_dict_missing_an_output_raises() -> None:
    model, *_ = two_output_model()
    with pytest.raises(ValueError, match="out_b"):
        model.compile("sgd", {"out_a": "mse"})


# --- multiple outputs ---------------------------------------------------------------------------

def two_output_model() -> tuple[Model, np.ndarray, np.ndarray, np.ndarray]:
    x = Input(shape=(4,))
    h = Dense(8, activation="relu")(x)
    a = Dense(1, activation="sigmoid", name="out_a")(h)
    b = Dense(3, activation="softmax", name="out_b")(h)
    data = np.random.randn(20, 4)
    ya = np.random.randint(0, 2, (20, 1)).astype(float)
    yb = np.eye(3)[np.random.randint(0, 3, 20)]
    return Model(x, [a, b]), data, ya, yb


def _numpy_losses(model: Model, x: np.ndarray, ya: np.ndarray, yb: np.ndarray) -> tuple[float, float]:
    pa, pb = model.predict(x)
    bce = -(ya * np.log(pa) + (1 - ya) * np.log(1 - pa)).mean()
    cce = -(yb * np.log(pb)).sum(-1).mean()
    return bce, cce


def test_multi_output_list_losses_and_weights() -> None:
    model, x, ya, yb = two_output_model()
    model.compile("sgd", ["binary_crossentropy", "categorical_crossentropy"], loss_weights=[0.5, 2.0])
    bce, cce = _numpy_losses(model, x, ya, yb)
    total, loss_a, loss_b = model.test_on_batch(x, [ya, yb])
    assert loss_a == pytest.approx(bce, rel=1e-4)
    assert loss_b == pytest.approx(cce, rel=1e-4)
    assert total == pytest.approx(0.5 * bce + 2.0 * cce, rel=1e-4)


def test_multi_output_dict_losses_and_weights() -> None:
    model, x, ya, yb = two_output_model()
    model.compile("sgd", {"out_b": "categorical_crossentropy", "out_a": "binary_crossentropy"},
                  loss_weights={"out_a": 3.0, "out_b": 1.0})
    bce, cce = _numpy_losses(model, x, ya, yb)
    total = model.evaluate(x, {"out_a": ya, "out_b": yb}, verbose=0)[0]
    assert total == pytest.approx(3.0 * bce + cce, rel=1e-4)


def test_multi_output_metric_names_are_prefixed_by_output_names() -> None:
    model, x, ya, yb = two_output_model()
    model.compile("sgd", ["binary_crossentropy", "categorical_crossentropy"], metrics=["acc"])
    assert model.metrics_names == ["loss", "out_a_loss", "out_b_loss", "out_a_acc", "out_b_acc"]
    history = model.fit(x, [ya, yb], epochs=1, verbose=0, validation_split=0.25)
    assert set(history.history) == {"loss", "out_a_loss", "out_b_loss", "out_a_acc", "out_b_acc",
                                    "val_loss", "val_out_a_loss", "val_out_b_loss", "val_out_a_acc",
                                    "val_out_b_acc"}


def test_multi_output_metrics_per_output_dict() -> None:
    model, x, ya, yb = two_output_model()
    model.compile("sgd", ["binary_crossentropy", "categorical_crossentropy"], metrics={"out_b": ["acc"]})
    assert model.metrics_names == ["loss", "out_a_loss", "out_b_loss", "out_b_acc"]
    pb = model.predict(x)[1]
    assert model.evaluate(x, [ya, yb], verbose=0)[3] == pytest.approx(
        (pb.argmax(-1) == yb.argmax(-1)).mean())


def test_multi_output_single_loss_applies_to_every_output() -> None:
    model, x, ya, yb = two_output_model()
    model.compile("sgd", "mse")
    pa, pb = model.predict(x)
    total, loss_a, loss_b = model.evaluate(x, [ya, yb], verbose=0)
    assert loss_a == pytest.approx(numpy_mse(pa, ya).mean(), rel=1e-5)
    assert loss_b == pytest.approx(numpy_mse(pb, yb).mean(), rel=1e-5)
    assert total == pytest.approx(loss_a + loss_b, rel=1e-5)


# --- sample_weight and class_weight -------------------------------------------------------------

def _weighted(scores: np.ndarray, weights: np.ndarray) -> float:
    """Keras 2's weighted mean: zero weights do not count in the denominator."""
    return float((scores * weights).mean() / (weights != 0).mean())


def test_sample_weight_in_evaluate_matches_numpy() -> None:
    x, y = regression_data(12)
    model = linear()
    model.compile("sgd", "mse")
    w = np.random.uniform(0.5, 3.0, 12)
    w[[2, 5]] = 0.0
    want = _weighted(numpy_mse(model.predict(x), y), w)
    assert model.evaluate(x, y, sample_weight=w, batch_size=12, verbose=0) == pytest.approx(want, rel=1e-5)
    assert model.test_on_batch(x, y, sample_weight=w) == pytest.approx(want, rel=1e-5)


def test_sample_weight_in_train_on_batch_matches_numpy() -> None:
    x, y = regression_data(12)
    model = linear()
    model.compile(SGD(lr=0.1), "mse")
    w = np.random.uniform(0.5, 3.0, 12)
    want = _weighted(numpy_mse(model.predict(x), y), w)
    assert model.train_on_batch(x, y, sample_weight=w) == pytest.approx(want, rel=1e-5)


def test_zero_sample_weights_drop_samples_from_the_step() -> None:
    x, y = regression_data(12)
    model = linear()
    initial = model.get_weights()
    model.compile(SGD(lr=0.1), "mse")
    model.train_on_batch(x, y, sample_weight=np.r_[np.ones(6), np.zeros(6)])
    weighted = model.get_weights()
    model.set_weights(initial)
    model.train_on_batch(x[:6], y[:6])
    for a, b in zip(weighted, model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_sample_weight_changes_fit() -> None:
    x, y = regression_data(12)
    model = linear()
    initial = model.get_weights()
    model.compile(SGD(lr=0.1), "mse")
    plain = model.fit(x, y, epochs=1, batch_size=12, verbose=0).history["loss"][0]
    model.set_weights(initial)
    w = np.linspace(0.1, 2.0, 12)
    weighted = model.fit(x, y, epochs=1, batch_size=12, verbose=0, sample_weight=w).history["loss"][0]
    model.set_weights(initial)
    assert weighted == pytest.approx(_weighted(numpy_mse(model.predict(x), y), w), rel=1e-5)
    assert weighted != pytest.approx(plain, rel=1e-3)


def test_class_weight_with_one_hot_targets_matches_numpy() -> None:
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(SGD(lr=0.1), "categorical_crossentropy")
    x, labels = np.random.randn(15, 4), np.arange(15) % 3
    y = np.eye(3)[labels]
    class_weight = {0: 1.0, 1: 4.0, 2: 0.5}
    scores = -np.log(model.predict(x)[np.arange(15), labels])
    want = _weighted(scores, np.array([class_weight[c] for c in labels]))
    assert model.train_on_batch(x, y, class_weight=class_weight) == pytest.approx(want, rel=1e-4)


def test_class_weight_with_sparse_targets_matches_numpy() -> None:
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(SGD(lr=0.1), "sparse_categorical_crossentropy")
    x, labels = np.random.randn(15, 4), np.arange(15) % 3
    class_weight = {0: 2.0, 1: 1.0, 2: 0.25}
    scores = -np.log(model.predict(x)[np.arange(15), labels])
    want = _weighted(scores, np.array([class_weight[c] for c in labels]))
    assert model.train_on_batch(x, labels, class_weight=class_weight) == pytest.approx(want, rel=1e-4)


def test_class_weight_with_binary_targets_matches_numpy() -> None:
    x, labels = two_moons(30, 0.1, seed=0)
    model = mlp()
    model.compile(SGD(lr=0.1), "binary_crossentropy")
    p = model.predict(x)[:, 0]
    scores = -(labels * np.log(p) + (1 - labels) * np.log(1 - p))
    want = _weighted(scores, np.where(labels == 1, 5.0, 1.0))
    got = model.fit(x, labels, epochs=1, batch_size=30, verbose=0, class_weight={0: 1.0, 1: 5.0})
    assert got.history["loss"][0] == pytest.approx(want, rel=1e-4)


# --- sparse targets --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(12,), (12, 1)])
def test_sparse_categorical_crossentropy_accepts_both_target_shapes(shape: tuple[int, ...]) -> None:
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(SGD(lr=0.1), "sparse_categorical_crossentropy", metrics=["acc"])
    x, labels = np.random.randn(12, 4), np.arange(12) % 3
    p = model.predict(x)
    loss, acc = model.train_on_batch(x, labels.reshape(shape))
    assert loss == pytest.approx(-np.log(p[np.arange(12), labels]).mean(), rel=1e-4)
    assert acc == pytest.approx((p.argmax(-1) == labels).mean())
    assert len(model.fit(x, labels.reshape(shape), epochs=1, verbose=0).history["loss"]) == 1


def test_sparse_targets_may_be_integers() -> None:
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, labels = np.random.randn(12, 4), (np.arange(12) % 3).astype(np.int64)
    assert np.isfinite(model.evaluate(x, labels, verbose=0))


# --- trainable, regularizers, several inputs, custom metrics -----------------------------------

def test_frozen_layer_is_not_trained() -> None:
    model = Sequential([Dense(4, input_shape=(3,)), Dense(1)])
    model.layers[0].trainable = False
    model.compile(SGD(lr=0.1), "mse")
    frozen, trained = model.layers[0].get_weights(), model.layers[1].get_weights()
    model.train_on_batch(np.random.randn(8, 3), np.random.randn(8, 1))
    for a, b in zip(frozen, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(trained[0], model.layers[1].get_weights()[0])


def test_frozen_batchnorm_keeps_its_moving_statistics() -> None:
    model = bn_model()
    model.layers[0].trainable = False
    model.compile(SGD(lr=0.1), "mse")
    before = moving_stats(model)
    model.train_on_batch(np.random.randn(8, 3) + 5, np.zeros((8, 1)))
    for a, b in zip(before, moving_stats(model)):
        np.testing.assert_array_equal(a, b)


def test_model_get_weights_is_in_layer_order_whatever_is_trainable() -> None:
    model = Sequential([Dense(2, input_shape=(3,)), Dense(1)])
    model.layers[0].trainable = False
    assert [w.shape for w in model.get_weights()] == [(3, 2), (2,), (2, 1), (1,)]


def test_regularization_losses_are_added_to_the_total_loss() -> None:
    from minikeras import regularizers

    model = Sequential([Dense(2, input_shape=(3,), kernel_regularizer=regularizers.l2(0.1))])
    model.compile(SGD(lr=0.1), "mse")
    x, y = regression_data(8)
    kernel, bias = model.get_weights()
    want = numpy_mse(x @ kernel + bias, y).mean() + 0.1 * (kernel**2).sum()
    assert model.test_on_batch(x, y) == pytest.approx(want, rel=1e-5)
    assert model.train_on_batch(x, y) == pytest.approx(want, rel=1e-5)


def two_input_model() -> Model:
    from minikeras.layers import concatenate

    a, b = Input(shape=(2,), name="in_a"), Input(shape=(3,), name="in_b")
    return Model([a, b], Dense(1)(concatenate([a, b])))


def test_fit_with_several_inputs_as_list_or_dict() -> None:
    model = two_input_model()
    model.compile(SGD(lr=0.1), "mse")
    xa, xb, y = np.random.randn(10, 2), np.random.randn(10, 3), np.random.randn(10, 1)
    kernel, bias = model.get_weights()
    want = numpy_mse(np.c_[xa, xb] @ kernel + bias, y).mean()
    assert model.evaluate([xa, xb], y, verbose=0) == pytest.approx(want, rel=1e-5)
    assert model.evaluate({"in_a": xa, "in_b": xb}, y, verbose=0) == pytest.approx(want, rel=1e-5)
    assert len(model.fit([xa, xb], y, epochs=2, verbose=0).history["loss"]) == 2


def test_several_inputs_with_different_lengths_raise() -> None:
    model = two_input_model()
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit([np.zeros((5, 2)), np.zeros((4, 3))], np.zeros((5, 1)), verbose=0)


def test_custom_metric_function_is_named_after_the_function() -> None:
    def mean_prediction(y_true: Any, y_pred: Any) -> Any:
        return K.mean(y_pred, axis=-1)

    x, y = regression_data(10)
    model = linear()
    model.compile("sgd", "mse", metrics=[mean_prediction])
    assert model.metrics_names == ["loss", "mean_prediction"]
    _, value = model.evaluate(x, y, verbose=0)
    assert value == pytest.approx(model.predict(x).mean(), rel=1e-5)


def _plan_op_types(function: Any) -> set[str]:
    return {step.op.type for step in function.plan.steps}


def test_without_sample_weights_the_step_runs_no_weighting_ops() -> None:
    x, y = regression_data(12)
    model = linear()
    model.compile(SGD(lr=0.1), "mse")
    model.train_on_batch(x, y)
    plain = model._make_train_function()
    assert plain.inputs == model.inputs + model.targets
    assert "NotEqual" not in _plan_op_types(plain)
    model.train_on_batch(x, y, sample_weight=np.ones(12))
    weighted = model._make_train_function(weighted=True)
    assert weighted is not plain and weighted.inputs == model.inputs + model.targets + model.sample_weights
    assert "NotEqual" in _plan_op_types(weighted)


def test_steps_with_and_without_weights_share_the_optimizer_state() -> None:
    x, y = regression_data(12)
    model, twin = linear(), linear()
    twin.set_weights(model.get_weights())
    optimizer = SGD(lr=0.05, momentum=0.9)
    model.compile(optimizer, "mse")
    twin.compile(SGD(lr=0.05, momentum=0.9), "mse")
    model.train_on_batch(x, y)
    slots = list(optimizer.weights)
    model.train_on_batch(x, y, sample_weight=np.ones(12))
    assert optimizer.weights == slots  # the same moment variables, not a second set
    assert K.get_value(optimizer.iterations) == 2
    # ... so a plain step and an all-ones weighted step are two plain steps, momentum included.
    twin.train_on_batch(x, y)
    twin.train_on_batch(x, y)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


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
