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
# # Lesson 10: training with `get_updates` through `K.function`
#
# > "Use an existing network, pick the layers you care about, and train them with
# > a custom loss:
# > `K.function([model.layers[0].input] + [K.learning_phase()], [model.layers[3].output],
# > updates=optimizer.get_gradients(params=training, loss=loss))`.
# > Note that the loss must depend on the params, otherwise it raises an error."
# > (a question, translated)
#
# `model.fit` is convenient until the loss is not "outputs vs targets": a loss on
# an inner layer, or (lesson 12) a loss that is another network's output. Then you
# build the training step yourself, from two pieces:
#
# - `optimizer.get_updates(loss=..., params=...)` **builds** the ops of one step
#   (gradients, the optimizer's formula, one assign op per variable) and trains
#   nothing;
# - `K.function(inputs, outputs, updates=those_ops)` runs the step on each call.
#
# The seed passes `get_gradients` where `get_updates` belongs; we will see the
# error that gives.

# %%
import numpy as np

import minikeras as keras
from minikeras import backend as K
from minikeras.datasets import digits
from minikeras.layers import Dense, Dropout, Input
from minikeras.optimizers import Adam
from minikeras.viz import pictures_folder, plot_graph, show

OUT = pictures_folder(globals().get("__file__"))  # lessons/_pictures, or $MINIKERAS_LESSON_OUT

K.clear_session()
np.random.seed(0)

# %% [markdown]
# ## A custom loss on an intermediate layer
#
# A model with four layers. We never compile it. Instead we ask the third layer,
# `probe`, to output the one-hot code of the digit (a squared error on an
# *intermediate* output) and train only the layers that feed it: `training` is
# the weights of `my_layer` and `probe`. The last layer, `head`, is left out.

# %%
(x_train, y_train), (x_test, y_test) = digits.load_data()
x_train = x_train.reshape(-1, 64).astype("float32") / 16
x_test = x_test.reshape(-1, 64).astype("float32") / 16
onehot_train = np.eye(10, dtype="float32")[y_train]

model = keras.Sequential([
    Dense(32, activation="relu", input_shape=(64,), name="my_layer"),
    Dropout(0.2, seed=0),  # seeded: the same masks every time the lesson runs
    Dense(10, name="probe"),
    Dense(10, activation="softmax", name="head"),
])
target = K.placeholder(shape=(None, 10), name="target")
loss = K.mean(K.square(model.layers[2].output - target))
training = model.layers[0].trainable_weights + model.layers[2].trainable_weights
print([w.name for w in training])

optimizer = Adam(lr=0.01, clipnorm=1.0)
kernel_before = K.get_value(training[0]).copy()
updates = optimizer.get_updates(params=training, loss=loss)
print(len(updates), "update ops, e.g.", updates[:2])

# building the step changed nothing yet
assert np.array_equal(K.get_value(training[0]), kernel_before)
# Adam: one update for its step count, then m, v and the weight itself per param
assert len(updates) == 1 + 3 * len(training)

train = K.function([model.layers[0].input, target] + [K.learning_phase()],
                   [model.layers[2].output, loss], updates=updates)
print(train)

# %% [markdown]
# Each call of `train` is one step on one batch. Feed learning phase 1, as `fit`
# does, so that Dropout drops.

# %%
head_before = model.get_layer("head").get_weights()
get_probe = K.function([model.input], [model.get_layer("probe").output])
accuracy_before = np.mean(get_probe([x_test])[0].argmax(1) == y_test)

losses = []
rng = np.random.default_rng(0)
for _epoch in range(10):
    order = rng.permutation(len(x_train))
    for start in range(0, len(order), 64):
        batch = order[start:start + 64]
        probe_out, batch_loss = train([x_train[batch], onehot_train[batch], 1])
        losses.append(float(batch_loss))

accuracy_after = np.mean(get_probe([x_test])[0].argmax(1) == y_test)
print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; "
      f"probe accuracy {accuracy_before:.2f} -> {accuracy_after:.2f}")
