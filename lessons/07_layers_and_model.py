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
# # Lesson 07: layers and `Model(inputs, outputs)`
#
# In Keras's functional API you call layers on tensors and then write
# `Model(inputs, outputs)`. Nobody hands the model a list of layers, yet `model.layers`
# lists them all, in an order where each layer comes after the layers it needs. How?
#
# Two facts, both checked below:
#
# 1. **calling a layer stamps its output**: the tensor remembers which layer made it, at
#    which call (`_keras_history`), and the layer remembers the call (a `Node`);
# 2. **the model walks back** from the outputs along those stamps to the inputs, and orders
#    the layers it meets by **depth**.
#
# Underneath it is all lesson 01's graph: a `Dense` is three ops in a name scope.

# %%
import numpy as np

import minikeras as keras
from minikeras import backend as K
from minikeras import graph as G
from minikeras import layers
from minikeras.utils import plot_model
from minikeras.viz import pictures_folder, plot_graph, show

OUT = pictures_folder(globals().get("__file__"))  # lessons/_pictures, or $MINIKERAS_LESSON_OUT

K.clear_session()  # layer names count from 1 again: dense_1, dense_2, ...
np.random.seed(0)

# %% [markdown]
# ## A layer has no weights until it is called
#
# `Dense(8)` does not know how many inputs it will get, so it cannot make its kernel yet.
# The first call tells it the input's shape: then it builds its weights, and runs its ops
# under its own name scope.

# %%
inputs = keras.Input(shape=(4,))
dense = layers.Dense(8, activation="relu")
assert dense.name == "dense_1" and not dense.built and dense.weights == []

h = dense(inputs)
print(h)
print([w.name for w in dense.weights])
assert dense.built
assert [w.name for w in dense.weights] == ["dense_1/kernel:0", "dense_1/bias:0"]
assert h.name == "dense_1/Relu:0" and h.shape == (None, 8)
assert [h.op.type, h.op.inputs[0].op.type] == ["Relu", "BiasAdd"]  # the value before the activation

# %% [markdown]
# ## Calling a layer stamps its output
#
# Every tensor a layer returns carries `_keras_history = (layer, node_index, tensor_index)`:
# made by this layer, at its call number `node_index`, as its output number `tensor_index`.
# The call itself is recorded as a `Node` in `layer.inbound_nodes`; the node knows the
# tensors that went in and which layers made them.

# %%
layer, node_index, tensor_index = h._keras_history
print(layer, node_index, tensor_index)
assert layer is dense and (node_index, tensor_index) == (0, 0)

node = dense.inbound_nodes[node_index]
print(node)
assert node.input_tensors == [inputs] and node.output_tensors == [h]
assert [src.name for src in node.inbound_layers] == ["input_1"]
assert inputs._keras_history[0].name == "input_1"  # an Input is stamped too

# %% [markdown]
# Let's finish a small model with a **skip connection**: `h` goes through two more Dense
# layers and is also concatenated directly with their result.

# %%
a = layers.Dense(3)(h)
b = layers.Dense(3, activation="tanh")(a)
merged = layers.Concatenate()([h, b])
outputs = layers.Dense(2, activation="softmax")(merged)
model = keras.Model(inputs, outputs)

names = [layer.name for layer in model.layers]
print(names)
assert names == ["input_1", "dense_1", "dense_2", "dense_3", "concatenate_1", "dense_4"]

show(plot_model(model, show_shapes=True, to_file=str(OUT / "07_model.svg")))
plot_model(model, show_shapes=True, to_file=str(OUT / "07_model.png"))

# %% [markdown]
# ## The walk back, by hand
#
# Start at the output, read its stamp, go to that layer's node, and from the node to the
# tensors that went in, until you reach a layer whose node has no inbound layers (an Input).
# On the way, give each layer a **depth**: its distance from the output. A layer reached by
# several paths keeps the **longest** one.
#
# (Following every path is fine for a small model; lesson 02 showed why a real
# implementation visits each node only once.)

# %%
def walk_back(tensor, depth=0, depths=None, keep=max):
    """{layer name: depth}, following ``_keras_history`` from ``tensor`` back to the Inputs."""
    depths = {} if depths is None else depths
    layer, node_index, _ = tensor._keras_history
    name = layer.name
    depths[name] = keep(depth, depths[name]) if name in depths else depth
    node = layer.inbound_nodes[node_index]
    if node.inbound_layers:  # an Input's node has none: the walk stops there
        for x in node.input_tensors:
            walk_back(x, depth + 1, depths, keep)
    return depths


depths = walk_back(outputs)
print(depths)
assert depths == {"dense_4": 0, "concatenate_1": 1, "dense_3": 2, "dense_2": 3, "dense_1": 4, "input_1": 5}
assert {d: [lay.name for lay in ls] for d, ls in model._layers_by_depth.items()} == {
    d: [n] for n, d in depths.items()}

