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
# # Lesson 13: saving, loading, and going on in real Keras
#
# > "Load the trained and saved network: `models = load_model('models.hdf5')`.
# > Load the data, process it into an array, pick the output layer, feed the data
# > in and get the output." (a question, translated)
#
# The question starts where training ended: with a model in a file. This lesson
# saves a trained model, opens the file to see what Keras puts in it, loads it in
# a brand-new session, keeps training exactly where it stopped, and, if Keras 3
# is installed, hands the same file to real Keras and takes it back.

# %%
import json
import os
import warnings

import h5py
import numpy as np

import minikeras as keras
from minikeras import backend as K
from minikeras.datasets import digits
from minikeras.layers import BatchNormalization, Dense
from minikeras.models import load_model
from minikeras.optimizers import Adam
from minikeras.utils import plot_model
from minikeras.viz import pictures_folder, show

OUT = pictures_folder(globals().get("__file__"))  # lessons/_pictures, or $MINIKERAS_LESSON_OUT

K.clear_session()
np.random.seed(0)

# %% [markdown]
# ## A trained model
#
# A classifier of the 8x8 digits with a BatchNormalization layer, because it has
# weights that are *not* trained by the optimizer (its moving mean and variance)
# and they must be saved too.

# %%
(x_train, y_train), (x_test, y_test) = digits.load_data()
x_train = x_train.reshape(-1, 64).astype("float32") / 16
x_test = x_test.reshape(-1, 64).astype("float32") / 16