assert losses[-1] < 0.5 * losses[0]
assert accuracy_after > 0.85
# `head` was not in `training`: not one of its numbers moved
for before, after in zip(head_before, model.get_layer("head").get_weights()):
    assert np.array_equal(before, after)

# %% [markdown]
# ## What a call returns: the outputs *before* the updates
#
# Every output and every new value is computed from the variables as they were
# when the call started; the updates are written last. So the loss a training
# call returns is the loss of the *old* weights. Students who print it and expect
# the loss after the step are off by one step.

# %%
get_loss = K.function([model.input, target], [loss])  # no updates: only looks
xb, tb = x_train[:64], onehot_train[:64]
loss_old = get_loss([xb, tb])[0]
returned = train([xb, tb, 0])[1]
loss_new = get_loss([xb, tb])[0]
print(f"before the call {loss_old:.5f}, returned {returned:.5f}, after the call {loss_new:.5f}")
assert np.isclose(returned, loss_old, rtol=1e-6)
assert loss_new < loss_old

# %% [markdown]
# ## "The loss must depend on the params, otherwise it raises"
#
# Ask for updates of *all* the model's weights with a loss that only reaches
# `probe`: `head`'s kernel and bias get no gradient (`None`), and `get_updates`
# refuses, with Keras's message, naming them.

# %%
try:
    Adam().get_updates(params=model.trainable_weights, loss=loss)
except ValueError as e:
    message = str(e)
    print("ValueError:", message)
assert message.startswith("An operation has `None` for gradient.")
assert "head/kernel:0" in message and "head/bias:0" in message
assert "my_layer/kernel:0" not in message

# %% [markdown]
# ## The seed's slip: gradients are not updates
#
# `optimizer.get_gradients(...)` returns the gradient tensors: values, not
# assignments. Given as `updates`, `K.function` would compute them and change
# nothing, so minikeras refuses, and says what to use instead.

# %%
try:
    K.function([model.layers[0].input] + [K.learning_phase()], [model.layers[3].output],
               updates=optimizer.get_gradients(params=training, loss=loss))
except TypeError as e:
    message = str(e)
    print("TypeError:", message[:200], "...")
assert "gradients are not updates either: optimizer.get_updates" in message

# %% [markdown]
# ## One Adam step, by hand
#
# Keras 2's Adam, with `t` the step number starting at 1 and `g` the (clipped)
# gradient:
#
#     m = beta_1 * m + (1 - beta_1) * g
#     v = beta_2 * v + (1 - beta_2) * g**2
#     lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
#     p = p - lr_t * m / (sqrt(v) + epsilon)
#
# `clipnorm=1.0` first scales *all* gradients together by `1 / max(norm, 1)`,
# with `norm` their global Euclidean norm. We read `m`, `v` and the step count
# from `optimizer.weights`, compute the gradient with `K.gradients`, and compare
# the NumPy step with the graph's step. Learning phase 0, so that no random
# Dropout mask differs between the two. (This late in training the norm is below
# 1, so the clipping leaves the gradients as they are.)


# %%
def adam_numpy(p, g, m, v, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g**2
    lr_t = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    return p - lr_t * m / (np.sqrt(v) + epsilon)


get_grads = K.function([model.input, target], K.gradients(loss, training))
grads = get_grads([xb, tb])
norm = np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads))
grads = [g / max(norm, 1.0) for g in grads]
assert norm < 1.0

state = optimizer.get_weights()          # [iterations, m_0.., v_0.., vhat_0..]
n = len(training)
t = int(state[0]) + 1
params_before = K.batch_get_value(training)
expected = [adam_numpy(p, g, m, v, t, lr=0.01)
            for p, g, m, v in zip(params_before, grads, state[1:1 + n], state[1 + n:1 + 2 * n])]
train([xb, tb, 0])
for name, want, got in zip([w.name for w in training], expected, K.batch_get_value(training)):
    assert np.allclose(got, want, rtol=1e-5, atol=1e-7), name
print(f"step {t}: the graph's Adam matches NumPy for all {n} params (gradient norm {norm:.3f})")

