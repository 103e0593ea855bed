"""Keras 2.2's layers that need no new math: advanced activations, noise, spatial dropout,
Permute, ActivityRegularization, and Keras's module paths for them."""

from __future__ import annotations

import json

import numpy as np
import pytest

import minikeras as keras
from minikeras import backend as K
from minikeras.layers import (
    ELU,
    ActivityRegularization,
    AlphaDropout,
    Dense,
    Embedding,
    GaussianDropout,
    GaussianNoise,
    Input,
    LeakyReLU,
    Permute,
    PReLU,
    ReLU,
    Softmax,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
    ThresholdedReLU,
)
from minikeras.models import Model, Sequential

X = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]], dtype="float32")


def apply(layer, x=X, training=None):
    inp = Input(x.shape[1:])
    out = layer(inp) if training is None else layer(inp, training=training)
    return K.function([inp], [out])([x])[0]


def test_advanced_activations_against_numpy():
    np.testing.assert_allclose(apply(LeakyReLU()), np.where(X > 0, X, 0.3 * X))
    np.testing.assert_allclose(apply(LeakyReLU(alpha=0.1)), np.where(X > 0, X, 0.1 * X))
    np.testing.assert_allclose(apply(ELU(alpha=0.5)), np.where(X > 0, X, 0.5 * np.expm1(X)), rtol=1e-6)
    np.testing.assert_allclose(apply(ThresholdedReLU(theta=0.5)), np.where(X > 0.5, X, 0.0))
    e = np.exp(X - X.max())
    np.testing.assert_allclose(apply(Softmax()), e / e.sum(), rtol=1e-6)
    np.testing.assert_allclose(apply(ReLU()), np.maximum(X, 0))
    expected = np.minimum(np.where(X >= 0.2, X, 0.1 * (X - 0.2)), 1.0)
    np.testing.assert_allclose(apply(ReLU(max_value=1.0, negative_slope=0.1, threshold=0.2)), expected,
                               rtol=1e-6)
    with pytest.raises(ValueError, match="max_value of ReLU layer cannot be negative"):
        ReLU(max_value=-1)


def test_prelu_learns_slopes_per_unit_or_shared():
    layer = PReLU(alpha_initializer=keras.initializers.Constant(0.25))
    np.testing.assert_allclose(apply(layer), np.where(X > 0, X, 0.25 * X))
    assert layer.alpha.shape == (5,) and layer.trainable_weights == [layer.alpha]
    images = Input((4, 4, 3))
    shared = PReLU(shared_axes=[1, 2])
    shared(images)
    assert shared.alpha.shape == (1, 1, 3)
    assert shared.get_config()["shared_axes"] == [1, 2]


def test_noise_layers_are_the_identity_at_test_time_and_noisy_in_training():
    x = np.ones((200, 50), dtype="float32")
    for layer in (GaussianNoise(0.5), GaussianDropout(0.3), AlphaDropout(0.2)):
        np.testing.assert_array_equal(apply(layer, x, training=False), x)
    noisy = apply(GaussianNoise(0.5), x, training=True)
    assert abs(noisy.mean() - 1.0) < 0.02 and abs(noisy.std() - 0.5) < 0.02
    dropped = apply(GaussianDropout(0.3), x, training=True)
    assert abs(dropped.mean() - 1.0) < 0.02 and abs(dropped.std() - np.sqrt(0.3 / 0.7)) < 0.02


def test_alpha_dropout_keeps_mean_and_variance_of_standardized_inputs():
    x = np.random.randn(400, 100).astype("float32")
    out = apply(AlphaDropout(0.2), x, training=True)
    assert abs(out.mean()) < 0.03 and abs(out.std() - 1.0) < 0.03
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - 0.2) * (1 + 0.2 * alpha_p**2)) ** -0.5
    b = -a * alpha_p * 0.2
    dropped_value = a * alpha_p + b
    assert np.isclose(out, dropped_value, atol=1e-5).mean() == pytest.approx(0.2, abs=0.01)


@pytest.mark.parametrize("layer_cls, shape", [(SpatialDropout1D, (6, 4)), (SpatialDropout2D, (3, 3, 4)),
                                              (SpatialDropout3D, (2, 2, 2, 4))])
def test_spatial_dropout_drops_whole_channels(layer_cls, shape):
    x = np.ones((50, *shape), dtype="float32")
    out = apply(layer_cls(0.5), x, training=True)
    per_channel = out.reshape(50, -1, shape[-1])
    assert (per_channel.min(axis=1) == per_channel.max(axis=1)).all()  # a channel is all kept or all dropped
    assert set(np.unique(out)) == {0.0, 2.0}
    np.testing.assert_array_equal(apply(layer_cls(0.5), x, training=False), x)


def test_permute_and_activity_regularization():
    x = np.arange(24, dtype="float32").reshape(1, 2, 3, 4)
    layer = Permute((3, 1, 2))
    np.testing.assert_array_equal(apply(layer, x), x.transpose(0, 3, 1, 2))
    assert layer.compute_output_shape((None, 2, 3, 4)) == (None, 4, 2, 3)
    with pytest.raises(ValueError, match="Invalid permutation"):
        Permute((0, 1))
    inp = Input((5,))
    reg = ActivityRegularization(l1=0.1, l2=0.01)
    model = Model(inp, reg(inp))
    np.testing.assert_array_equal(model.predict(X), X)
    penalty = K.function([inp], model.losses)([X])[0]
    assert penalty == pytest.approx(0.1 * np.abs(X).sum() + 0.01 * (X**2).sum(), rel=1e-6)


def test_keras_module_paths_and_configs_round_trip():
    from minikeras.layers.advanced_activations import LeakyReLU as FromModule
    from minikeras.layers.core import ActivityRegularization as Reg
    from minikeras.layers.core import Permute as CorePermute
    from minikeras.layers.noise import GaussianNoise as Noise

    assert FromModule is LeakyReLU and CorePermute is Permute and Noise is GaussianNoise and Reg is not None
    model = Sequential([Dense(4, input_shape=(3,)), LeakyReLU(0.2), PReLU(), ELU(), GaussianNoise(0.1),
                        GaussianDropout(0.1), AlphaDropout(0.1), ThresholdedReLU(0.3), ActivityRegularization(0.1),
                        Softmax(), ReLU(max_value=6.0)])
    clone = keras.models.model_from_json(model.to_json())
    assert json.loads(clone.to_json())["config"] == json.loads(model.to_json())["config"]


def test_embedding_validates_input_length():
    with pytest.raises(ValueError, match='"input_length" is 5'):
        Embedding(10, 3, input_length=5)(Input((4,), dtype="int32"))
    assert K.int_shape(Embedding(10, 3, input_length=4)(Input((4,), dtype="int32"))) == (None, 4, 3)