model = keras.Sequential([
    Dense(32, activation="relu", input_shape=(64,)),
    BatchNormalization(),
    Dense(10, activation="softmax"),
])
model.compile(Adam(lr=0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=5, batch_size=32, verbose=0)
_, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy {accuracy:.3f}")
assert accuracy > 0.9

path = OUT / "digits_model.h5"
model.save(str(path))
predicted_at_save = model.predict(x_test)
steps_at_save = int(K.get_value(model.optimizer.iterations))

# %% [markdown]
# ## What is in the file
#
# An `.h5` file is a tree of **groups** (folders) holding **datasets** (arrays),
# and both carry **attributes** (small named values). Keras 2's layout:
#
# - root attributes: `model_config` (the architecture, as JSON),
#   `training_config` (how it was compiled), `keras_version`, `backend`;
# - `model_weights/<layer>/<weight name>`: one dataset per variable;
# - the optimizer's state: its step count and, for Adam, `m` and `v` per weight.

# %%
def readable(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray) and value.dtype.kind == "S":
        return [v.decode() for v in value]
    return value


def print_entry(name, obj):
    indent = "  " * name.count("/")
    if isinstance(obj, h5py.Dataset):
        print(f"{indent}{name.rsplit('/', 1)[-1]}  {obj.dtype} {obj.shape}")
    else:
        attrs = {k: readable(v) for k, v in obj.attrs.items() if k != "weight_names"}
        print(f"{indent}{name.rsplit('/', 1)[-1]}/", attrs if attrs else "")


with h5py.File(path, "r") as f:
    print("root attributes:", sorted(f.attrs))
    print("keras_version", f.attrs["keras_version"], "backend", f.attrs["backend"])
    config = json.loads(f.attrs["model_config"])
    training = json.loads(f.attrs["training_config"])
    layer_classes = [layer["class_name"] for layer in config["config"]["layers"]]
    print("model_config:", config["class_name"], layer_classes)
    print("training_config:", training["optimizer_config"]["class_name"], training["loss"])
    f.visititems(print_entry)

    assert {"model_config", "training_config", "keras_version", "backend"} <= set(f.attrs)
    assert f.attrs["keras_version"] == b"2.2.4"
    assert config["class_name"] == "Sequential"
    bn = f["model_weights/batch_normalization_1/batch_normalization_1"]
    assert sorted(bn) == ["beta:0", "gamma:0", "moving_mean:0", "moving_variance:0"]
    assert f["model_weights/dense_1/dense_1/kernel:0"].shape == (64, 32)
    assert int(f["minikeras_optimizer_weights/Adam/iterations:0"][()]) == steps_at_save

# %% [markdown]
# The optimizer's state sits in `minikeras_optimizer_weights`, laid out like Keras
# 2's `optimizer_weights` but under another name, because Keras 3 refuses to
# train a model loaded from a file that has an `optimizer_weights` group (see
# `docs/saving.md`). The `vhat_*` arrays of shape (1,) are Keras 2's
# placeholders for AMSGrad, unused here.

# %% [markdown]
# ## Forget everything, load, predict
#
# `K.clear_session()` throws away the graph, the layers and the variables. The
# old `model` object still exists in Python, but its tensors belong to the
# discarded graph: building anything new from them, such as a `K.function`, is
# refused (the mistake of keeping a model across `clear_session`). `load_model` rebuilds
# the layers from `model_config`, sets every weight, compiles from
# `training_config`, and puts the optimizer's state back.
#
# We first take one more training step with the original model, to know what
# the *next* step should give.

# %%
xb, yb = x_train[:64], y_train[:64]
reference_loss = model.train_on_batch(xb, yb)[0]
reference_weights = model.get_weights()

K.clear_session()
try:
    K.function([model.input], [model.output])
except ValueError as e:
    message = str(e)
    print("ValueError:", message)
assert "discarded by K.clear_session()" in message

loaded = load_model(str(path))
assert np.array_equal(loaded.predict(x_test), predicted_at_save)
assert type(loaded.optimizer).__name__ == "Adam"
assert int(K.get_value(loaded.optimizer.iterations)) == steps_at_save
print("loaded: same predictions, Adam at step", steps_at_save)

# %% [markdown]
# ## Training goes on exactly
#
# The loaded model's next step uses Adam's restored `m`, `v` and step count, so
# it gives the same loss and the same new weights as the original's next step.
# Compiling the loaded model afresh (a common habit) throws that state away:
# Adam restarts its bias correction and the step is different.

# %%
loss_after_load = loaded.train_on_batch(xb, yb)[0]
assert loss_after_load == reference_loss
for want, got in zip(reference_weights, loaded.get_weights()):
    assert np.array_equal(want, got)

K.clear_session()
recompiled = load_model(str(path))
recompiled.compile(Adam(lr=0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
recompiled.train_on_batch(xb, yb)
gap = max(np.abs(want - got).max() for want, got in zip(reference_weights, recompiled.get_weights()))
print(f"after a fresh compile the step differs by up to {gap:.4f}")
assert gap > 1e-3

# %% [markdown]
# ## The same file in real Keras 3
#
# Keras 3 reads Keras 2's `.h5` layout. If it is installed (minikeras's
# `interop` extra: `keras` on a CPU-only JAX backend), we load our file there,
# compare predictions, train one more epoch *in Keras*, save it with Keras, and
# load that file back into minikeras.
#
# Two things to expect. Numbers agree to float32 rounding, not bit for bit
# (XLA kernels add in another order). And Keras 3 starts from a *fresh*
# optimizer state: it keeps its optimizer's state in another form and does not
# read Keras 2's; in the other direction minikeras warns that it cannot read
# Keras 3's, and goes on with a fresh state too.

# %%
os.environ.setdefault("KERAS_BACKEND", "jax")
try:
    import keras as real_keras
except ImportError as e:
    real_keras = None
    print(f"Skipped the Keras 3 part: `import keras` failed ({e}). "
          "Install the interop extra: pip install -e '.[interop]'.")

if real_keras is not None:
    import logging

    logging.getLogger("absl").setLevel(logging.ERROR)       # Keras's advice to use .keras files
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="keras")
    real_keras.utils.set_random_seed(0)
    print("Keras", real_keras.__version__, "with the", real_keras.backend.backend(), "backend")

    k_model = real_keras.models.load_model(str(path))
    k_predicted = k_model.predict(x_test, verbose=0)
    print(f"largest difference from minikeras: {np.abs(k_predicted - predicted_at_save).max():.1e}")
    assert np.allclose(k_predicted, predicted_at_save, atol=1e-5)
    assert int(k_model.optimizer.iterations.numpy()) == 0      # a fresh optimizer state

    k_model.fit(x_train, y_train, epochs=1, batch_size=32, verbose=0)
    k_path = OUT / "digits_model_from_keras3.h5"
    k_model.save(str(k_path))
    k_after = k_model.predict(x_test, verbose=0)

    K.clear_session()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        back = load_model(str(k_path))
    for w in caught:
        print("minikeras warns:", w.message)
    assert any("optimizer state was not restored" in str(w.message) for w in caught)
    assert np.allclose(back.predict(x_test), k_after, atol=1e-5)
    print("minikeras -> Keras 3 -> minikeras: the predictions survive both trips")

# %% [markdown]
# ## Picture: the saved model
#
# `plot_model` of the loaded model, with shapes: the layers `load_model` rebuilt
# from the file, under the names they had when they were saved. (From a shell,
# `python -m minikeras plot digits_model.h5 -o model.svg` draws a file directly.)

# %%
K.clear_session()
reloaded = load_model(str(path))
assert [layer.name for layer in reloaded.layers] == ["dense_1", "batch_normalization_1", "dense_2"]
show(plot_model(reloaded, to_file=str(OUT / "13_saved_model.svg"), show_shapes=True))
plot_model(reloaded, to_file=str(OUT / "13_saved_model.png"), show_shapes=True)

# %% [markdown]
# ## Exercises
#
# 1. Save with `model.save(path, include_optimizer=False)`. Which group is
#    missing from the file, and what does the loaded model's first
#    `train_on_batch` do differently?
# 2. Use the question's recipe on the loaded model: a `K.function` from
#    `reloaded.get_input_at(0)` to the BatchNormalization layer's output. Check it
#    against NumPy using `gamma`, `beta`, `moving_mean` and `moving_variance` from
#    the file itself (read them with h5py).
# 3. In Keras 3, save the model as `model.keras` instead. What does minikeras's
#    `load_model` say about that file, and why is it right to refuse?
