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
# # Lesson 09: the value before the activation
#
# > "Imagine a fully-connected network whose last two layers are Dense(612,
# > softplus) and Dense(1, sigmoid). The output of the net is 1, but I'd like to know
# > what the input x to the sigmoid was. [...] I computed
# > `x = np.dot(dense_0_out, dense_1_weights) + dense_1_bias` and got -11.7. How can
# > x be a negative number?" (a question, abridged)
#
# A Dense layer with an activation is not one step but three ops: `MatMul`,
# `BiasAdd`, then the activation. `layer.output` is the activation's output, so
# the value *before* it is one op back in the graph. This lesson walks that one
# step, checks the asker's hand computation the right way, and explains the
# negative number.

# %%
import numpy as np

import minikeras as keras
from minikeras import backend as K
from minikeras.datasets import digits
from minikeras.layers import Dense
from minikeras.viz import pictures_folder, plot_graph, show

OUT = pictures_folder(globals().get("__file__"))  # lessons/_pictures, or $MINIKERAS_LESSON_OUT

K.clear_session()
np.random.seed(0)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# %% [markdown]
# ## The asker's network
#
# The same last two layers, on the 8x8 digits, trained to answer one yes/no
# question: *is this digit anything but a 0?* Most digits are not zeros, and the
# network becomes so sure of them that the float32 sigmoid prints exactly `1.0`,
# as in the question.

# %%
(x_train, y_train), (x_test, y_test) = digits.load_data()
x_train = x_train.reshape(-1, 64).astype("float32") / 16
x_test = x_test.reshape(-1, 64).astype("float32") / 16
t_train = (y_train != 0).astype("float32")
t_test = (y_test != 0).astype("float32")

model = keras.Sequential([
    Dense(32, activation="softplus", input_shape=(64,)),
    Dense(612, activation="softplus"),
    Dense(1, activation="sigmoid"),
])
model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
model.fit(x_train, t_train, epochs=30, batch_size=32, verbose=0)
_, accuracy = model.evaluate(x_test, t_test, verbose=0)
print(f"test accuracy {accuracy:.3f}")
assert accuracy > 0.95

# %% [markdown]
# ## The asker's code, as written
#
# One `K.function` per layer output, fed the input and the learning phase (0 =
# test), then the last layer's value recomputed by hand from the layer before it
# and the last layer's weights. We feed one test digit whose output prints as 1.

# %%
first_sure = int(np.flatnonzero(model.predict(x_test)[:, 0] == 1.0)[0])
test_input = x_test[first_sure:first_sure + 1]
outputs = [layer.output for layer in model.layers[-2:]]
functors = [K.function([model.input] + [K.learning_phase()], [out]) for out in outputs]
layer_outs = [func([test_input, 0.0]) for func in functors]
print(layer_outs[-1][0])  # -> [[1.]]

dense_0_out = layer_outs[-2][0]                            # shape (1, 612)
dense_1_weights = model.layers[-1].weights[0].get_value()  # shape (612, 1)
dense_1_bias = model.layers[-1].weights[1].get_value()     # shape (1,)
x = np.dot(dense_0_out, dense_1_weights) + dense_1_bias
print(x)

assert layer_outs[-1][0][0, 0] == 1.0  # exactly 1.0 in float32, as the asker saw
assert dense_0_out.shape == (1, 612) and dense_1_weights.shape == (612, 1)
assert x[0, 0] > 17

# %% [markdown]
# Done this way the hand computation gives a **large positive** number. Note the
# shapes: a layer output is (batch, 612) and the kernel is (612, 1). The asker's
# comments say (612, 1) and (1, 612), both transposed: a sign that their pieces
# were not the ones they thought.

# %% [markdown]
# ## One step back in the graph
#
# The answer in the seed: start from the model's output tensor and step to the
# input of the op that made it. TensorFlow spells it `model.output.op.inputs[0]`,
# Theano `model.output.owner.inputs[0]`; minikeras accepts both.

# %%
print(model.output.op)
logit = model.output.op.inputs[0]
print(logit)

assert model.output.op.type == "Sigmoid"
assert model.output.owner.inputs[0] is logit
assert logit.name == "dense_3/BiasAdd:0"
assert logit.op.type == "BiasAdd" and logit.op.inputs[0].op.type == "MatMul"

