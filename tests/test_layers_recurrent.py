"""SimpleRNN, LSTM, GRU and their cells against NumPy written by hand."""

from __future__ import annotations

import numpy as np
import pytest

from minikeras import Input, Model, Sequential, layers
from minikeras import backend as K


def hard_sigmoid(x):
    return np.clip(0.2 * x + 0.5, 0, 1)


def simple_step(x, states, w):
    kernel, rec, bias = w
    h = np.tanh(x @ kernel + bias + states[0] @ rec)
    return h, [h]


def lstm_step(x, states, w):
    kernel, rec, bias = w
    h, c = states
    u = rec.shape[0]
    z = x @ kernel + bias + h @ rec
    i, f, g, o = (z[:, k * u:(k + 1) * u] for k in range(4))
    c = hard_sigmoid(f) * c + hard_sigmoid(i) * np.tanh(g)
    h = hard_sigmoid(o) * np.tanh(c)
    return h, [h, c]


def gru_step(x, states, w, reset_after=False):
    kernel, rec, bias = w
    h = states[0]
    u = rec.shape[0]
    in_bias, rec_bias = (bias[0], bias[1]) if reset_after else (bias, np.zeros(3 * u))
    xz, xr, xh = ((x @ kernel + in_bias)[:, k * u:(k + 1) * u] for k in range(3))
    if reset_after:
        hz, hr, hh = ((h @ rec + rec_bias)[:, k * u:(k + 1) * u] for k in range(3))
        z, r = hard_sigmoid(xz + hz), hard_sigmoid(xr + hr)
        cand = np.tanh(xh + r * hh)
    else:
        z = hard_sigmoid(xz + h @ rec[:, :u])
        r = hard_sigmoid(xr + h @ rec[:, u:2 * u])
        cand = np.tanh(xh + (r * h) @ rec[:, 2 * u:])
    h = z * h + (1 - z) * cand
    return h, [h]


def numpy_run(step, x, states, w, backwards=False, mask=None):
    outs = []
    steps = range(x.shape[1])
    for t in (steps[::-1] if backwards else steps):
        out, new = step(x[:, t], states, w)
        if mask is not None:
            m = mask[:, t][:, None]
            out = np.where(m, out, states[0])
            new = [np.where(m, n, s) for n, s in zip(new, states)]
        states = new
        outs.append(out)
    return np.stack(outs, axis=1), states


STEPS = {"SimpleRNN": (layers.SimpleRNN, simple_step, 1), "LSTM": (layers.LSTM, lstm_step, 2),
         "GRU": (layers.GRU, gru_step, 1)}


def randomize(layer):
    layer.set_weights([np.random.randn(*w.shape) * 0.5 for w in layer.get_weights()])
    return layer.get_weights()


@pytest.mark.parametrize("kind", sorted(STEPS))
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("unroll", [False, True])
def test_layer_outputs_and_states_against_numpy(kind, go_backwards, unroll):
    cls, step, n_states = STEPS[kind]
    x = Input((5, 3))
    layer = cls(4, return_sequences=True, return_state=True, go_backwards=go_backwards, unroll=unroll)
    outs = layer(x)
    w = randomize(layer)
    xv = np.random.randn(2, 5, 3).astype("float32")
    got = Model(x, outs).predict(xv)
    want_seq, want_states = numpy_run(step, xv, [np.zeros((2, 4))] * n_states, w, backwards=go_backwards)
    np.testing.assert_allclose(got[0], want_seq, rtol=1e-4, atol=1e-5)
    for g, s in zip(got[1:], want_states):
        np.testing.assert_allclose(g, s, rtol=1e-4, atol=1e-5)
    last = Model(x, cls(4, weights=w)(x)).predict(xv)  # return_sequences=False: the last output
    np.testing.assert_allclose(last, numpy_run(step, xv, [np.zeros((2, 4))] * n_states, w)[0][:, -1],
                               rtol=1e-4, atol=1e-5)


