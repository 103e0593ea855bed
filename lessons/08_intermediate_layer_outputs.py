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
# # Lesson 08: intermediate layer outputs
#
# > "What's the purpose of `keras.backend.function()`?"
# >
# > "keras K.function: getting the output of a given layer" (a question, translated)
#
# Both askers want the same thing: the value that some layer *inside* a model
# computes for an input. Keras gives two ways to get it, and this lesson shows
# they are one idea seen from two sides:
#
# 1. a **sub-model** `Model(inputs=model.input, outputs=layer.output)`, then `predict`;
# 2. a **backend function** `K.function([model.input], [layer.output])`, then call it.
#
# Both end in the same machinery: a sub-model's `predict` runs a compiled function
# from its input to its output, exactly what `K.function` builds. Either way only the
# ops between the input and the tensor you ask for are run.

# %%
import numpy as np

import minikeras as keras
from minikeras import backend as K
from minikeras.datasets import digits
from minikeras.layers import Dense, Dropout
from minikeras.viz import pictures_folder, plot_graph, show

OUT = pictures_folder(globals().get("__file__"))  # lessons/_pictures, or $MINIKERAS_LESSON_OUT

K.clear_session()
np.random.seed(0)

# %% [markdown]
# ## A model worth looking inside
#
# The seed's model — a Dense called `my_layer`, a Dropout, two more Dense — trained
# for a second on the 8x8 digits that ship with minikeras, so the values we pull
# out are the values of a model that has learned something.

# %%
(x_train, y_train), (x_test, y_test) = digits.load_data()
x_train = x_train.reshape(-1, 64).astype("float32") / 16
x_test = x_test.reshape(-1, 64).astype("float32") / 16

model = keras.Sequential([
    Dense(16, activation="relu", input_shape=(64,), name="my_layer"),
    Dropout(0.5, seed=0),  # seeded: the same masks every time the lesson runs
    Dense(12, activation="relu"),
    Dense(10, activation="softmax"),
])
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=20, batch_size=32, verbose=0)
loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test accuracy {accuracy:.3f}")
assert accuracy > 0.8

for i, layer in enumerate(model.layers):
    print(i, f"{layer.name:10}", layer.output)

# %% [markdown]
# `layer.output` is a **symbolic tensor**, not numbers: its name says which op made
# it (`my_layer/Relu:0` is the Relu op inside the `my_layer` scope). To get
# numbers we must run the graph up to it, with an input fed in.

# %%
assert [layer.name for layer in model.layers] == ["my_layer", "dropout_1", "dense_1", "dense_2"]
assert model.get_layer("my_layer").output.name == "my_layer/Relu:0"

# %% [markdown]
# ## Way 1: a sub-model (the first question's first answer)

# %%
data = x_test[:5]
layer_name = "my_layer"
intermediate_layer_model = keras.Model(inputs=model.input,
                                       outputs=model.get_layer(layer_name).output)
intermediate_output = intermediate_layer_model.predict(data)
print(intermediate_output.shape)
print([layer.name for layer in intermediate_layer_model.layers])

# the sub-model does not copy the layer: it *is* the same layer, same weights
assert intermediate_layer_model.get_layer("my_layer") is model.get_layer("my_layer")
assert intermediate_output.shape == (5, 16)

# %% [markdown]
# ## Way 2: `K.function` (the first question's second answer)
#
# `K.function(inputs, outputs)` takes a **list** of input tensors and a **list** of
# output tensors, compiles the ops between them once, and returns a callable.
# The callable also takes a **list** (one value per input) and returns a **list**
# (one array per output).

# %%
get_my_layer = K.function([model.layers[0].input], [model.get_layer("my_layer").output])
via_function = get_my_layer([data])[0]

# the two ways agree exactly, and agree with NumPy on the layer's own weights
W, b = model.get_layer("my_layer").get_weights()
by_hand = np.maximum(data @ W + b, 0)
assert np.array_equal(via_function, intermediate_output)
assert np.allclose(via_function, by_hand, atol=1e-6)
print(np.round(via_function[0], 2))

# %% [markdown]
# ## By name or by index
#
# The second question shows both spellings: `model.get_layer('layer_name')` and
# `model.layers[5]` ("layer numbers start at 0"). The seed's `get_3rd_layer_output`
# uses `model.layers[3]`, which is the *fourth* layer. And **the mistake that bites
# later**: a Sequential model's `layers` has no input layer, but a functional
# `Model`'s list starts with its `InputLayer`, so the same layer has another index.
# Names do not move; prefer them.
#
# `model.get_input_at(0)` is the input tensor of the model's first call,
# the same tensor as `model.input`.

# %%
get_3rd_layer_output = K.function([model.layers[0].input], [model.layers[3].output])
layer_output = get_3rd_layer_output([data])[0]
assert np.allclose(layer_output, model.predict(data), atol=1e-6)  # layers[3] is the last one

assert model.get_input_at(0) is model.input
assert model.layers[2] is model.get_layer("dense_1")

