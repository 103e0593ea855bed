"""Keras 2.2's engine and training semantics beyond the seed: add_weight by name, added
losses (layer- and model-level), compiling without a loss, partial loss dicts, lazily
built Sequential models, clone_model, generators, and Keras 1's ``nb_epoch``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minikeras as keras
from minikeras import backend as K
from minikeras.engine.topology import Layer
from minikeras.layers import Dense, Input, Reshape
from minikeras.models import Model, Sequential, clone_model


class StringOptionsLayer(Layer):
    """A custom layer the 2017-2019 way: weights made with add_weight and string options."""

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1],), initializer="uniform",
                                      regularizer={"class_name": "L1L2", "config": {"l2": 0.5}},
                                      constraint="non_neg", trainable=True)
        self.offset = self.add_weight(name="offset", shape=(1,), initializer="ones")
        super().build(input_shape)

    def call(self, x):
        return x * self.kernel + self.offset


def test_add_weight_resolves_names_and_config_dicts():
    x = Input((3,))
    layer = StringOptionsLayer()
    layer(x)
    k = K.get_value(layer.kernel)
    assert ((k >= -0.05) & (k <= 0.05)).all()  # Keras's "uniform" is RandomUniform(-0.05, 0.05)
    np.testing.assert_array_equal(K.get_value(layer.offset), [1.0])
    assert layer.kernel.constraint is not None and len(layer.losses) == 1
    np.testing.assert_allclose(K.eval(layer.losses[0]), 0.5 * np.sum(k**2), rtol=1e-5)


def test_add_loss_with_inputs_and_get_losses_for():
    x = Input((2,))
    layer = Dense(1)
    y = layer(x)
    layer.add_loss(K.sum(y), inputs=x)
    layer.add_loss(K.constant(2.0))
    assert len(layer.losses) == 2
    assert len(layer.get_losses_for(x)) == 1 and len(layer.get_losses_for(None)) == 1


def test_model_add_loss_is_in_model_losses_and_the_training_loss():
    x = Input((2,))
    y = Dense(1, kernel_initializer="ones", use_bias=False)(x)
    model = Model(x, y)
    model.add_loss(K.mean(K.square(y)))
    assert len(model.losses) == 1
    model.compile("sgd", loss="mse")
    xv, yv = np.array([[1.0, 2.0]]), np.array([[1.0]])
    # mse (3 - 1)^2 = 4, plus the added mean(y^2) = 9
    assert model.evaluate(xv, yv, verbose=0) == pytest.approx(13.0)


def test_compile_without_a_loss_trains_on_added_losses_with_y_none():
    x = Input((2,))
    y = Dense(1, kernel_initializer="ones", bias_initializer="zeros")(x)
    model = Model(x, y)
    model.add_loss(K.mean(K.square(y - 3.0)))
    with pytest.warns(UserWarning, match="missing from loss dictionary"):
        model.compile(optimizer=keras.optimizers.SGD(lr=0.05))
    xv = np.random.randn(16, 2).astype("float32")
    before = model.evaluate(xv, verbose=0)  # no y: Keras 2.2's evaluate(x=None, y=None, ...)
    history = model.fit(xv, epochs=20, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < before / 4
    supervised = Model(x, y)
    supervised.compile("sgd", loss="mse")
    with pytest.raises(ValueError, match="No target data"):
        supervised.fit(xv, verbose=0)


def test_partial_loss_dict_warns_and_leaves_the_other_output_untrained():
    x = Input((3,))
    a = Dense(2, name="a")(x)
    b = Dense(1, name="b")(x)
    model = Model(x, [a, b])
    with pytest.warns(UserWarning, match='Output "b" missing from loss dictionary'):
        model.compile("sgd", loss={"a": "mse"})
    assert model.metrics_names == ["loss", "a_loss"]
    xv, av = np.random.randn(8, 3), np.random.randn(8, 2)
    kernel_b = K.get_value(model.get_layer("b").kernel)
    model.fit(xv, av, epochs=2, verbose=0)  # one target, for the one output with a loss
    np.testing.assert_array_equal(K.get_value(model.get_layer("b").kernel), kernel_b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a None in a list is explicit: no warning
        model.compile("sgd", loss=[None, "mse"])
    assert model.metrics_names == ["loss", "b_loss"]
    model.fit(xv, np.random.randn(8, 1), epochs=1, verbose=0)


def test_sample_weight_list_with_none_entries():
    x = Input((3,))
    model = Model(x, [Dense(1, name="a")(x), Dense(1, name="b")(x)])
    model.compile("sgd", loss="mse")
    xv = np.random.randn(6, 3)
    ys = [np.random.randn(6, 1), np.random.randn(6, 1)]
    w = np.array([1, 1, 1, 0, 0, 0], dtype="float32")
    weighted = model.test_on_batch(xv, ys, sample_weight=[w, None])
    per = model.predict(xv)
    a = np.mean((per[0] - ys[0]) ** 2, axis=1)
    b = np.mean((per[1] - ys[1]) ** 2, axis=1)
    expected_a = np.mean(a * w) / 0.5
    np.testing.assert_allclose(weighted[1:], [expected_a, b.mean()], rtol=1e-4)


def test_predict_takes_a_list_of_one_array_on_a_single_input_model():
    model = Sequential([Dense(2, input_shape=(3,))])
    xv = np.random.randn(4, 3).astype("float32")
    np.testing.assert_array_equal(model.predict([xv]), model.predict(xv))
    lazy = Sequential([Dense(2)])
    assert lazy.predict([xv]).shape == (4, 2)


def test_trainable_toggled_after_compile_warns_like_keras_2():
    x = Input((2,))
    model = Model(x, Dense(1)(x))
    model.compile("sgd", loss="mse")
    model.trainable = False
    with pytest.warns(UserWarning, match="Discrepancy between trainable weights and collected trainable"):
        model.train_on_batch(np.zeros((1, 2)), np.zeros((1, 1)))


def test_a_change_after_consistent_steps_still_warns():
    # The check is skipped while nothing changed: a change after some clean steps must count.
    inner = Dense(1)
    x = Input((2,))
    model = Model(x, Dense(3)(x))
    outer = Sequential([model, inner])
    outer.compile("sgd", loss="mse")
    xs, ys = np.zeros((1, 2)), np.zeros((1, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outer.train_on_batch(xs, ys)
        outer.train_on_batch(xs, ys)
    model.layers[1].trainable = False  # a layer two models down
    with pytest.warns(UserWarning, match="Discrepancy between trainable weights"):
        outer.train_on_batch(xs, ys)
    model.layers[1].trainable = True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        outer.train_on_batch(xs, ys)
    outer.pop()  # the weights to train change without any trainable flag set
    outer.add(Dense(1, use_bias=False))  # one weight fewer than the layer it replaces
    with pytest.warns(UserWarning, match="Discrepancy between trainable weights"):
        outer.train_on_batch(xs, ys)


def test_sequential_without_input_shape_is_built_at_the_first_fit():
    model = Sequential([Dense(4, activation="relu"), Dense(1)])
    model.compile("adam", loss="mse")
    assert not model.inputs
    xv, yv = np.random.randn(10, 5), np.random.randn(10, 1)
    history = model.fit(xv, yv, epochs=1, verbose=0)
    assert model.layers[0].kernel.shape == (5, 4) and len(history.history["loss"]) == 1


def test_predict_classes_and_proba():
    model = Sequential([Dense(3, activation="softmax", input_shape=(2,))])
    xv = np.random.randn(5, 2).astype("float32")
    np.testing.assert_array_equal(model.predict_classes(xv), model.predict(xv).argmax(-1))
    np.testing.assert_array_equal(model.predict_proba(xv), model.predict(xv))
    binary = Sequential([Dense(1, activation="sigmoid", input_shape=(2,))])
    assert binary.predict_classes(xv).shape == (5, 1)
    np.testing.assert_array_equal(binary.predict_classes(xv), (binary.predict(xv) > 0.5).astype("int32"))
    linear = Sequential([Dense(1, input_shape=(2,), kernel_initializer="ones", bias_initializer="ones")])
    with pytest.warns(UserWarning, match="invalid probability values"):
        linear.predict_proba(np.full((1, 2), 5.0))


def test_clone_model_has_new_layers_with_the_same_wiring():
    x = Input((3,))
    model = Model(x, Dense(2, activation="tanh")(Dense(4)(x)))
    clone = clone_model(model)
    assert [type(layer) for layer in clone.layers] == [type(layer) for layer in model.layers]
    assert clone.layers[1] is not model.layers[1]
    clone.set_weights(model.get_weights())
    xv = np.random.randn(2, 3).astype("float32")
    np.testing.assert_allclose(clone.predict(xv), model.predict(xv), rtol=1e-6)
    new_in = Input((3,))
    on_tensors = clone_model(model, input_tensors=new_in)
    assert on_tensors.inputs[0] is new_in
    seq = Sequential([Dense(2, input_shape=(3,))])
    assert isinstance(clone_model(seq), Sequential)


def test_clone_model_keeps_lambda_functions():
    x = Input((2,))
    doubled = keras.layers.Lambda(lambda t: t * 2)(x)
    tripled = keras.layers.Lambda(lambda t: t * 3, output_shape=lambda s: s)(doubled)
    model = Model(x, tripled)
    np.testing.assert_allclose(clone_model(model).predict(np.ones((1, 2))), [[6.0, 6.0]])
    seq = Sequential([Dense(2, input_shape=(3,), kernel_initializer="ones"), keras.layers.Lambda(lambda t: -t)])
    np.testing.assert_allclose(clone_model(seq).predict(np.ones((1, 3))), [[-3.0, -3.0]])


def test_model_input_spec():
    a, b = Input((3,)), Input((2, 4), dtype="int32")
    single = Model(a, Dense(1)(a))
    assert single.input_spec.shape == (None, 3) and single.input_spec.ndim == 2
    joined = keras.layers.concatenate([a, keras.layers.Flatten()(b)])
    specs = Model([a, b], joined).input_spec
    assert [s.dtype for s in specs] == ["float32", "int32"]


def test_fit_nb_epoch_is_renamed_with_keras_warning():
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile("sgd", loss="mse")
    with pytest.warns(UserWarning, match="The `nb_epoch` argument in `fit` has been renamed `epochs`."):
        history = model.fit(np.zeros((4, 2)), np.zeros((4, 1)), nb_epoch=3, verbose=0)
    assert len(history.history["loss"]) == 3


def test_reshape_with_minus_one():
    x = Input((2, 6))
    y = Reshape((-1, 3))(x)
    assert K.int_shape(y) == (None, 4, 3)
    model = Model(x, y)
    xv = np.arange(24, dtype="float32").reshape(2, 2, 6)
    np.testing.assert_array_equal(model.predict(xv), xv.reshape(2, 4, 3))


def test_no_warning_when_trainable_is_consistent():
    x = Input((2,))
    model = Model(x, Dense(1)(x))
    model.compile("sgd", loss="mse")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.train_on_batch(np.zeros((1, 2)), np.zeros((1, 1)))


def test_a_model_compiled_without_a_loss_saves_and_loads(tmp_path):
    x = Input((2,))
    model = Model(x, Dense(1)(x))
    model.add_loss(K.mean(K.square(model.output)))
    with pytest.warns(UserWarning):
        model.compile("adam")
    model.fit(np.ones((4, 2)), verbose=0)
    model.save(str(tmp_path / "m.h5"))
    with pytest.warns(UserWarning) as caught:
        loaded = keras.models.load_model(str(tmp_path / "m.h5"))
    messages = " ".join(str(w.message) for w in caught)
    assert "missing from loss dictionary" in messages and "optimizer state was not restored" in messages
    np.testing.assert_allclose(loaded.predict(np.ones((1, 2))), model.predict(np.ones((1, 2))))
