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
# # Lesson 06: feeds, updates and the learning phase
#
# A training step does two things at once: it computes outputs (the loss) and it **changes
# variables** (the weights). `K.function` does the second with `updates`. This lesson is
# about *when* those changes happen, and about the one extra input that decides whether
# Dropout drops: the **learning phase**.
#
# The rules, each checked below:
#
# 1. every output and every new value is computed from the values **before** the call;
# 2. then all updates are written **together** (so a swap works);
# 3. if anything fails, **no** variable changes;
# 4. `K.learning_phase()` is an input like any other, and it defaults to 0 (test).

# %%
import numpy as np

from minikeras import backend as K
from minikeras.viz import pictures_folder, plot_graph, show

OUT = pictures_folder(globals().get("__file__"))  # lessons/_pictures, or $MINIKERAS_LESSON_OUT

K.clear_session()
np.random.seed(0)

# %% [markdown]
# ## Outputs see the values from before the update
#
# `K.update_add(step, 1.0)` is an op that, when a call runs it, adds 1 to `step`. The
# output `sum(x) * step` is computed in the same call. Which `step` does it see?

# %%
x = K.placeholder(shape=(None, 3), name="x")
step = K.variable(0.0, name="step")
count = K.function([x], [K.sum(x) * step], updates=[K.update_add(step, 1.0)])

ones = np.ones((2, 3))
(first,) = count([ones])
print("first call:", first, " step is now", K.get_value(step))
assert first == 0.0 and K.get_value(step) == 1.0

count.record_values = True  # keep every value of the next call, for the picture
(second,) = count([ones])
print("second call:", second, " step is now", K.get_value(step))
assert second == 6.0 and K.get_value(step) == 2.0

# %% [markdown]
# The first call returned 0: the output used `step = 0`, and only *afterwards* was `step`
# set to 1. The picture shows the second call with its values: `step` was read as 1, `Mul`
# gave 6, and the purple `AssignAdd` computed the new value 2. The dashed arrow is the write
# back into the variable, which happens after everything else.

# %%
show(plot_graph(count, show_values=True, to_file=str(OUT / "06_update_after_outputs.svg")))
plot_graph(count, show_values=True, to_file=str(OUT / "06_update_after_outputs.png"))
recorded = {t.name: v for t, v in count.last_values.items()}
assert (recorded["step:0"], recorded["Mul:0"], recorded["AssignAdd:0"]) == (1.0, 6.0, 2.0)

# %% [markdown]
# ## Updates are simultaneous: a swap
#
# An update can also be a pair `(variable, new_value)`. Here each variable gets the other's
# value. In Python, `a = b; b = a` would leave both equal to 2. Because every new value is
# computed before any is written, the update really swaps.

# %%
a = K.variable(1.0, name="a")
b = K.variable(2.0, name="b")
swap = K.function([], [], updates=[(a, b), (b, a)])
swap([])
assert (K.get_value(a), K.get_value(b)) == (2.0, 1.0)
swap([])
assert (K.get_value(a), K.get_value(b)) == (1.0, 2.0)
show(plot_graph(swap, to_file=str(OUT / "06_swap.svg")))

# %% [markdown]
# Since only one new value can be written, updating one variable twice in a call is refused
# when compiling. Combine the two into one update instead.

# %%
try:
    K.function([], [], updates=[K.update_add(a, 1.0), (a, a * 2)])
except ValueError as e:
    print("ValueError:", e)
    assert "updated twice in one run" in str(e)
else:
    raise AssertionError("two updates of one variable must be refused")

# %% [markdown]
# ## Update ops are ops
#
# `K.update`, `K.update_add`, `K.update_sub` and `K.moving_average_update` build ops. Like
# any op, building one computes nothing; running it (in a function's `updates`, or with
# `K.eval`) writes the variable. Its output is the new value.

# %%
v = K.variable(1.0, name="v")
set_to_3 = K.update(v, 3.0)
print(set_to_3, "-> v is still", K.get_value(v))
assert set_to_3.op.type == "Assign" and K.get_value(v) == 1.0
assert K.eval(set_to_3) == 3.0 and K.get_value(v) == 3.0

avg = K.variable(0.0, name="avg")
average = K.moving_average_update(avg, 10.0, momentum=0.9)  # avg * 0.9 + 10 * 0.1
for expected in (1.0, 1.9, 2.71):
    assert np.isclose(K.eval(average), expected)

# %% [markdown]
# ## All or nothing
#
# If a call fails half-way, no variable changes. Here `x2` has an unknown width, so a
# `(1, 4)` batch passes the feed check but breaks the matrix product. The update of
# `total` was already computable, but it is not written.

# %%
x2 = K.placeholder(shape=(None, None), name="x2")
w = K.variable(np.ones((3, 2)), name="w")
total = K.variable(0.0, name="total")
f = K.function([x2], [K.dot(x2, w)], updates=[K.update_add(total, K.sum(x2))])
f([np.ones((1, 3))])
assert K.get_value(total) == 3.0
try:
    f([np.ones((1, 4))])
except ValueError as e:
    print("ValueError:", str(e).splitlines()[0][:70], "...")
    assert "raised while computing MatMul" in " ".join(getattr(e, "__notes__", []))
