"""Three Keras 2 programs the convolution family makes possible train, and their loss falls:
a denoising convolutional autoencoder, a small U-Net and a text CNN."""

from __future__ import annotations

import numpy as np

from minikeras import layers
from minikeras.models import Model, Sequential
from minikeras.optimizers import Adam

SEED = 3


def bars(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Images of one bright horizontal or vertical bar each, ``(n, size, size, 1)`` in [0, 1]."""
    images = np.zeros((n, size, size, 1), dtype="float32")
    for image, where, vertical in zip(images, rng.integers(1, size - 1, n), rng.integers(0, 2, n)):
        if vertical:
            image[:, where - 1 : where + 1] = 1.0
        else:
            image[where - 1 : where + 1, :] = 1.0
    return images


def test_denoising_conv_autoencoder_learns_to_remove_noise() -> None:
    rng = np.random.default_rng(0)
    clean = bars(256, 8, rng)
    noisy = np.clip(clean + rng.normal(0, 0.3, clean.shape), 0, 1).astype("float32")
    x = layers.Input((8, 8, 1))
    h = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x)  # 4x4
    h = layers.Conv2D(8, 3, padding="same", activation="relu")(h)
    h = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="relu")(h)  # 8x8 again
    y = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(h)
    model = Model(x, y)
    model.compile(Adam(lr=0.01), "binary_crossentropy")
    history = model.fit(noisy, clean, batch_size=32, epochs=12, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.6 * losses[0], losses
    denoised = model.predict(noisy)
    assert np.mean((denoised - clean) ** 2) < np.mean((noisy - clean) ** 2)


def test_small_unet_with_upsampling_concatenate_and_cropping_trains() -> None:
    rng = np.random.default_rng(1)
    images = bars(192, 16, rng) + rng.normal(0, 0.2, (192, 16, 16, 1)).astype("float32")
    masks = (images > 0.5).astype("float32")[:, 3:13, 3:13]  # the centre 10x10
    x = layers.Input((16, 16, 1))
    down = layers.Conv2D(4, 3, activation="relu")(x)  # 14x14
    bottom = layers.Conv2D(8, 3, activation="relu")(layers.MaxPooling2D()(down))  # 7x7 -> 5x5
    up = layers.UpSampling2D()(bottom)  # 10x10
    skip = layers.Cropping2D(2)(down)  # 14x14 -> 10x10, to match
    merged = layers.concatenate([skip, up])
    y = layers.Conv2D(1, 1, activation="sigmoid")(layers.Conv2D(8, 3, padding="same", activation="relu")(merged))
    model = Model(x, y)
    assert model.output_shape == (None, 10, 10, 1)
    model.compile(Adam(lr=0.01), "binary_crossentropy", metrics=["acc"])
    history = model.fit(images, masks, batch_size=32, epochs=10, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0], losses
    assert history.history["acc"][-1] > 0.9


def test_text_cnn_embedding_conv1d_global_max_pooling_trains() -> None:
    rng = np.random.default_rng(2)
    words = rng.integers(1, 30, (512, 20))
    labels = rng.integers(0, 2, 512)
    for row, label in zip(words, labels):  # positives hold the phrase "7 8" somewhere
        if label:
            at = rng.integers(0, 19)
            row[at : at + 2] = (7, 8)
        else:
            row[:-1][(row[:-1] == 7) & (row[1:] == 8)] = 9
    model = Sequential([layers.Embedding(30, 8, input_length=20), layers.Conv1D(16, 2, activation="relu"),
                        layers.GlobalMaxPooling1D(), layers.Dense(1, activation="sigmoid")])
    model.compile(Adam(lr=0.01), "binary_crossentropy", metrics=["acc"])
    history = model.fit(words, labels, batch_size=32, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.3 * losses[0], losses
    assert history.history["acc"][-1] > 0.95