func = K.function([model.input] + [K.learning_phase()], [logit, model.output])
z, p = func([x_test, 0.0])

# the graph's BiasAdd equals the hand computation dense_0_out @ W + b ...
hidden = functors[0]([x_test, 0.0])[0]
assert np.allclose(z, hidden @ dense_1_weights + dense_1_bias, rtol=1e-5, atol=1e-4)
# ... and its sigmoid is the model's output
assert np.allclose(sigmoid(z), p, atol=1e-6)
assert np.allclose(p, model.predict(x_test), atol=1e-6)
print(f"logits from {z.min():.1f} to {z.max():.1f}")

# %% [markdown]
# ## So why -11.7?
#
# `x` is the **logit**: the sigmoid's input, any real number. Negative logits are
# normal: they are the samples the network puts below 0.5 (here, the zeros). What
# cannot happen is a logit of -11.7 *with* an output of 1.0:
#
# - sigmoid(-11.7) is 0.0000083, not 1;
# - a float32 sigmoid returns exactly 1.0 only when its input is above about 17.
#
# So the asker's -11.7 was the logit of *something else*: another sample, another
# layer's output, or weights read from another model than the one that produced
# the 1.0. Here is one such mix-up: the hidden values of a zero with the output of
# a non-zero.

# %%
negative = z[:, 0] < 0
assert np.array_equal(negative, p[:, 0] < 0.5)                 # negative logit <=> below 0.5
assert np.mean(negative == (y_test == 0)) > 0.95                 # and here: <=> a zero
assert np.isclose(sigmoid(-11.7), 8.3e-6, rtol=0.01)
s = K.placeholder(shape=(None,), name="s")
float32_sigmoid = K.function([s], [K.sigmoid(s)])
assert float32_sigmoid([[-11.7]])[0][0] < 1e-5
assert float32_sigmoid([[17.0, 17.5]])[0].tolist() == [np.float32(1 - 2**-24), 1.0]
saturated = p[:, 0] == 1.0
print(f"{saturated.sum()} test digits print exactly 1.0; their logits are all >= {z[saturated].min():.1f}")
assert saturated.any() and z[saturated].min() > 16

a_zero = int(np.flatnonzero(y_test == 0)[0])
mixed_up = hidden[a_zero] @ dense_1_weights + dense_1_bias    # the wrong sample's hidden values
print(f"output {p[first_sure, 0]}, 'its' logit from a zero's hidden values: {mixed_up[0]:.1f}")
assert mixed_up[0] < 0 and sigmoid(mixed_up[0]) < 0.01

# %% [markdown]
# The lesson: when you recompute a value by hand, **check it against the graph**
# (`sigmoid(x)` must equal the output), and better, don't recompute: fetch
# `model.output.op.inputs[0]` and the graph gives you the exact tensor.

# %% [markdown]
# ## Picture: the last Dense, op by op, with the values of one call
#
# `f.record_values = True` keeps every value of the next call; `plot_graph(f,
# show_values=True)` writes them on the ops. The earlier layers are collapsed to
# one box each. Read the last layer from top to bottom: `MatMul`, `BiasAdd` (the
# logit, positive and large) and `Sigmoid` (exactly 1).

# %%
one = K.function([model.input], [logit, model.output])
one.record_values = True
z_one, p_one = one([test_input])
assert np.allclose(z_one, x, rtol=1e-5) and p_one[0, 0] == 1.0
kwargs = dict(show_values=True, collapse=["dense_1", "dense_2"])
show(plot_graph(one, to_file=str(OUT / "09_dense_op_chain.svg"), **kwargs))
plot_graph(one, to_file=str(OUT / "09_dense_op_chain.png"), **kwargs)
assert one.last_values[logit].shape == (1, 1)

# %% [markdown]
# ## Exercises
#
# 1. Rebuild the model with `Dense(1)` followed by a separate
#    `Activation("sigmoid")` layer. Which `model.layers[...]` is now the logit, and
#    what is `model.output.op.inputs[0].name`?
# 2. Step back one more op, `logit.op.inputs[0]` (the `MatMul`), and check that it
#    equals `x - dense_1_bias`.
# 3. For a softmax classifier (as in the `python -m minikeras` demo), show that
#    adding the same constant to every logit of a sample does not change the output.
#    Why can a softmax's logits therefore not be read off the outputs?