else:
    raise AssertionError("a (1, 4) batch cannot be multiplied by a (3, 2) matrix")
assert K.get_value(total) == 3.0  # unchanged

# %% [markdown]
# ## A variable can be fed, too
#
# A function's inputs may include a variable. Feeding it replaces its value *for that call
# only*; leaving it out uses the stored value. The variable itself is not changed: only an
# update changes a variable.

# %%
probe = K.function([x2, w], [K.dot(x2, w)])
(out,) = probe([np.ones((1, 3)), np.zeros((3, 2))])
assert np.array_equal(out, [[0.0, 0.0]])
(out,) = probe([np.ones((1, 3))])  # w left out: its stored value
assert np.array_equal(out, [[3.0, 3.0]]) and K.get_value(w).sum() == 6.0

# %% [markdown]
# ## The learning phase is an input
#
# Dropout zeroes activations at random while training, and does nothing at test time.
# Keras builds **both** behaviours into the graph and chooses between them with a switch on
# one more input: `K.learning_phase()`, a scalar placeholder called `keras_learning_phase`
# with a default of 0 (test). Feed it like any input.

# %%
phase = K.learning_phase()
print(phase)
assert phase.name == "keras_learning_phase:0" and phase.shape == () and phase.dtype == "bool"

h = K.placeholder(shape=(None, 4), name="h")
dropped = K.in_train_phase(K.dropout(h, 0.5, seed=0), h)
print(dropped)
assert dropped.op.type == "Select"  # a switch: both branches exist in the graph
assert phase in dropped.op.inputs

g = K.function([h, K.learning_phase()], [dropped])
batch = np.ones((2, 4))
test_out = g([batch, 0])[0]
train_out = g([batch, 1])[0]
default_out = g([batch])[0]  # the phase left out: its default, 0
print("test phase:\n", test_out, "\ntrain phase:\n", train_out)
assert np.array_equal(test_out, batch) and np.array_equal(default_out, batch)
assert set(np.unique(train_out)) <= {0.0, 2.0}

show(plot_graph(g, to_file=str(OUT / "06_learning_phase.svg")))

# %% [markdown]
# In training, the kept values are **doubled** (divided by 1 - 0.5). This "inverted dropout"
# keeps the average the same, which is why the test phase can simply do nothing. Each call
# draws a new mask:

# %%
big = g([np.ones((1000, 4)), 1])[0]
print("mean in train phase:", big.mean())
assert abs(big.mean() - 1.0) < 0.05
masks = [g([np.ones((8, 4)), 1])[0] for _ in range(3)]
assert not (np.array_equal(masks[0], masks[1]) and np.array_equal(masks[1], masks[2]))

# %% [markdown]
# **The mistake:** calling a model's function without the phase, and wondering why Dropout
# never drops (or, for "Monte Carlo dropout", why every prediction is the same). Left out,
# the phase is 0. Feed a 1 to get the training behaviour.
#
# ## Fixing the phase while building
#
# `in_train_phase(x, alt, training=1)` with a Python int chooses **now**: it returns `x`
# itself, and no switch is built. `K.set_learning_phase(1)` does that for every layer built
# afterwards in this graph (until `K.clear_session()`).

# %%
assert K.in_train_phase(h, K.exp(h), training=1) is h

K.clear_session()
K.set_learning_phase(1)
h = K.placeholder(shape=(None, 4), name="h")
always_dropped = K.in_train_phase(K.dropout(h, 0.5, seed=0), h)
assert K.learning_phase() == 1
assert always_dropped.op.type == "RealDiv"  # the dropout branch itself: no Select
K.clear_session()
assert K.learning_phase().name == "keras_learning_phase:0"  # a new graph, a new phase

# %% [markdown]
# ## Watching the update land
#
# The counter from the start of the lesson, in a fresh graph, explored for two calls (open
# `06_update_after_outputs.html` in a browser). Step through: `Sum`, then `Mul` (the output),
# then `AssignAdd` computes the new value, and only the **last** step, after the outputs
# were returned, writes it into `step`. Click `step` to see its value before and after each
# call; in the second call it starts where the first one ended.

# %%
from minikeras.viz import explore

x = K.placeholder(shape=(None, 3), name="x")
step = K.variable(0.0, name="step")
count = K.function([x], [K.sum(x) * step], updates=[K.update_add(step, 1.0)])
page = explore(count, [np.ones((2, 3))])
page.add_call([np.ones((2, 3))])
page.save(str(OUT / "06_update_after_outputs.html"))
steps = page.data()["steps"]
assert [s["phase"] for s in steps][-1] == "assign" and steps[-1]["node"] == "step"
assert [out[0] for out in page.outputs] == [0.0, 6.0] and K.get_value(step) == 2.0
page  # in a notebook: the page, inline

# %% [markdown]
# ## Exercises
#
# 1. Write one function that returns `K.sum(x)` and, with `updates`, keeps a running total
#    of everything it has seen. Check it after three calls.
# 2. Use `K.moving_average_update` with `momentum=0.99` to average a noisy input. Why is the
#    first value so far from the mean? (Look up "zero-debiasing".)
# 3. Change the dropout rate to 0.2. What are the nonzero values in the train phase now,
#    and what is their mean over a big batch?