# %% [markdown]
# ## Picture: one training step, with the values of its call
#
# The step of the digits model has hundreds of ops; the picture uses the smallest
# model that still has every part: one weight (`linear/kernel`, called `w` below),
# a squared-error loss, Adam. With
# `f.record_values = True` set before calling, `plot_graph(f, show_values=True)`
# writes each op's value. What to look at:
#
# - the **red** ops (scope `gradients`) are the backward pass, built by
#   `get_updates`: ordinary ops in the same graph;
# - the **purple** assign ops and the dashed *update* arrows write the new values
#   back into the kernel, `m_0`, `v_0` and `iterations`;
# - the variables show their values *before* the step, the assign ops the values
#   after it: Adam's first step moves `w` by almost exactly `lr`, whatever the
#   gradient's size, since `m / sqrt(v)` is then the gradient's sign.

# %%
K.clear_session()
x = Input(shape=(1,), name="x")
tiny = keras.Model(x, Dense(1, use_bias=False, name="linear")(x))
y_true = K.placeholder(shape=(None, 1), name="y_true")
with K.name_scope("loss"):
    tiny_loss = K.mean(K.square(tiny.output - y_true))
tiny_opt = Adam(lr=0.1)
step = K.function([x, y_true], [tiny_loss],
                  updates=tiny_opt.get_updates(loss=tiny_loss, params=tiny.trainable_weights))
step.record_values = True

w = tiny.trainable_weights[0]
w0 = K.get_value(w).copy()
g0 = 2 * (2.0 * w0 - 1.0) * 2.0                      # d/dw (2w - 1)^2
step([np.array([[2.0]]), np.array([[1.0]])])
w1 = K.get_value(w)
assert np.allclose(w1, adam_numpy(w0, g0, 0.0, 0.0, t=1, lr=0.1), atol=1e-6)
assert np.isclose(abs(w1 - w0).item(), 0.1, rtol=1e-4)   # the first step is lr long
kinds = {op.type for op in step.plan.ops}
assert {"Assign", "AssignAdd"} <= kinds
assert any(op.name.startswith("gradients/") for op in step.plan.ops)

show(plot_graph(step, show_values=True, to_file=str(OUT / "10_adam_step_values.svg")))
plot_graph(step, show_values=True, to_file=str(OUT / "10_adam_step_values.png"))
print(f"w: {w0.item():.3f} -> {w1.item():.3f}")

# %% [markdown]
# ## Watching the step run
#
# `explore` runs the same step twice more, every value recorded, and saves a page to step
# through (open `10_adam_step.html` in a browser). The forward ops come first, then the red
# gradient ops; each new value (Adam's `m`, `v`, the kernel's) is computed as soon as its
# gradient is there, but all of them are written into the variables only in the last
# steps, after the loss was returned. Click `linear/kernel`: its value before and after
# each call, `lr` apart.

# %%
from minikeras.viz import explore

page = explore(step, [np.array([[2.0]]), np.array([[1.0]])])
page.add_call([np.array([[2.0]]), np.array([[1.0]])])
page.save(str(OUT / "10_adam_step.html"))
phases = [s["phase"] for s in page.data()["steps"]]
assert phases[-len(step.plan.updates):] == ["assign"] * len(step.plan.updates)
assert "gradient" in phases and page.outputs[1][0] < page.outputs[0][0]  # the loss falls
page  # in a notebook: the page, inline

# %% [markdown]
# ## Exercises
#
# 1. Replace Adam by `SGD(lr=0.1)` in the tiny example and draw the step again.
#    How many ops are left? Write SGD's step in NumPy and check it.
# 2. Train `head` alone (freeze the rest) with the usual cross-entropy through
#    `K.function`. Which layers must you leave out of `params`, and what happens if
#    you forget one?
# 3. Call `train` with learning phase 1 twice on the same batch with the same
#    weights (save and restore them with `get_weights`/`set_weights`). Why do the
#    returned losses differ? (Then check the optimizer's step count: restoring
#    the weights did not restore *it*.)
