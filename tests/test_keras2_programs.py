"""The classic Keras 2 graph-mode programs, written as users wrote them (``import minikeras as
keras``, ``from keras import backend as K``), each run and checked: filter visualisation,
Grad-CAM, a style-transfer step through scipy's L-BFGS, a VAE trained on ``add_loss`` alone,
a custom layer from ``keras.engine.topology``, a GAN step with a frozen discriminator, an
MLP on ``to_categorical`` labels read through ``history.history['acc']``, and text
classification with ``Tokenizer`` and ``pad_sequences``."""

from __future__ import annotations

import numpy as np
import pytest

import minikeras as keras
from minikeras import backend as K
from minikeras.engine.topology import Layer
from minikeras.layers import (
    Conv2D,
    Dense,
    Embedding,
    Flatten,
    GlobalAveragePooling2D,
    Input,
    Lambda,
    LeakyReLU,
)
from minikeras.models import Model, Sequential
from minikeras.preprocessing.sequence import pad_sequences
from minikeras.preprocessing.text import Tokenizer
from minikeras.utils import to_categorical


def small_cnn():
    inp = Input((8, 8, 1))
    x = Conv2D(4, (3, 3), activation="relu", padding="same", name="conv")(inp)
    x = GlobalAveragePooling2D()(x)
    out = Dense(3, activation="softmax", name="predictions")(x)
    return Model(inp, out)


def test_filter_visualisation_by_gradient_ascent():
    model = small_cnn()
    layer_output = model.get_layer("conv").output
    input_img = model.input
    loss = K.mean(layer_output[:, :, :, 2])
    grads = K.gradients(loss, input_img)[0]
    grads /= K.sqrt(K.mean(K.square(grads))) + 1e-5
    iterate = K.function([input_img], [loss, grads])
    img = np.random.random((1, 8, 8, 1)).astype("float32") * 0.2 + 0.4
    first = None
    for _ in range(20):
        loss_value, grads_value = iterate([img])
        first = loss_value if first is None else first
        img += grads_value * 0.1
    assert iterate([img])[0] > first


def test_grad_cam_on_a_small_cnn():
    model = small_cnn()
    x = np.random.random((1, 8, 8, 1)).astype("float32")
    class_index = int(np.argmax(model.predict(x)[0]))
    class_output = model.output[:, class_index]
    last_conv = model.get_layer("conv")
    grads = K.gradients(class_output, last_conv.output)[0]
    pooled_grads = K.mean(grads, axis=(0, 1, 2))
    iterate = K.function([model.input], [pooled_grads, last_conv.output[0]])
    pooled_value, conv_value = iterate([x])
    # By hand: score_c = softmax(mean_hw(conv) @ W + b)_c, so d score_c / d conv[h, w, k] =
    # (sum_j dS_c/dz_j W[k, j]) / (H * W): the same for every position.
    p = model.predict(x)[0]
    w = K.get_value(model.get_layer("predictions").kernel)
    dz = p[class_index] * ((np.arange(3) == class_index) - p)
    np.testing.assert_allclose(pooled_value, w @ dz / 64.0, rtol=1e-4, atol=1e-8)
    heatmap = np.maximum(np.mean(conv_value * pooled_value, axis=-1), 0)
    heatmap /= max(heatmap.max(), 1e-12)
    assert heatmap.shape == (8, 8) and heatmap.max() <= 1.0


def test_style_transfer_step_with_scipy_lbfgs():
    optimize = pytest.importorskip("scipy.optimize")
    rows = cols = 6
    content = np.random.random((1, rows, cols, 3)).astype("float32")
    style = np.random.random((1, rows, cols, 3)).astype("float32")
    combination_image = K.placeholder((1, rows, cols, 3))

    def gram_matrix(x):
        features = K.batch_flatten(K.permute_dimensions(x, (2, 0, 1)))
        return K.dot(features, K.transpose(features))

    def style_loss(s, c):
        return K.sum(K.square(gram_matrix(s) - gram_matrix(c))) / (4.0 * 9 * (rows * cols) ** 2)

    def total_variation_loss(x):
        a = K.square(x[:, : rows - 1, : cols - 1, :] - x[:, 1:, : cols - 1, :])
        b = K.square(x[:, : rows - 1, : cols - 1, :] - x[:, : rows - 1, 1:, :])
        return K.sum(K.pow(a + b, 1.25))

    loss = K.sum(K.square(combination_image - K.constant(content)))
    loss += 10.0 * style_loss(K.constant(style[0]), combination_image[0])
    loss += 0.1 * total_variation_loss(combination_image)
    grads = K.gradients(loss, combination_image)
    f_outputs = K.function([combination_image], [loss] + grads)

    class Evaluator:
        def loss(self, x):
            outs = f_outputs([x.reshape((1, rows, cols, 3)).astype("float32")])
            self.grad_values = outs[1].flatten().astype("float64")
            return float(outs[0])

        def grads(self, x):
            return self.grad_values

    evaluator = Evaluator()
    x0 = np.random.uniform(0, 1, (1, rows, cols, 3)).astype("float64")
    start = evaluator.loss(x0.flatten())
    x, min_val, _ = optimize.fmin_l_bfgs_b(evaluator.loss, x0.flatten(), fprime=evaluator.grads, maxfun=20)
    assert min_val < start / 2 and x.shape == (rows * cols * 3,)


