# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 11: a CNN on the digits and a class activation map
#
# > "What's the purpose of `keras.backend.function()`? [...]
# > `get_output = K.function([model.layers[0].input], [final_conv_layer.output,
# > model.layers[-1].output])`, then `[conv_outputs, predictions] = get_output([img])`.
# > The first argument is the input of the model, the second a list of two outputs:
# > the convolution's and the softmax's." (the question's third answer)
#
# That snippet comes from *class activation mapping* (CAM, Zhou et al. 2016): a
# picture of *where* in the image a CNN found the evidence for a class. It needs
# both outputs from one forward pass, which is exactly what `K.function` with two
# outputs gives. We train a small CNN on the 8x8 digits, then draw its CAMs.

# %%
import struct
import zlib
from pathlib import Path

import numpy as np

import minikeras as keras
from minikeras import backend as K
from minikeras.datasets import digits
from minikeras.layers import Conv2D, Dense, GlobalAveragePooling2D
from minikeras.optimizers import Adam
from minikeras.utils import plot_model
from minikeras.viz import pictures_folder, show

OUT = pictures_folder(globals().get("__file__"))  # lessons/_pictures, or $MINIKERAS_LESSON_OUT

K.clear_session()
np.random.seed(0)

# %% [markdown]
# ## The CNN
#
# Images get a channel axis: (n, 8, 8, 1), channels last, as in Keras. Two 3x3
# convolutions with `padding="same"` keep the 8x8 grid, so the last one gives 32
# feature maps of 8x8. **Global average pooling** then averages each map to one
# number, and a Dense layer turns the 32 averages into 10 class scores.
#
# That architecture is what makes CAM exact: the class score is a weighted sum of
# *averages*, so it is also the average of a weighted sum of maps, an 8x8 map per
# class that we can look at.

# %%
(x_train, y_train), (x_test, y_test) = digits.load_data()
x_train = x_train[..., None].astype("float32") / 16
x_test = x_test[..., None].astype("float32") / 16