def test_gru_reset_after_against_numpy():
    x = Input((4, 3))
    layer = layers.GRU(5, reset_after=True, return_sequences=True)
    y = layer(x)
    assert layer.get_weights()[2].shape == (2, 15)
    w = randomize(layer)
    xv = np.random.randn(3, 4, 3)
    want, _ = numpy_run(lambda a, s, w: gru_step(a, s, w, reset_after=True), xv, [np.zeros((3, 5))], w)
    np.testing.assert_allclose(Model(x, y).predict(xv), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind,extra", [("LSTM", {}), ("GRU", {"reset_after": False}), ("GRU", {"reset_after": True})])
def test_implementation_1_and_2_give_the_same_numbers(kind, extra):
    x = Input((6, 3))
    one = getattr(layers, kind)(4, implementation=1, return_sequences=True, **extra)
    two = getattr(layers, kind)(4, implementation=2, return_sequences=True, **extra)
    a, b = one(x), two(x)
    two.set_weights(randomize(one))
    xv = np.random.randn(2, 6, 3)
    np.testing.assert_allclose(*Model(x, [a, b]).predict(xv), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell_cls,step,n", [(layers.SimpleRNNCell, simple_step, 1),
                                             (layers.LSTMCell, lstm_step, 2), (layers.GRUCell, gru_step, 1)])
def test_one_cell_step_against_numpy(cell_cls, step, n):
    cell = cell_cls(3)
    x = K.placeholder((None, 2))
    states = [K.placeholder((None, 3)) for _ in range(n)]
    cell.build((None, 2))
    w = randomize(cell)
    out, new = cell.call(x, states)
    xv = np.random.randn(4, 2)
    sv = [np.random.randn(4, 3) for _ in range(n)]
    got = K.function([x, *states], [out, *new])([xv, *sv])
    want_out, want_new = step(xv, sv, w)
    for g, e in zip(got, [want_out, *want_new]):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def test_weights_are_named_as_keras_2_names_them():
    x = Input((3, 2))
    lstm = layers.LSTM(4)
    lstm(x)
    assert [w.name for w in lstm.weights] == ["lstm_1/kernel:0", "lstm_1/recurrent_kernel:0", "lstm_1/bias:0"]
    assert [w.shape for w in lstm.weights] == [(2, 16), (4, 16), (16,)]