def test_vae_with_add_loss_and_compile_without_a_loss():
    original_dim, intermediate_dim, latent_dim, batch_size = 16, 8, 2, 10
    x = Input(shape=(original_dim,))
    h = Dense(intermediate_dim, activation="relu")(x)
    z_mean = Dense(latent_dim)(h)
    z_log_var = Dense(latent_dim)(h)

    def sampling(args):
        z_mean, z_log_var = args
        epsilon = K.random_normal(shape=(K.shape(z_mean)[0], latent_dim), mean=0.0, stddev=1.0)
        return z_mean + K.exp(z_log_var / 2) * epsilon

    z = Lambda(sampling, output_shape=(latent_dim,))([z_mean, z_log_var])
    decoder_h = Dense(intermediate_dim, activation="relu")
    decoder_mean = Dense(original_dim, activation="sigmoid")
    x_decoded_mean = decoder_mean(decoder_h(z))
    vae = Model(x, x_decoded_mean)
    xent_loss = original_dim * keras.metrics.binary_crossentropy(x, x_decoded_mean)
    kl_loss = -0.5 * K.sum(1 + z_log_var - K.square(z_mean) - K.exp(z_log_var), axis=-1)
    vae.add_loss(K.mean(xent_loss + kl_loss))
    with pytest.warns(UserWarning, match="missing from loss dictionary"):
        vae.compile(optimizer="rmsprop")
    x_train = (np.random.random((60, original_dim)) > 0.5).astype("float32")
    history = vae.fit(x_train, shuffle=True, epochs=8, batch_size=batch_size, verbose=0,
                      validation_data=(x_train[:20], None))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(history.history["val_loss"]) == 8
    encoder = Model(x, z_mean)
    assert encoder.predict(x_train, batch_size=batch_size).shape == (60, latent_dim)


class MyDocsLayer(Layer):
    """The custom layer of Keras 2's documentation, imported from keras.engine.topology."""

    def __init__(self, output_dim, **kwargs):
        self.output_dim = output_dim
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[1], self.output_dim),
                                      initializer="uniform", trainable=True)
        super().build(input_shape)

    def call(self, x):
        return K.dot(x, self.kernel)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim)


def test_custom_layer_from_engine_topology_with_string_initializer():
    model = Sequential([MyDocsLayer(2, input_shape=(3,))])
    model.compile(keras.optimizers.SGD(lr=0.1), loss="mse")
    kernel = model.layers[0].kernel
    assert kernel.name == "my_docs_layer_1/kernel:0" and np.abs(K.get_value(kernel)).max() <= 0.05
    x = np.random.randn(32, 3).astype("float32")
    y = x @ np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], dtype="float32")
    history = model.fit(x, y, epochs=20, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] / 2
    np.testing.assert_allclose(model.predict(x), x @ K.get_value(kernel), rtol=1e-5, atol=1e-6)


def test_gan_step_freezes_the_discriminator_inside_the_combined_model():
    latent = 4
    generator = Sequential([Dense(8, input_dim=latent), LeakyReLU(0.2), Dense(6, activation="tanh")])
    discriminator = Sequential([Dense(8, input_dim=6), LeakyReLU(0.2), Dense(1, activation="sigmoid")])
    discriminator.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    discriminator.trainable = False
    gan_input = Input(shape=(latent,))
    gan = Model(gan_input, discriminator(generator(gan_input)))
    gan.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    assert len(gan.trainable_weights) == len(generator.trainable_weights)

    real = np.random.randn(16, 6).astype("float32") * 0.1 + 0.5
    noise = np.random.randn(16, latent).astype("float32")
    fake = generator.predict(noise)
    d_before = discriminator.get_weights()
    with pytest.warns(UserWarning, match="Discrepancy between trainable weights"):
        d_loss = discriminator.train_on_batch(np.concatenate([real, fake]),
                                              np.concatenate([np.ones((16, 1)), np.zeros((16, 1))]))
    d_after = discriminator.get_weights()
    assert np.isfinite(d_loss) and any(not np.array_equal(a, b) for a, b in zip(d_before, d_after))
    g_before = generator.get_weights()
    g_loss = gan.train_on_batch(noise, np.ones((16, 1)))
    assert np.isfinite(g_loss)
    for a, b in zip(d_after, discriminator.get_weights()):
        np.testing.assert_array_equal(a, b)  # frozen inside the combined model
    assert any(not np.array_equal(a, b) for a, b in zip(g_before, generator.get_weights()))


def test_mlp_on_to_categorical_labels_reads_history_acc():
    x = np.random.randn(200, 4).astype("float32")
    labels = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
    y = to_categorical(labels, num_classes=3)
    model = Sequential()
    model.add(Dense(16, activation="relu", input_dim=4))
    model.add(Dense(3, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=20, verbose=0, validation_split=0.2)
    assert history.history["acc"][-1] > history.history["acc"][0]
    assert history.history["acc"] == history.history["accuracy"]
    assert len(history.history["val_acc"]) == 15
    assert model.predict_classes(x[:5]).shape == (5,)


def test_text_classification_with_tokenizer_and_pad_sequences():
    good = ["a great film", "wonderful acting and a great story", "great fun", "a wonderful film"]
    bad = ["a dull film", "terrible acting and a dull story", "boring", "a terrible film"]
    texts, labels = good + bad, np.array([1] * 4 + [0] * 4)
    tokenizer = Tokenizer(num_words=20)
    tokenizer.fit_on_texts(texts)
    data = pad_sequences(tokenizer.texts_to_sequences(texts), maxlen=6)
    assert data.shape == (8, 6)
    model = Sequential([Embedding(20, 4, input_length=6), Flatten(), Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["acc"])
    history = model.fit(data, labels, epochs=30, batch_size=8, verbose=0)
    assert history.history["accuracy"][-1] == 1.0 and history.history["loss"][-1] < history.history["loss"][0]
