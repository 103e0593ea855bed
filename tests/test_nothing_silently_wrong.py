"""Numbers that were wrong and mistakes that were silently accepted: each fixed at its cause.

Right numbers at the points where a careless rewrite goes wrong (a logit of exactly 0, a
product with a zero), and clear errors naming the argument for inputs that used to wrap
around or be read some other way.
"""

from __future__ import annotations

import numpy as np
import pytest

from minikeras import backend as K
from minikeras import graph as G
from minikeras.layers import Dense, Embedding, Input
from minikeras.models import Model, Sequential
from minikeras.testing import check_gradients


def _value_and_grad(loss_of, z: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    zp = K.placeholder(shape=z.shape, dtype="float64")
    tp = K.placeholder(shape=t.shape, dtype="float64")
    loss = loss_of(tp, zp)
    (g,) = K.gradients(K.sum(loss), [zp])
    return tuple(K.function([zp, tp], [loss, g])([z, t]))  # type: ignore[return-value]


# --- binary cross-entropy: right at a logit of 0 and at large logits -------------------------

Z = np.array([0.0, 0.0, 0.0, 100.0, -100.0, 3.0])
T = np.array([0.0, 1.0, 0.3, 0.0, 1.0, 0.5])
SIGMOID = 1 / (1 + np.exp(-Z))


@pytest.mark.parametrize("how", ["from_logits", "sigmoid output"])
def test_binary_crossentropy_has_the_logistic_gradient_everywhere(how: str) -> None:
    def loss_of(t, z):
        return K.binary_crossentropy(t, z, from_logits=True) if how == "from_logits" else \
            K.binary_crossentropy(t, K.sigmoid(z))

    loss, g = _value_and_grad(loss_of, Z, T)
    np.testing.assert_allclose(g, SIGMOID - T, atol=1e-12)  # 0.5 - t at z = 0, not -t
    # A confidently wrong sample still costs its logit and still teaches (as tf.keras).
    assert loss[3] == pytest.approx(100.0) and g[3] == pytest.approx(1.0)
    assert loss[4] == pytest.approx(100.0) and g[4] == pytest.approx(-1.0)
    np.testing.assert_allclose(loss[:3], np.log(2), rtol=1e-12)


def test_binary_crossentropy_second_derivative_at_zero() -> None:
    t = np.array([0.0, 1.0, 0.25])
    check_gradients(lambda z: K.sum(K.binary_crossentropy(K.constant(t, "float64"), z, from_logits=True)),
                    [np.zeros(3)], order=2)


def test_logistic_regression_from_zeros_learns_like_by_hand() -> None:
    """The classic first exercise: one sigmoid unit, weights initialised to 0, plain SGD."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 2))
    y = (x[:, :1] + 0.5 * x[:, 1:] > 0).astype("float32")
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(2,), kernel_initializer="zeros")])
    model.compile("sgd", "binary_crossentropy")
    model.train_on_batch(x, y)
    w, b = model.get_weights()
    # By hand: at w = 0 every p is 0.5, so the step is -lr * mean((0.5 - y) * x).
    np.testing.assert_allclose(w, -0.01 * ((0.5 - y) * x).mean(0, keepdims=True).T, rtol=1e-5)
    np.testing.assert_allclose(b, -0.01 * (0.5 - y).mean(0), rtol=1e-5)


# --- prod: the product of the others, even with zeros ------------------------------------------

@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("x", [np.array([[1.5, 0.0, 2.0], [0.0, 0.0, -1.0]]),
                               np.array([[0.5, -2.0, 3.0], [1.0, 2.0, 4.0]])])
def test_prod_gradients_are_exact_with_zeros(x: np.ndarray, axis: object) -> None:
    check_gradients(lambda t: K.prod(t, axis=axis), [x])
    check_gradients(lambda t: K.prod(t, axis=axis), [x], order=2)


def test_prod_gradient_is_the_product_of_the_others() -> None:
    x = K.placeholder(shape=(4,), dtype="float64")
    (g,) = K.gradients(K.prod(x), [x])
    np.testing.assert_array_equal(K.function([x], [g])([np.array([0.0, 2.0, 3.0, 4.0])])[0], [24.0, 0, 0, 0])


def test_a_third_derivative_of_prod_says_it_is_not_implemented() -> None:
    x = K.placeholder(shape=(3,), dtype="float64")
    (g,) = K.gradients(K.prod(x), [x])
    (h,) = K.gradients(K.sum(g * g), [x])
    with pytest.raises(G.NotDifferentiableError, match="third derivatives of a product"):
        K.gradients(K.sum(h * h), [x])


# --- l2_normalize, empty data -------------------------------------------------------------------

def test_l2_normalize_scales_a_tiny_vector_to_length_one() -> None:
    x = K.placeholder(shape=(3,))
    (y,) = K.function([x], [K.l2_normalize(x, axis=0)])([np.array([1e-5, 0.0, 0.0])])
    np.testing.assert_allclose(y, [1.0, 0.0, 0.0], rtol=1e-6)
    (z,) = K.function([x], [K.l2_normalize(x, axis=0)])([np.zeros(3)])
    np.testing.assert_array_equal(z, np.zeros(3))


def test_predict_on_no_samples_gives_the_models_dtype_and_fit_refuses() -> None:
    model = Sequential([Dense(2, input_shape=(3,))])
    out = model.predict(np.zeros((0, 3)))
    assert out.shape == (0, 2) and out.dtype == np.float32
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="^Empty training data.$"):
        model.fit(np.zeros((0, 3)), np.zeros((0, 2)), verbose=0)


# --- mistakes that become clear errors ------------------------------------------------------------

def test_out_of_range_axes_are_refused() -> None:
    x = K.placeholder(shape=(2, 3))
    with pytest.raises(ValueError, match="axis 2 is out of range for a tensor of rank 2"):
        K.permute_dimensions(x, (0, 2))
    with pytest.raises(ValueError, match="repeat_elements: axis 5 is out of range"):
        K.repeat_elements(x, 2, axis=5)
    assert K.int_shape(K.permute_dimensions(x, (-1, 0))) == (3, 2)  # negative axes count from the end


@pytest.mark.parametrize("axis", [1.0, "1", True, [0, 1.5]])
def test_non_integer_axes_are_type_errors(axis: object) -> None:
    with pytest.raises(TypeError, match="an axis must be an integer"):
        K.sum(K.placeholder(shape=(2, 3)), axis=axis)


def test_gather_on_a_scalar_and_bad_placeholder_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="gather: params .* is a scalar"):
        K.gather(K.constant(3.0), K.constant(np.array([0]), dtype="int64"))
    with pytest.raises(ValueError, match=r"has the dimension -3"):
        K.placeholder(shape=(None, -3))
    assert K.int_shape(K.placeholder(shape=(-1, 3))) == (None, 3)  # TF1's -1: unknown


def test_clip_bounds_must_be_numbers() -> None:
    with pytest.raises(TypeError, match="clip: max_value must be a number or None, got '1'"):
        K.clip(K.placeholder(shape=(2,)), 0.0, "1")


def test_out_of_range_indices_fail_at_run_time_naming_the_op() -> None:
    params = K.variable(np.arange(6.0).reshape(3, 2))
    ids = K.placeholder(shape=(None,), dtype="int32", name="ids")
    f = K.function([ids], [K.gather(params, ids)])
    np.testing.assert_array_equal(f([np.array([2, 0])])[0], [[4, 5], [0, 1]])
    for bad in (-1, 3):
        with pytest.raises(ValueError, match=rf"Gather: index {bad} is out of range \[0, 3\).*ids:0"):
            f([np.array([0, bad])])


def test_an_embedding_refuses_an_unknown_word_id() -> None:
    x = Input(shape=(2,), dtype="int32")
    model = Model(x, Embedding(5, 3)(x))
    with pytest.raises(ValueError, match=r"index 5 is out of range \[0, 5\)"):
        model.predict(np.array([[1, 5]]))


def test_a_feed_that_does_not_fit_the_placeholders_dtype_names_it() -> None:
    x = K.placeholder(shape=(None,), dtype="uint8", name="pixels")
    f = K.function([x], [x])
    with pytest.raises(ValueError, match="placeholder pixels:0 holds 300, outside the range of its dtype uint8"):
        f([np.array([1, 300])])
    with pytest.raises(ValueError, match="pixels:0"):
        f([300])
    h = K.placeholder(shape=(2,), dtype="float16", name="half")
    with pytest.raises(ValueError, match="half:0 overflows its dtype float16"):
        K.function([h], [h])([np.array([1e6, 1.0])])


def test_a_variable_whose_value_overflows_its_dtype_names_it() -> None:
    with pytest.raises(ValueError, match="variable lr overflows its dtype float32"):
        K.variable(1e300, dtype="float32", name="lr")
    with pytest.raises(ValueError, match="overflows its dtype float32"):
        K.variable(np.array([1.0, 1e300]))  # float64 data, made float32 by default
    assert np.isinf(K.get_value(K.variable(np.inf, dtype="float32")))  # an inf given stays one


def test_sparse_categorical_crossentropy_with_an_unknown_class_count() -> None:
    logits = K.placeholder(shape=(None, None), dtype="float64")
    ids = K.placeholder(shape=(None,), dtype="int64")
    f = K.function([logits, ids], [K.sparse_categorical_crossentropy(ids, K.softmax(logits))])
    z = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]])
    expected = -np.log(np.exp(z) / np.exp(z).sum(1, keepdims=True))[[0, 1], [2, 0]]
    np.testing.assert_allclose(f([z, np.array([2, 0])])[0], expected)
    with pytest.raises(ValueError, match=r"index 3 is out of range \[0, 3\)"):
        f([z, np.array([3, 0])])
