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
# # Lesson 14: loops in a graph
#
# A static graph has no `for`. Yet a recurrent layer runs the same step over every
# time step of a sequence, as many steps as the data has. There are two ways to put
# that in a graph, and Keras 2 used both:
#
# - **unrolled**: build the step `T` times, as ordinary ops (Theano's and Keras's
#   `unroll=True`). Simple, but the graph grows with `T`, and `T` must be known.
# - **a loop op**: build the step *once*, as the body of one op that runs it at every
#   step (Theano's `scan`, TF1's `while_loop`, minikeras's `Loop`). Its gradient is a
#   loop too: the body's gradient, run backwards through time.

# %%
import os
from pathlib import Path

import numpy as np

from minikeras import Input
from minikeras import backend as K
from minikeras import graph as G
from minikeras.layers import LSTM, Dense, Embedding, SimpleRNN
from minikeras.models import Sequential
from minikeras.optimizers import Adam
from minikeras.preprocessing.sequence import pad_sequences
from minikeras.preprocessing.text import Tokenizer
from minikeras.viz import plot_graph

try:
    HERE = Path(__file__).resolve().parent
except NameError:  # running as a notebook
    HERE = Path.cwd()
OUT = Path(os.environ.get("MINIKERAS_LESSON_OUT", HERE / "_pictures"))
OUT.mkdir(parents=True, exist_ok=True)

K.clear_session()
np.random.seed(0)

# %% [markdown]
# ## The same SimpleRNN, two ways
#
# `h_t = tanh(x_t W + h_{t-1} U + b)` over 4 steps. The two layers share their weights,
# so they must give the same numbers.

# %%
x = Input((4, 3), name="x")
looped = SimpleRNN(2, name="looped")
unrolled = SimpleRNN(2, unroll=True, name="unrolled")
y_loop, y_unrolled = looped(x), unrolled(x)
unrolled.set_weights(looped.get_weights())
xv = np.random.randn(5, 4, 3).astype("float32")
a, b = K.function([x], [y_loop, y_unrolled])([xv])
print("largest difference between the two forms:", np.abs(a - b).max())

ops_loop = [op for op in G.topo_sort([y_loop]) if op.name.startswith("looped/")]
ops_unrolled = [op for op in G.topo_sort([y_unrolled]) if op.name.startswith("unrolled/")]
loop_op = next(op for op in ops_loop if op.type == "Loop")
print(f"loop form: {len(ops_loop)} ops outside, {len(loop_op.body.ops)} in the body, built once")
print(f"unrolled form: {len(ops_unrolled)} ops (the step repeated 4 times)")

plot_graph(y_loop, to_file=str(OUT / "14_loop_op.svg"))
plot_graph(y_unrolled, to_file=str(OUT / "14_unrolled.svg"))

# %% [markdown]
# In the first picture the `Loop` box has its body beside it, in a dashed frame: one
# `MatMul` for the input, one for the state, an add, a `tanh`. The dashed arrow
# "each step" is what the loop stacks. In the second, the same four ops appear four
# times, one column per time step.
#
# ## Backpropagation through time is a loop too
#
# Ask for the gradient of the loss with respect to the weights. The loop op's
# `backward` builds a second `Loop`: its body is the symbolic gradient of the first
# body, and it runs from the last step to the first, carrying the gradient that
# arrives at the state (`lambda`) and summing the weights' gradients. The forward loop
# keeps, at every step, the values that body reads (here the `tanh` output and the state
# entering the step), so no step is computed twice.

# %%
weights = looped.trainable_weights
grads_loop = K.gradients(K.sum(y_loop), weights)
grads_unrolled = K.gradients(K.sum(y_unrolled), unrolled.trainable_weights)
g1 = K.function([x], grads_loop)([xv])
g2 = K.function([x], grads_unrolled)([xv])
print("gradients agree:", all(np.allclose(p, q, atol=1e-6) for p, q in zip(g1, g2)))
loops = [op for op in G.topo_sort(grads_loop) if op.type == "Loop"]
print("loops in the gradient graph:", [(op.name, "backwards" if op.reverse else "forwards") for op in loops])
plot_graph(grads_loop, to_file=str(OUT / "14_bptt.svg"))

# %% [markdown]
# The picture shows both bodies: the forward step, and beside it, in the gradient's
# red, the step of backpropagation through time. Because the gradient is ordinary
# graph, it could be differentiated again (`check_gradients(..., order=2)` does, in
# the tests).
#
# ## An LSTM on padded text, and what masking does
#
# Real sentences have different lengths. `pad_sequences` pads them with id 0, and
# `Embedding(mask_zero=True)` tells the layers after it that 0 is padding: the LSTM
# carries its state over those steps, so a padded sentence gives exactly the result
# of the same sentence alone.

# %%
texts = ["good fun film", "great acting", "good good story", "loved it", "boring plot",
         "bad film", "awful acting and boring story", "hated it"]
labels = np.array([1, 1, 1, 1, 0, 0, 0, 0])
tokenizer = Tokenizer()
tokenizer.fit_on_texts(texts)
sequences = tokenizer.texts_to_sequences(texts)
padded = pad_sequences(sequences, maxlen=6, padding="post")
print(padded[:3])

model = Sequential([Embedding(len(tokenizer.word_index) + 1, 8, mask_zero=True), LSTM(8),
                    Dense(1, activation="sigmoid")])
model.compile(Adam(lr=0.02), "binary_crossentropy", metrics=["acc"])
history = model.fit(padded, labels, epochs=60, batch_size=8, verbose=0)
losses = history.history["loss"]
print(f"loss: first epoch {losses[0]:.3f}, last {losses[-1]:.3f}")

one = np.array([sequences[6]])
print("padded:", model.predict(padded[6:7])[0, 0], " alone:", model.predict(one)[0, 0])

# %% [markdown]
# The two predictions are the same number. Without `mask_zero=True`, the LSTM would
# read the padding as words (id 0's embedding), and the padded sentence would score
# differently from the sentence alone.
