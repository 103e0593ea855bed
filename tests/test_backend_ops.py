"""The K namespace: session state, the learning phase, shapes and math against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from minikeras import backend as K

# --- session ------------------------------------------------------------------------


def test_learning_phase_is_a_scalar_placeholder_defaulting_to_0() -> None:
    phase = K.learning_phase()
    assert phase.name == "keras_learning_phase:0"
    assert phase.shape == ()
    assert K.learning_phase() is phase
    y = K.in_train_phase(K.constant(1.0), K.constant(0.0))
    f = K.function([phase], [y])
    assert K.eval(y) == 0.0
    for fed, expected in [(0, 0.0), (1, 1.0), (0.0, 0.0), (True, 1.0), (False, 0.0)]:
        assert f([fed])[0] == expected


def test_learning_phase_is_top_level_even_inside_a_scope() -> None:
    with K.name_scope("dropout_1"):
        assert K.learning_phase().name == "keras_learning_phase:0"


def test_set_learning_phase() -> None:
    with pytest.raises(ValueError, match="Expected learning phase to be 0 or 1."):
        K.set_learning_phase(2)
    K.set_learning_phase(1)
    assert K.learning_phase() == 1
    x = K.placeholder(shape=())
    assert K.in_train_phase(x * 2, x).op.type == "Mul"  # chosen now, no switch op


def test_clear_session_restarts_names_and_the_learning_phase() -> None:
    old_phase = K.learning_phase()
    assert K.get_uid("dense") == 1 and K.get_uid("dense") == 2
    K.placeholder(shape=())
    K.clear_session()
    assert K.get_uid("dense") == 1
    assert K.placeholder(shape=()).name == "Placeholder:0"
    assert K.learning_phase() is not old_phase
    with pytest.raises(ValueError, match="discarded"):
        K.eval(old_phase)


def test_reset_uids() -> None:
    first = K.get_uid("foo")
    K.get_uid("foo")
    K.reset_uids()
    assert K.get_uid("foo") == first == 1


def test_floatx_and_epsilon() -> None:
    assert K.floatx() == "float32" and K.epsilon() == 1e-7
    with pytest.raises(ValueError, match="Unknown floatx type: float80"):
        K.set_floatx("float80")
    K.set_floatx("float64")
    assert K.variable(1.0).dtype == "float64"
    assert K.placeholder(shape=()).dtype == "float64"


def test_is_keras_tensor() -> None:
    with pytest.raises(ValueError, match="Expected a symbolic tensor instance"):
        K.is_keras_tensor(np.ones(3))
    assert not K.is_keras_tensor(K.variable(1.0))
    assert not K.is_keras_tensor(K.placeholder(shape=()))
    assert K.is_placeholder(K.placeholder(shape=())) and K.is_variable(K.variable(1.0))


def test_placeholder_needs_a_shape_or_ndim() -> None:
    with pytest.raises(ValueError, match="Specify either a shape or ndim value."):
        K.placeholder()
    assert K.placeholder(ndim=3).shape == (None, None, None)


def test_zeros_and_ones_are_variables() -> None:
    assert K.is_variable(K.zeros((2, 3))) and K.is_variable(K.ones((2,))) and K.is_variable(K.eye(3))
    np.testing.assert_array_equal(K.get_value(K.eye(2)), np.eye(2))
    assert not K.is_variable(K.zeros_like(K.ones((2,))))


# --- phases and dropout -------------------------------------------------------------


@pytest.mark.parametrize("training", [True, 1])
def test_in_train_phase_selects_statically_even_for_different_shapes(training: object) -> None:
    a, b = K.placeholder(shape=(2, 3)), K.placeholder(shape=(4,))
    assert K.in_train_phase(a, b, training=training) is a
    assert K.in_test_phase(a, b, training=training) is b
    assert K.in_train_phase(lambda: a, lambda: b, training=0) is b


def test_in_train_phase_with_the_placeholder_builds_a_switch() -> None:
    x = K.placeholder(shape=(3,))
    y = K.in_train_phase(x * 2, x)
    assert y._uses_learning_phase
    f = K.function([x, K.learning_phase()], [y])
    np.testing.assert_allclose(f([np.arange(3.0), 1])[0], [0, 2, 4])
    np.testing.assert_allclose(f([np.arange(3.0), 0])[0], [0, 1, 2])


def test_dropout_keeps_the_mean() -> None:
    x = K.constant(np.ones((200, 100)) * 3)
    y = K.eval(K.dropout(x, 0.3, seed=1))
    assert abs(y.mean() - 3.0) < 0.05
    kept = y[y != 0]
    np.testing.assert_allclose(kept, 3.0 / 0.7, rtol=1e-5)
    assert 0.25 < (y == 0).mean() < 0.35


def test_dropout_draws_anew_on_each_run_and_noise_shape() -> None:
    x = K.placeholder(shape=(None, 50))
    f = K.function([x], [K.dropout(x, 0.5, noise_shape=(None, 1), seed=3)])
    a, b = f([np.ones((20, 50))])[0], f([np.ones((20, 50))])[0]
    assert not np.array_equal(a, b)
    assert all(len(set(row)) == 1 for row in a)  # one draw per row


def test_dropout_level_is_checked() -> None:
    with pytest.raises(ValueError, match=r"Dropout level must be in interval \[0, 1\[."):
        K.dropout(K.ones((3,)), -0.5)


# --- shapes and math ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("x_shape", "y_shape"),
    [((2, 3), (3, 4)), ((32, 28, 3), (3, 4)), ((2, 3), (4, 3, 5)), ((2, 4, 3), (5, 3, 2))],
)
def test_nd_dot_contracts_like_keras(x_shape: tuple, y_shape: tuple) -> None:
    rng = np.random.default_rng(0)
    xv, yv = rng.random(x_shape), rng.random(y_shape)
    z = K.dot(K.variable(xv), K.variable(yv))
    expected = np.dot(xv, yv)  # NumPy's dot has exactly Keras's N-D rule
    assert K.int_shape(z) == expected.shape
    np.testing.assert_allclose(K.eval(z), expected, rtol=1e-5)


def test_nd_dot_with_an_unknown_batch() -> None:
    x = K.placeholder(shape=(None, 3))
    y = K.variable(np.ones((4, 3, 5)))
    z = K.dot(x, y)
    assert K.int_shape(z) == (None, 4, 5)
    assert K.function([x], [z])([np.ones((2, 3))])[0].shape == (2, 4, 5)


@pytest.mark.parametrize(
    ("x_shape", "y_shape", "axes", "out_shape"),
    [
        ((32, 20), (32, 20), 1, (32, 1)),
        ((32, 20, 1), (32, 30, 20), (1, 2), (32, 1, 30)),
        ((8, 3, 4), (8, 4, 5), None, (8, 3, 5)),
    ],
)
def test_batch_dot(x_shape: tuple, y_shape: tuple, axes: object, out_shape: tuple) -> None:
    rng = np.random.default_rng(1)
    xv, yv = rng.random(x_shape), rng.random(y_shape)
    z = K.batch_dot(K.variable(xv), K.variable(yv), axes=axes)
    assert K.int_shape(z) == out_shape
    if axes is None:
        axes = (len(x_shape) - 1, len(y_shape) - 2)
    ax = (axes, axes) if isinstance(axes, int) else axes
    expected = np.stack([np.tensordot(xv[i], yv[i], axes=(ax[0] - 1, ax[1] - 1)) for i in range(len(xv))])
    np.testing.assert_allclose(K.eval(z), expected.reshape(out_shape), rtol=1e-5)


@pytest.mark.parametrize("rank", [2, 3, 4, 5])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_bias_add_ranks_2_to_5(rank: int, data_format: str) -> None:
    rng = np.random.default_rng(rank)
    shape = (2,) + (3,) * (rank - 2) + (4,) if data_format == "channels_last" else (2, 4) + (3,) * (rank - 2)
    xv, bv = rng.random(shape), rng.random(4)
    y = K.eval(K.bias_add(K.variable(xv), K.variable(bv), data_format=data_format))
    expected = xv + (bv if data_format == "channels_last" else bv.reshape((1, 4) + (1,) * (rank - 2)))
    np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_bias_add_errors() -> None:
    message = 'must be one of "channels_first", "channels_last". Received: nhwc'
    with pytest.raises(ValueError, match=message):
        K.bias_add(K.ones((2, 3)), K.ones((3,)), data_format="nhwc")
    with pytest.raises(ValueError, match="Unexpected bias dimensions 3"):
        K.bias_add(K.ones((2, 3)), K.ones((3, 1, 1)))


def test_shape_helpers() -> None:
    x = K.placeholder(shape=(None, 2, 3))
    assert K.int_shape(K.batch_flatten(x)) == (None, 6)
    assert K.int_shape(K.flatten(K.ones((2, 3)))) == (6,)
    assert K.int_shape(K.permute_dimensions(x, (0, 2, 1))) == (None, 3, 2)
    assert K.int_shape(K.expand_dims(x)) == (None, 2, 3, 1)
    assert K.int_shape(K.squeeze(K.expand_dims(x, 1), 1)) == (None, 2, 3)
    assert K.int_shape(K.concatenate([x, x], axis=-1)) == (None, 2, 6)
    assert K.int_shape(K.stack([x, x], axis=1)) == (None, 2, 2, 3)
    np.testing.assert_array_equal(K.function([x], [K.shape(x)])([np.ones((5, 2, 3))])[0], [5, 2, 3])


def test_repeat_elements_and_tile() -> None:
    v = np.arange(6.0).reshape(2, 3)
    repeated = K.eval(K.repeat_elements(K.variable(v), 2, axis=1))
    np.testing.assert_array_equal(repeated, np.repeat(v, 2, axis=1))
    np.testing.assert_array_equal(K.eval(K.tile(K.variable(v), (2, 1))), np.tile(v, (2, 1)))


def test_reductions_var_std_and_l2_normalize() -> None:
    v = np.random.default_rng(2).random((4, 5))
    x = K.variable(v)
    np.testing.assert_allclose(K.eval(K.var(x, axis=1)), v.var(axis=1), rtol=1e-5)
    np.testing.assert_allclose(K.eval(K.std(x)), v.std(), rtol=1e-5)
    np.testing.assert_allclose(K.eval(K.l2_normalize(x, axis=1)),
                               v / np.linalg.norm(v, axis=1, keepdims=True), rtol=1e-5)
    assert K.eval(K.mean(K.greater(x, 2.0))) == 0.0  # a bool mean is a float mean


def test_switch_lines_up_a_lower_rank_condition() -> None:
    cond = K.variable(np.array([1.0, 0.0]), dtype="bool")
    y = K.switch(cond, K.ones((2, 3)), K.zeros((2, 3)))
    np.testing.assert_array_equal(K.eval(y), [[1, 1, 1], [0, 0, 0]])


def test_clip_follows_keras_rules() -> None:
    x = K.variable(np.array([-2.0, 0.5, 3.0]))
    np.testing.assert_allclose(K.eval(K.clip(x, 0.0, None)), [0.0, 0.5, 3.0])
    np.testing.assert_allclose(K.eval(K.clip(x, 1.0, 0.0)), [1.0, 1.0, 1.0])  # max < min: max = min
    np.testing.assert_allclose(K.eval(K.sqrt(K.variable(np.array([-1.0, 4.0])))), [0.0, 2.0])


def test_crossentropies_match_numpy() -> None:
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(6, 4))
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = rng.integers(0, 4, size=6)
    onehot = np.eye(4)[labels]
    expected = -np.log(p[np.arange(6), labels])
    for out, from_logits in [(p, False), (logits, True)]:
        cce = K.categorical_crossentropy(K.variable(onehot), K.variable(out), from_logits=from_logits)
        scce = K.sparse_categorical_crossentropy(K.variable(labels), K.variable(out), from_logits=from_logits)
        np.testing.assert_allclose(K.eval(cce), expected, rtol=1e-5)
        np.testing.assert_allclose(K.eval(scce), expected, rtol=1e-5)
    t = rng.integers(0, 2, size=(6, 4)).astype(float)
    q = 1 / (1 + np.exp(-logits))
    bce = -(t * np.log(q) + (1 - t) * np.log(1 - q))
    np.testing.assert_allclose(K.eval(K.binary_crossentropy(K.variable(t), K.variable(q))), bce, rtol=1e-4)
    np.testing.assert_allclose(
        K.eval(K.binary_crossentropy(K.variable(t), K.variable(logits), from_logits=True)), bce, rtol=1e-4
    )


def test_crossentropy_of_a_confident_wrong_answer_is_finite() -> None:
    cce = K.categorical_crossentropy(K.variable(np.array([[1.0, 0.0]])), K.variable(np.array([[0.0, 1.0]])))
    assert np.isclose(K.eval(cce)[0], -np.log(1e-7), rtol=1e-3)


def test_conv2d_and_pool2d_follow_keras_signatures() -> None:
    x = K.placeholder(shape=(None, 6, 6, 2))
    kernel = K.variable(np.random.default_rng(4).random((3, 3, 2, 5)))
    y = K.conv2d(x, kernel, strides=(2, 2), padding="same")
    assert K.int_shape(y) == (None, 3, 3, 5)
    assert K.int_shape(K.pool2d(y, (2, 2))) == (None, 2, 2, 5)  # K.pool2d strides default to 1
    assert K.int_shape(K.pool2d(y, (2, 2), strides=(2, 2), pool_mode="avg")) == (None, 1, 1, 5)
    first = K.placeholder(shape=(None, 2, 6, 6))
    assert K.int_shape(K.conv2d(first, kernel, data_format="channels_first")) == (None, 5, 4, 4)
    with pytest.raises(ValueError, match="Invalid padding: full"):
        K.conv2d(x, kernel, padding="full")


def test_numpy_seed_makes_unseeded_dropout_repeatable() -> None:
    def run() -> np.ndarray:
        K.clear_session()
        np.random.seed(0)
        x = K.placeholder(shape=(None, 6))
        f = K.function([x, K.learning_phase()], [K.in_train_phase(K.dropout(x, 0.5), x)])
        return f([np.ones((3, 6)), 1])[0]

    np.testing.assert_array_equal(run(), run())


def test_a_function_compiled_before_clear_session_is_refused() -> None:
    x = K.placeholder(shape=(2,))
    f = K.function([x], [x * 2])
    K.clear_session()
    with pytest.raises(ValueError, match="compiled in a graph discarded by K.clear_session"):
        f([np.ones(2)])