def test_unit_forget_bias_and_orthogonal_recurrent_kernel():
    lstm = layers.LSTM(3)
    lstm(Input((2, 2)))
    bias = lstm.get_weights()[2]
    np.testing.assert_array_equal(bias, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    rec = layers.SimpleRNN(5)
    rec(Input((2, 2)))
    u = rec.get_weights()[1]
    np.testing.assert_allclose(u @ u.T, np.eye(5), atol=1e-5)


def test_initial_state_tensors_are_inputs_of_the_node():
    x, h0 = Input((4, 3)), Input((2,))
    layer = layers.SimpleRNN(2)
    y = layer(x, initial_state=h0)
    model = Model([x, h0], y)
    w = randomize(layer)
    xv, hv = np.random.randn(3, 4, 3), np.random.randn(3, 2)
    want, _ = numpy_run(simple_step, xv, [hv], w)
    np.testing.assert_allclose(model.predict([xv, hv]), want[:, -1], rtol=1e-4, atol=1e-5)
    assert layer.inbound_nodes[0].inbound_layers[1].name == model.layers[1].name


def test_a_stateful_layer_carries_state_across_calls_and_reset_states_clears_it():
    model = Sequential([layers.SimpleRNN(3, stateful=True, batch_input_shape=(2, 4, 2))])
    layer = model.layers[0]
    w = randomize(layer)
    xv = np.random.randn(2, 4, 2)
    first = model.predict(xv, batch_size=2)
    second = model.predict(xv, batch_size=2)
    seq, states = numpy_run(simple_step, xv, [np.zeros((2, 3))], w)
    np.testing.assert_allclose(first, seq[:, -1], rtol=1e-4, atol=1e-5)
    seq2, _ = numpy_run(simple_step, xv, states, w)
    np.testing.assert_allclose(second, seq2[:, -1], rtol=1e-4, atol=1e-5)
    layer.reset_states()
    np.testing.assert_allclose(model.predict(xv, batch_size=2), first, rtol=1e-6)


def test_stateful_needs_a_batch_size():
    with pytest.raises(ValueError, match="needs to know its batch size"):
        Sequential([layers.LSTM(3, stateful=True, input_shape=(4, 2))])


def test_dropout_masks_are_the_same_at_every_step():
    """With dropout on the input only, a constant input gives the same kernel term at every
    step: the mask is drawn once per batch, as Keras does."""
    x = K.placeholder((2, 5, 4))
    layer = layers.SimpleRNN(3, dropout=0.5, return_sequences=True, recurrent_initializer="zeros",
                             kernel_initializer="ones", activation="linear")
    y = layer(x)
    f = K.function([x, K.learning_phase()], [y])
    xv = np.ones((2, 5, 4), "float32")
    train = f([xv, 1])[0]
    np.testing.assert_allclose(train, np.repeat(train[:, :1], 5, axis=1))
    assert not np.allclose(train, 4.0)  # some inputs dropped (and the rest scaled)
    np.testing.assert_allclose(f([xv, 0])[0], 4.0)


def test_cell_config_round_trip():
    layer = layers.LSTM(3, dropout=0.2, recurrent_activation="sigmoid", return_sequences=True, name="enc")
    config = layer.get_config()
    assert config["units"] == 3 and config["return_sequences"] is True and config["name"] == "enc"
    again = layers.LSTM.from_config(config)
    assert again.get_config() == config
    rnn = layers.RNN([layers.SimpleRNNCell(2), layers.LSTMCell(3)])
    again_rnn = layers.RNN.from_config(rnn.get_config())
    assert again_rnn.cell.state_size == (2, 3, 3)


def test_h5_round_trip_of_recurrent_layers(tmp_path):
    from minikeras.models import load_model

    model = Sequential([layers.Masking(input_shape=(4, 3)),
                        layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
                        layers.GRU(2, reset_after=True, return_sequences=True),
                        layers.TimeDistributed(layers.Dense(2)), layers.SimpleRNN(2), layers.RepeatVector(2),
                        layers.RNN([layers.SimpleRNNCell(2), layers.LSTMCell(2)])])
    xv = np.random.randn(3, 4, 3).astype("float32")
    model.save(str(tmp_path / "m.h5"))
    again = load_model(str(tmp_path / "m.h5"))
    np.testing.assert_allclose(again.predict(xv), model.predict(xv), rtol=1e-6)
    assert len(again.weights) == len(model.weights) == 20


def test_regularizers_add_losses_and_constraints_hold_after_a_step():
    from minikeras import constraints, regularizers

    model = Sequential([layers.LSTM(3, input_shape=(4, 2), kernel_regularizer=regularizers.l2(0.1),
                                    recurrent_regularizer=regularizers.l1(0.1),
                                    kernel_constraint=constraints.max_norm(0.1))])
    assert len(model.losses) == 2
    model.compile("sgd", "mse")
    model.train_on_batch(np.random.randn(2, 4, 2), np.random.randn(2, 3))
    norms = np.sqrt((model.layers[0].get_weights()[0] ** 2).sum(axis=0))
    assert norms.max() <= 0.1 + 1e-6


def test_recurrent_dropout_mask_is_the_same_at_every_step():
    """A zero input and a ones state: the recurrent term is U applied to one fixed mask."""
    x = K.placeholder((2, 5, 1))
    layer = layers.SimpleRNN(3, recurrent_dropout=0.5, return_sequences=True, activation="linear",
                             kernel_initializer="zeros", recurrent_initializer="identity", use_bias=False)
    h0 = K.ones((2, 3))
    y = layer(x, initial_state=h0)
    f = K.function([x, K.learning_phase()], [y])
    out = f([np.zeros((2, 5, 1)), 1])[0]
    mask = out[:, 0]  # h1 = (h0 * m) U = m (scaled), then h_t = m^t: zeros stay zeros
    assert set(np.unique(mask)) <= {0.0, 2.0}
    np.testing.assert_array_equal(out[:, 1] == 0, mask == 0)
    np.testing.assert_allclose(f([np.zeros((2, 5, 1)), 0])[0], 1.0)