by_depth = sorted(depths, key=depths.get, reverse=True)
assert by_depth == names  # deepest first: exactly model.layers

# %% [markdown]
# **Why the longest path?** `dense_1` is one step from `concatenate_1` directly, but four steps
# from the output through `dense_2` and `dense_3`. Ordered by the *shortest* distance,
# `dense_1` would land after `dense_2`, which needs its output: the order could not be run.

# %%
shortest = walk_back(outputs, keep=min)
wrong_order = sorted(shortest, key=shortest.get, reverse=True)
print("by shortest distance:", wrong_order)
assert shortest["dense_1"] == 2
assert wrong_order.index("dense_2") < wrong_order.index("dense_1")  # dense_2 before its input

# %% [markdown]
# ## When the walk cannot reach the inputs
#
# The walk also checks that everything the outputs need can be computed from the given
# inputs. Give the model an `Input` that the outputs were not built from, and it says so:

# %%
stranger = keras.Input(shape=(4,), name="stranger")
try:
    keras.Model(stranger, outputs)
except ValueError as e:
    print("ValueError:", e)
    assert str(e).startswith("Graph disconnected") and "input_1" in str(e)
else:
    raise AssertionError("outputs built from input_1 cannot be computed from another Input")

# %% [markdown]
# ## Layers and ops
#
# `plot_model` draws layers; `plot_graph` draws the ops underneath. Here `dense_1` is drawn
# open (its variables `kernel` and `bias`, and `MatMul`, `BiasAdd`, `Relu` in its name scope)
# and the other layers collapsed into one box each.

# %%
later = ["dense_2", "dense_3", "concatenate_1", "dense_4"]
picture = show(plot_graph(model, collapse=later, to_file=str(OUT / "07_layer_ops.svg")))
dense_1_ops = [op.name for op in G.topo_sort(model.outputs) if op.name.startswith("dense_1/")]
print(dense_1_ops)
assert dense_1_ops == ["dense_1/kernel", "dense_1/MatMul", "dense_1/bias", "dense_1/BiasAdd", "dense_1/Relu"]
assert '"dense_1/BiasAdd"' in picture.source and '"dense_2" [' in picture.source  # open / collapsed

# %% [markdown]
# ## Shared layers: one layer, two nodes
#
# Calling the *same* layer twice shares its weights (a "siamese" model). Each call adds a
# node, and each output gets its own stamp and its own op scope (`shared`, then `shared_1`).
#
# **The mistake:** asking the shared layer for its `.output`. It has two, so the question is
# ambiguous and raises; `get_output_at(node_index)` says which call you mean.

# %%
shared = layers.Dense(2, name="shared")
left = keras.Input(shape=(4,), name="left")
right = keras.Input(shape=(4,), name="right")
out_left, out_right = shared(left), shared(right)
print(out_left, out_right, sep="\n")
assert len(shared.inbound_nodes) == 2
assert out_right._keras_history[1] == 1  # made at the layer's second call
assert (out_left.name, out_right.name) == ("shared/BiasAdd:0", "shared_1/BiasAdd:0")

try:
    _ = shared.output
except AttributeError as e:
    print("AttributeError:", e)
    assert "multiple inbound nodes" in str(e) and "get_output_at" in str(e)
else:
    raise AssertionError("a layer called twice has no single output")
assert shared.get_output_at(0) is out_left and shared.get_output_at(1) is out_right

siamese = keras.Model([left, right], layers.Subtract()([out_left, out_right]))
assert [layer.name for layer in siamese.layers] == ["left", "right", "shared", "subtract_1"]
assert [w.name for w in siamese.weights] == ["shared/kernel:0", "shared/bias:0"]  # once, not twice

data = np.random.rand(3, 4)
(same,) = K.function(siamese.inputs, siamese.outputs)([data, data])
assert np.allclose(same, 0.0)  # the same weights on both sides
show(plot_model(siamese, show_shapes=True, to_file=str(OUT / "07_shared_layer.svg")))

# %% [markdown]
# In the picture, `shared` is one box with two inputs: one layer, two nodes.
#
# ## Exercises
#
# 1. Add a second output to the first model, `layers.Dense(1)(h)`, and make
#    `keras.Model(inputs, [outputs, extra])`. Predict the depths and `model.layers`, then check.
# 2. Run `walk_back` on the siamese model's output. Which layer is met twice, and with which
#    node indices?
# 3. Build `keras.Model(inputs, h)` from the first model's tensors. Which layers does it
#    have, and do they share weights with `model`? (Check `K.get_value` after `set_weights`.)