functional = keras.Model(model.input, model.output)
print([layer.name for layer in functional.layers])
assert functional.layers[0].name == "my_layer_input"            # the InputLayer comes first
assert functional.layers[3] is model.layers[2]                   # so indices shift by one
assert functional.get_layer("dense_1") is model.get_layer("dense_1")  # names do not

# %% [markdown]
# ## Two outputs in one call
#
# The first question's third answer asks for two tensors at once:
# `K.function([model.layers[0].input], [final_conv_layer.output, model.layers[-1].output])`.
# One call returns both, computed in **one** run of the graph, so the shared ops
# (here `my_layer`) run once, and the two arrays belong to the same forward pass.

# %%
get_both = K.function([model.input], [model.get_layer("my_layer").output, model.output])
hidden, predictions = get_both([data])
get_probabilities = K.function([model.input], [model.output])
shared = set(get_both.plan.ops)
assert shared == set(get_my_layer.plan.ops) | set(get_probabilities.plan.ops)
assert len(get_both.plan.ops) == len(shared)                      # each op once
assert np.array_equal(hidden, via_function)
assert np.allclose(predictions, model.predict(data), atol=1e-6)
print("predicted digits:", predictions.argmax(axis=1), "true:", y_test[:5])

# %% [markdown]
# ## Dropout and the learning phase
#
# Our function has no `K.learning_phase()` input, so the phase takes its default,
# 0 (test): Dropout passes its input through unchanged. Feed the phase as one more
# input to see training behaviour: about half the units zeroed, the rest doubled.

# %%
dropout_out = model.layers[1].output
get_dropout = K.function([model.input, K.learning_phase()], [dropout_out])
test_phase = get_dropout([data, 0])[0]
train_phase = get_dropout([data, 1])[0]
assert np.array_equal(test_phase, via_function)
kept = train_phase != 0
active = via_function != 0
assert np.allclose(train_phase[kept], 2 * via_function[kept], atol=1e-6)
dropped = np.mean(~kept[active])
print(f"training phase: {dropped:.0%} of the active units dropped")
assert 0.2 < dropped < 0.8

# %% [markdown]
# ## The mistake everybody makes once: `f(x)` instead of `f([x])`
#
# The second question reports `TypeError: inputs to a TensorFlow backend function should be a
# list or tuple` and the fix `layer_1([image_arr])[0]`. minikeras raises the same
# TypeError and says the fix in the message.

# %%
try:
    get_my_layer(data)
except TypeError as e:
    message = str(e)
    print("TypeError:", message)
assert "f([x]), not f(x)" in message

# Building it without lists is refused too, before anything runs:
try:
    K.function(model.input, model.get_layer("my_layer").output)
except TypeError as e:
    print("TypeError:", e)
    assert "should be a list or tuple" in str(e)

# %% [markdown]
# ## Picture: what a `K.function` runs
#
# `plot_graph(f)` draws the ops of a function: bold ones are run by its plan,
# dimmed ones exist in the graph but are not run. `get_my_layer` is small: the
# input placeholder, the kernel and bias variables, `MatMul`, `BiasAdd`, `Relu`,
# and nothing of the layers after it.
#
# Any tensor can be fed, not only placeholders. A function fed with `my_layer`'s
# output runs only the head of the network: everything inside `my_layer` is
# dimmed, and the 16 numbers we feed replace it.

# %%
show(plot_graph(get_my_layer, to_file=str(OUT / "08_function_to_my_layer.svg")))
ran = {op.name for op in get_my_layer.plan.ops}
assert "my_layer/Relu" in ran and not any(n.startswith("dense_") for n in ran)

head = K.function([model.get_layer("my_layer").output], [model.output])
assert np.allclose(head([via_function])[0], predictions, atol=1e-6)
head_ops = {op.name for op in head.plan.ops}
assert "my_layer/MatMul" not in head_ops and "dense_2/Softmax" in head_ops
show(plot_graph(head, collapse=["dropout_1"], to_file=str(OUT / "08_function_fed_in_the_middle.svg")))
plot_graph(head, collapse=["dropout_1"], to_file=str(OUT / "08_function_fed_in_the_middle.png"))
print("pictures in", OUT)

# %% [markdown]
# ## What to remember
#
# - A sub-model and `K.function` compute the same thing; a sub-model is handier
#   (`predict` batches for you), `K.function` is more flexible (several outputs,
#   the learning phase, tensors that are not layer outputs, updates: lesson 10).
# - Lists in, list out: `K.function([x], [y])` and `f([value])[0]`.
# - Prefer layer names to indices.
#
# ## Exercises
#
# 1. Build one `K.function` that returns the outputs of *all four* layers for
#    `x_test[:3]`. Check the last one against `model.predict`.
# 2. Feed `K.function([model.layers[2].input], [model.output])` with zeros. Which
#    ops does `plot_graph` dim? Why is `dropout_1` among them?
# 3. Call `get_my_layer(list(data))`. Which error do you get, and why is it not
#    the TypeError of this lesson?
