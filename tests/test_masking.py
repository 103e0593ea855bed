"""Masking through the engine: Masking, Embedding(mask_zero=True), nodes, Models, RNNs, losses."""

from __future__ import annotations

import numpy as np
import pytest

from minikeras import Input, Model, Sequential, layers
from minikeras import backend as K
from minikeras.optimizers import SGD


def padded_batch(lengths, features=3, steps=5, seed=0):
    rng = np.random.RandomState(seed)
    x = np.zeros((len(lengths), steps, features), "float32")
    for i, n in enumerate(lengths):
        x[i, :n] = rng.randn(n, features)
    return x


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_a_padded_batch_gives_the_results_of_each_sequence_alone(kind):
    lengths = [5, 2, 4]
    x = padded_batch(lengths)
    inp = Input((None, 3))
    rnn = getattr(layers, kind)(4, return_state=True)
    model = Model(inp, rnn(layers.Masking()(inp)))
    got = model.predict(x)
    for i, n in enumerate(lengths):
        alone = model.predict(x[i:i + 1, :n])
        for g, a in zip(got, alone):
            np.testing.assert_allclose(g[i:i + 1], a, rtol=1e-5, atol=1e-6)
    fixed = Input((5, 3))
    unrolled = getattr(layers, kind)(4, return_state=True, unroll=True, weights=rnn.get_weights())
    for g, u in zip(got, Model(fixed, unrolled(layers.Masking()(fixed))).predict(x)):
        np.testing.assert_allclose(g, u, rtol=1e-5, atol=1e-6)


def test_masking_layer_mask_and_zeroing():
    inp = Input((4, 2))
    layer = layers.Masking(mask_value=-1.0)
    out = layer(inp)
    assert layer.output_mask is not None and layer.input_mask is None
    x = np.array([[[1, 2], [-1, -1], [-1, 3], [0, 0]]], "float32")
    value, mask = K.function([inp], [out, layer.output_mask])([x])
    np.testing.assert_array_equal(mask, [[True, False, True, True]])
    np.testing.assert_array_equal(value, [[[1, 2], [0, 0], [-1, 3], [0, 0]]])


def test_embedding_mask_zero_masks_id_0_and_the_lstm_skips_it():
    ids = Input((None,), dtype="int32")
    emb = layers.Embedding(10, 3, mask_zero=True)
    lstm = layers.LSTM(4)
    model = Model(ids, lstm(emb(ids)))
    np.testing.assert_array_equal(K.function([ids], [emb.output_mask])([np.array([[3, 1, 0, 0, 0, 0]])])[0],
                                  [[True, True, False, False, False, False]])
    padded = model.predict(np.array([[3, 1, 4, 0, 0, 0]]))
    alone = model.predict(np.array([[3, 1, 4]]))
    np.testing.assert_allclose(padded, alone, rtol=1e-5, atol=1e-6)
    assert lstm.input_mask is emb.output_mask


def test_a_layer_that_cannot_take_a_mask_raises_naming_itself():
    ids = Input((6,))
    x = layers.Embedding(10, 3, mask_zero=True)(ids)
    with pytest.raises(TypeError, match="Layer flatten_1 does not support masking"):
        layers.Flatten()(x)


def test_masks_pass_through_layers_that_support_them_and_through_models():
    inp = Input((None, 3))
    masked = layers.Masking()(inp)
    dense = layers.Dense(2)
    y = dense(masked)
    assert dense.output_mask is not None
    inner = Model(inp, y)
    outer_in = Input((None, 3))
    rnn = layers.SimpleRNN(2)
    outer = Model(outer_in, rnn(inner(outer_in)))
    x = padded_batch([5, 2])
    got = outer.predict(x)
    np.testing.assert_allclose(got[1:], outer.predict(x[1:, :2]), rtol=1e-5, atol=1e-6)
    assert inner.compute_mask(outer_in) is not None


def test_masked_time_steps_do_not_count_in_the_loss():
    """A sequence loss: sum(score * mask) / sum(mask), as Keras 2.2 weighs it."""
    inp = Input((4, 2))
    out = layers.Dense(1)(layers.Masking()(inp))
    model = Model(inp, out)
    model.compile(SGD(lr=0.0), "mse")
    x = np.ones((2, 4, 2), "float32")
    x[0, 2:] = 0
    y = np.random.randn(2, 4, 1).astype("float32")
    pred = model.predict(x)
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], "float32")
    scores = ((pred - y) ** 2).mean(-1)
    assert model.evaluate(x, y, verbose=0) == pytest.approx((scores * mask).sum() / mask.sum(), rel=1e-5)


def test_an_lstm_sentiment_classifier_on_padded_integer_sequences_learns():
    rng = np.random.RandomState(0)
    n, length = 96, 8
    lengths = rng.randint(3, length + 1, n)
    ids = np.zeros((n, length), "int32")
    y = rng.randint(0, 2, n)
    for i in range(n):
        # positive reviews use words 1-4, negative 5-8; id 0 pads
        words = rng.randint(1, 5, lengths[i]) + (0 if y[i] else 4)
        ids[i, :lengths[i]] = words
    model = Sequential([layers.Embedding(10, 8, mask_zero=True, input_length=length), layers.LSTM(8),
                        layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["acc"])
    first = model.evaluate(ids, y, verbose=0)[0]
    model.fit(ids, y, epochs=15, batch_size=16, verbose=0)
    loss, acc = model.evaluate(ids, y, verbose=0)
    assert loss < first * 0.7 and acc > 0.8
