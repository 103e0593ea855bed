"""Training: compile, fit, evaluate, predict, train_on_batch and test_on_batch, with losses
and metrics checked against NumPy, the learning phase (Dropout, BatchNormalization),
callbacks, progress output and Keras's error messages."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from training_data import linear, mlp, numpy_mse, regression_data, two_moons

from minikeras import backend as K
from minikeras.callbacks import History, LambdaCallback
from minikeras.layers import BatchNormalization, Dense, Dropout, Input
from minikeras.models import Model, Sequential
from minikeras.optimizers import SGD, Adam, RMSprop

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


def test_compile_without_loss_warns_and_fit_without_any_loss_raises() -> None:
    model = linear()
    with pytest.warns(UserWarning, match="missing from loss dictionary"):
        model.compile("sgd")  # Keras 2.2: the outputs are left out of training (the VAE idiom)
    with pytest.raises(ValueError, match="nothing to train on"):
        model.fit(np.zeros((2, 3)), verbose=0)


def test_loss_list_of_wrong_length_raises() -> None:
    model, *_ = two_output_model()
    with pytest.raises(ValueError, match="one entry per model output"):
        model.compile("sgd", ["mse"])


def test_loss_dict_missing_an_output_warns() -> None:
    model, *_ = two_output_model()
    with pytest.warns(UserWarning, match='Output "out_b" missing from loss dictionary'):
        model.compile("sgd", {"out_a": "mse"})  # Keras 2.2: out_b is left out of training


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