model = keras.Sequential([
    Conv2D(16, (3, 3), padding="same", activation="relu", input_shape=(8, 8, 1)),
    Conv2D(32, (3, 3), padding="same", activation="relu", name="last_conv"),
    GlobalAveragePooling2D(),
    Dense(10, activation="softmax", name="classes"),
])
model.summary()
model.compile(Adam(lr=0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=15, batch_size=32, verbose=1)  # a live bar per epoch in Jupyter
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy {accuracy:.3f}")
assert accuracy >= 0.9

show(plot_model(model, to_file=str(OUT / "11_cnn_model.svg"), show_shapes=True))

# %% [markdown]
# ## Two outputs, one pass (the seed's snippet)
#
# `get_output_layer` is the small helper of the CAM code the seed quotes: a layer
# by name. Then one `K.function` fetches the last conv layer's maps and the
# softmax.

# %%
def get_output_layer(model, layer_name):
    layer_dict = {layer.name: layer for layer in model.layers}
    return layer_dict[layer_name]


final_conv_layer = get_output_layer(model, "last_conv")
get_output = K.function([model.layers[0].input],
                        [final_conv_layer.output, model.layers[-1].output])
[conv_outputs, predictions] = get_output([x_test])
print(conv_outputs.shape, predictions.shape)

assert conv_outputs.shape == (len(x_test), 8, 8, 32)
assert np.allclose(predictions, model.predict(x_test), atol=1e-6)

# %% [markdown]
# ## The class activation map
#
# With `W, b` the Dense layer's weights (32 x 10 and 10), the score (logit) of
# class `c` is
#
#     logit[c] = mean over (i, j) of conv[i, j, :] @ W[:, c]  +  b[c]
#
# so `cam_c = conv_outputs[n] @ W[:, c]` is an 8x8 map whose mean, plus the bias,
# *is* the logit. Positive cells pushed the image towards class `c`, negative
# cells away from it. We check the identity against the graph's own logit (the
# softmax's input, lesson 09).

# %%
W, b = model.get_layer("classes").get_weights()
logits = K.function([model.input], [model.output.op.inputs[0]])([x_test])[0]
cams = np.einsum("nijk,kc->ncij", conv_outputs, W)          # (n, 10 classes, 8, 8)
assert cams.shape == (len(x_test), 10, 8, 8)
assert np.allclose(cams.mean(axis=(2, 3)) + b, logits, atol=1e-4)

n = int(np.flatnonzero(y_test == 3)[0])
c = int(predictions[n].argmax())
cam = conv_outputs[n] @ W[:, c]
assert np.allclose(cam, cams[n, c], atol=1e-5)
print(f"test image {n}: a {y_test[n]}, predicted {c} ({predictions[n, c]:.2f})")
print("the image (0..16)         its CAM for class", c, "(rounded)")
for row_img, row_cam in zip((x_test[n, ..., 0] * 16).round().astype(int), cam.round().astype(int)):
    print(" ".join(f"{v:2d}" for v in row_img), "   ", " ".join(f"{v:3d}" for v in row_cam))

# %% [markdown]
# Read the two grids side by side. For this 3, the evidence *for* the class lies
# along the right side, where a 3's strokes run down; the cells in the middle of
# the left half, at the left end of this 3's middle bar, count *against* it. Both are
# facts about this network, checked below; why it learned them is a question
# for exercise 2.

# %%
assert cam[:, 5:].mean() > 0 > cam[2:6, 2:4].mean()

# %% [markdown]
# ## Drawing it
#
# No matplotlib here: an image is an array of RGB bytes, and a PNG is those bytes,
# zlib-compressed, between three small chunks. Twelve lines write one. The CAM
# code upsamples each 8x8 map smoothly (bilinear) to the picture's size; we do the
# same in NumPy, colour positive cells red and negative ones blue, and darken the
# cells where the digit has ink so you can see the strokes underneath.


# %%
def write_png(path, rgb):
    """Write an (h, w, 3) uint8 array as an 8-bit RGB PNG."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[i].tobytes() for i in range(h))  # filter 0 per row

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)           # 8 bits, RGB
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def upsample(a, factor):
    """Bilinear resize of a square map by an integer factor (like cv2.resize)."""
    size = a.shape[0]
    pos = np.clip((np.arange(size * factor) + 0.5) / factor - 0.5, 0, size - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, size - 1)
    t = pos - i0
    rows = a[i0] * (1 - t)[:, None] + a[i1] * t[:, None]
    return rows[:, i0] * (1 - t) + rows[:, i1] * t


def red_white_blue(a, limit):
    t = np.clip(a / limit, -1, 1)[..., None]
    white, red, blue = np.ones(3), np.array([0.8, 0.1, 0.1]), np.array([0.1, 0.3, 0.8])
    return np.where(t > 0, white + t * (red - white), white - t * (blue - white))


S = 12  # screen pixels per image pixel
examples = [int(np.flatnonzero(y_test == d)[0]) for d in range(10)]
rows = [[], [], []]  # the digit, the CAM of the predicted class, the CAM of the runner-up
for i in examples:
    first, second = np.argsort(predictions[i])[::-1][:2]
    ink = np.kron(x_test[i, ..., 0], np.ones((S, S)))[..., None]
    limit = np.abs(cams[i, [first, second]]).max()
    rows[0].append(np.repeat(1 - ink, 3, axis=-1))
    for row, k in ((rows[1], first), (rows[2], second)):
        row.append(red_white_blue(upsample(cams[i, k], S), limit) * (1 - 0.45 * ink))

gap = 4
side = 8 * S
canvas = np.full((3 * side + 4 * gap, 10 * side + 11 * gap, 3), 0.5)
for r, row in enumerate(rows):
    for col, tile in enumerate(row):
        y0, x0 = gap + r * (side + gap), gap + col * (side + gap)
        canvas[y0:y0 + side, x0:x0 + side] = tile
cam_file = OUT / "11_class_activation_maps.png"
write_png(cam_file, (canvas * 255).round().astype(np.uint8))
assert cam_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
show(cam_file)  # top row: the digits; middle: the predicted class's CAM; bottom: the runner-up's

# the predicted class's map carries more evidence (a larger mean) than the runner-up's
for i in examples:
    first, second = np.argsort(predictions[i])[::-1][:2]
    assert cams[i, first].mean() + b[first] > cams[i, second].mean() + b[second]
print("predicted:", predictions[examples].argmax(1), "true:", y_test[examples])

# %% [markdown]
# ## Reading the picture
#
# `11_class_activation_maps.png` has one column per digit 0..9 (the first of each
# in the test set). Top row: the image. Middle: the CAM of the predicted class.
# Bottom: the CAM of the runner-up class, on the same colour scale. The middle
# row has more red: its mean plus its bias is the winning logit.
#
# What **not** to read into it: these maps come from 8x8 images and a receptive
# field of 5x5 pixels after two 3x3 convolutions, so they are coarse and
# speckled; red does not simply mean "ink". A CAM shows where *this network's*
# features voted, not where a human would look.
#
# `11_cnn_model.svg` is `plot_model(model, show_shapes=True)`: note how
# `GlobalAveragePooling2D` turns (None, 8, 8, 32) into (None, 32).

# %%
show(plot_model(model, to_file=str(OUT / "11_cnn_model.png"), show_shapes=True))
assert [layer.output_shape for layer in model.layers[1:3]] == [(None, 8, 8, 32), (None, 32)]

# %% [markdown]
# ## Exercises
#
# 1. Replace `GlobalAveragePooling2D` by `Flatten`. Does the model still train?
#    Why is the CAM identity gone (what would play the role of `W[:, c]`)?
# 2. Find a misclassified test image. Draw the CAMs of its true and its predicted
#    class side by side. Where do they disagree?
# 3. Occlude (set to 0) the 3x3 pixels around the CAM's largest cell and predict
#    again. Does the logit of the class drop more than when you occlude around the
#    smallest cell? Try it on many images before you believe one.
