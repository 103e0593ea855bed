"""TimeDistributed and Bidirectional against manual compositions; programs that train."""

from __future__ import annotations

import numpy as np
import pytest

from minikeras import Input, Model, Sequential, initializers, layers
from minikeras import backend as K
from minikeras.engine import Layer


def test_time_distributed_dense_is_the_dense_at_every_step():
    for steps in (4, None):
        K.clear_session()
        x = Input((steps, 3))
        wrapper = layers.TimeDistributed(layers.Dense(2))
        y = wrapper(x)
        assert K.int_shape(y) == (None, steps, 2)
        assert [w.name for w in wrapper.weights] == ["time_distributed_1/kernel:0", "time_distributed_1/bias:0"]
        kernel, bias = wrapper.get_weights()
        xv = np.random.randn(5, 4, 3).astype("float32")
        np.testing.assert_allclose(Model(x, y).predict(xv), xv @ kernel + bias, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_is_a_forward_and_a_reversed_backward_rnn(merge_mode):
    x = Input((5, 3))
    bidi = layers.Bidirectional(layers.SimpleRNN(4, return_sequences=True), merge_mode=merge_mode)
    y = bidi(x)
    weights = [np.random.randn(*w.shape).astype("float32") * 0.5 for w in bidi.weights]
    bidi.set_weights(weights)
    assert [w.name for w in bidi.weights][:1] == ["bidirectional_1/forward_simple_rnn_1/kernel:0"]
    forward = layers.SimpleRNN(4, return_sequences=True, weights=weights[:3])
    backward = layers.SimpleRNN(4, return_sequences=True, go_backwards=True, weights=weights[3:])
    xv = np.random.randn(2, 5, 3).astype("float32")
    manual = Model(x, [forward(x), backward(x)]).predict(xv)
    f, b = manual[0], manual[1][:, ::-1]
    want = {"concat": [np.concatenate([f, b], -1)], "sum": [f + b], "mul": [f * b], "ave": [(f + b) / 2],
            None: [f, b]}[merge_mode]
    got = Model(x, y).predict(xv)
    got = got if isinstance(got, list) else [got]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_bidirectional_return_state_and_config():
    x = Input((4, 2))
    bidi = layers.Bidirectional(layers.LSTM(3, return_state=True))
    outs = bidi(x)
    assert len(outs) == 5 and K.int_shape(outs[0]) == (None, 6)
    config = bidi.get_config()
    again = layers.Bidirectional.from_config(config)
    assert again.merge_mode == "concat" and again.forward_layer.units == 3


def test_the_addition_seq2seq_model_trains():
    """Keras's addition_rnn example, small: "12+7 " -> "19 " character by character."""
    chars = "0123456789+ "
    rng = np.random.RandomState(0)
    questions, answers = [], []
    for _ in range(200):
        a, b = rng.randint(0, 50, 2)
        questions.append(f"{a}+{b}".ljust(5))
        answers.append(str(a + b).ljust(3))

    def encode(texts, length):
        out = np.zeros((len(texts), length, len(chars)), "float32")
        for i, text in enumerate(texts):
            for j, c in enumerate(text):
                out[i, j, chars.index(c)] = 1
        return out

    x, y = encode(questions, 5), encode(answers, 3)
    model = Sequential([layers.LSTM(32, input_shape=(5, len(chars))), layers.RepeatVector(3),
                        layers.LSTM(32, return_sequences=True),
                        layers.TimeDistributed(layers.Dense(len(chars), activation="softmax"))])
    model.compile("adam", "categorical_crossentropy")
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0) < first * 0.85


class MinimalRNNCell(Layer):
    """The RNN docstring's minimal cell (Keras 2.2); the initializer given as an object, since
    minikeras's ``add_weight`` takes a callable."""

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer=initializers.get("uniform"), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer=initializers.get("uniform"),
                                                name="recurrent_kernel")
        self.built = True

    def call(self, inputs, states):
        prev_output = states[0]
        h = K.dot(inputs, self.kernel)
        output = h + K.dot(prev_output, self.recurrent_kernel)
        return output, [output]


def test_a_custom_cell_runs_as_the_docstring_says_and_trains():
    cell = MinimalRNNCell(4)
    x = Input((None, 5))
    y = layers.RNN(cell)(x)
    xv = np.random.randn(3, 6, 5).astype("float32")
    kernel, rec = cell.get_weights()
    h = np.zeros((3, 4))
    for t in range(6):
        h = xv[:, t] @ kernel + h @ rec
    np.testing.assert_allclose(Model(x, y).predict(xv), h, rtol=1e-4, atol=1e-5)

    cells = [MinimalRNNCell(8), MinimalRNNCell(4)]
    stacked = layers.RNN(cells)(x)
    model = Model(x, layers.Dense(1)(stacked))
    model.compile("sgd", "mse")
    target = xv.sum(axis=(1, 2))[:, None] * 0.1
    first = model.evaluate(xv, target, verbose=0)
    model.fit(xv, target, epochs=30, verbose=0)
    assert model.evaluate(xv, target, verbose=0) < first
