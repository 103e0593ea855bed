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
# # Lesson 03: tensors and broadcasting in gradients
#
# Lessons 01 and 02 used scalars. Networks use arrays, and one NumPy rule quietly changes
# the gradients: **broadcasting**. In `x + b` with `x` of shape `(batch, 3)` and a bias `b`
# of shape `(3,)`, NumPy repeats `b` for every row. Each element of `b` is then *used*
# `batch` times, so by lesson 02's rule (contributions add up) its gradient is a **sum over
# the batch**. minikeras writes that sum as an op, `SumTo`.
#
# You will learn:
#
# - why a bias's gradient has the bias's shape, and equals a sum over the batch;
# - what `None` in a shape means for a gradient (the batch size is read at run time);
# - how `minikeras.testing.check_gradients` catches a backward that forgets to sum.

# %%
import numpy as np

from minikeras import graph as G
from minikeras.testing import check_gradients
from minikeras.viz import pictures_folder, plot_graph, show

OUT = pictures_folder(globals().get("__file__"))  # lessons/_pictures, or $MINIKERAS_LESSON_OUT

G.reset_default_graph()
np.random.seed(0)

# %% [markdown]
# ## The simplest case: the gradient counts the batch
#
# Take $L = \sum_{i,j} (x_{ij} + b_j)$. Moving $b_j$ by $\epsilon$ moves every row's term by
# $\epsilon$, so $\partial L / \partial b_j$ is the number of rows. The placeholder's shape
# `(None, 3)` leaves the number of rows open until the graph runs.

# %%
x = G.placeholder((None, 3), dtype="float64", name="x")
b = G.variable(np.zeros(3), dtype="float64", name="b")
y = x + b
loss = G.sum(y)
gx, gb = G.gradients(loss, [x, b])

print(y)
print(gb)
assert y.shape == (None, 3)
assert gb.shape == b.shape == (3,)
assert gb.op.type == "SumTo"

plan = G.Plan([gb], feeds=[x])
for batch in (2, 5):
    (value,) = plan.run({x: np.random.rand(batch, 3)})
    print(f"batch of {batch}: dL/db = {value}")
    assert np.array_equal(value, [batch] * 3)

# %% [markdown]
# One plan, two batch sizes, two different answers: the number of rows was read when the
# graph ran, not when it was built.
#
# In the picture, read the red gradient ops from the top: `Sum_grad` spreads the seed 1 back
# to the shape of `Add`, `(None, 3)` (`ExpandDims`, `BroadcastTo`); then `Add_grad/SumTo_1`
# sums it down to `b`'s shape `(3,)`. The arrow from `b` into `SumTo_1` carries only `b`'s
# *shape*: `SumTo(g, b)` means "sum `g` until it is shaped like `b`".

# %%
show(plot_graph([loss, gb], to_file=str(OUT / "03_sum_to.svg")))
plot_graph([loss, gb], to_file=str(OUT / "03_sum_to.png"))
assert [t.name for t in gb.op.inputs] == ["gradients/Sum_grad/BroadcastTo:0", "b:0"]

# %% [markdown]
# ## `None` in a shape
#
# `x`'s gradient needs no summing: it has `x`'s shape. But with `None` in the static shape
# minikeras cannot be *sure* of that while building, so `gx` also ends in a `SumTo`, which
# finds at run time that there is nothing to sum. The static shape of `gx` keeps the `None`.
#
# `None` accepts any number of rows, but not any number of columns: feeding the wrong
# width is refused with both shapes in the message.

# %%
print(gx)
assert gx.op.type == "SumTo" and gx.shape == (None, 3)
(gx_value,) = G.Plan([gx], feeds=[x]).run({x: np.zeros((4, 3))})
assert np.array_equal(gx_value, np.ones((4, 3)))

try:
    plan.run({x: np.zeros((4, 2))})
except ValueError as e:
    print("ValueError:", e)
    assert "shape (4, 2)" in str(e) and "(None, 3)" in str(e)
else:
    raise AssertionError("a (4, 2) array cannot be fed for a (None, 3) placeholder")

# %% [markdown]
# ## A linear layer: where the batch sums hide
#
# With $h = x W + b$ and $L = \frac12 \sum h^2$, the gradient arriving at $h$ is $g = h$, one
# row per example. The two weights collect it differently:
#
# - $\partial L / \partial b = \sum_i g_i$: an explicit sum over the batch (`SumTo`);
# - $\partial L / \partial W = x^\top g$: the sum over the batch is *inside* the matrix product
#   ($x^\top$ is `(3, batch)`, $g$ is `(batch, 2)`), so the result is `(3, 2)`, like $W$.

# %%
w = G.variable(np.random.randn(3, 2), dtype="float64", name="w")
c = G.variable(np.random.randn(2), dtype="float64", name="c")
h = x @ w + c
half_sq = 0.5 * G.sum(G.square(h))
gw, gc = G.gradients(half_sq, [w, c])
assert (gw.shape, gc.shape) == ((3, 2), (2,))
assert gc.op.type == "SumTo"

xs = np.random.randn(4, 3)
gw_value, gc_value = G.Plan([gw, gc], feeds=[x]).run({x: xs})
g = xs @ w.get_value() + c.get_value()  # dL/dh, one row per example
assert np.allclose(gc_value, g.sum(axis=0), rtol=1e-12)
assert np.allclose(gw_value, xs.T @ g, rtol=1e-12)

# %% [markdown]
# The `Dense` layer of later lessons adds its bias with `G.bias_add` instead of `+`. Its
# gradient says the same thing in another way: an ordinary `Sum` over the batch axis.

# %%
(gc_dense,) = G.gradients(0.5 * G.sum(G.square(G.bias_add(x @ w, c))), [c])
print(gc_dense)
assert gc_dense.op.type == "Sum"
assert np.allclose(G.Plan([gc_dense], feeds=[x]).run({x: xs})[0], gc_value, rtol=1e-12)

# %% [markdown]
# ## Broadcasting both ways
#
# A column `p` of shape `(3, 1)` plus a row `q` of shape `(1, 4)` gives a `(3, 4)` table.
# Each `p` is used 4 times (once per column), each `q` 3 times. `SumTo` sums along the axes
# that were stretched and **keeps them as size 1**, so each gradient has its input's shape.

# %%
p = G.placeholder((3, 1), dtype="float64", name="p")
q = G.placeholder((1, 4), dtype="float64", name="q")
table = p + q
gp, gq = G.gradients(G.sum(table), [p, q])
assert table.shape == (3, 4)
gp_value, gq_value = G.Plan([gp, gq], feeds=[p, q]).run({p: np.zeros((3, 1)), q: np.zeros((1, 4))})
print(gp_value.T, gq_value)
assert np.array_equal(gp_value, np.full((3, 1), 4.0))
assert np.array_equal(gq_value, np.full((1, 4), 3.0))

# %% [markdown]
# ## The mistake: forgetting to sum, and how `check_gradients` catches it
#
# Writing an op's backward, the natural first attempt for `x + b` is "the local derivative
# is 1, so both inputs get `gy`". Here is that op. Its `forward` broadcasts, its `backward`
# forgets to undo it:

# %%
class ForgetfulAdd(G.Op):
    """``x + b`` with NumPy broadcasting, and a backward that forgets about it."""

    def forward(self, x, b):
        return x + b

    def backward(self, gy):
        return [gy, gy]


class CarefulAdd(ForgetfulAdd):
    """The same op, with each gradient summed back to its input's shape."""

    def backward(self, gy):
        x, b = self.inputs
        return [G.sum_to(gy, x), G.sum_to(gy, b)]


# %% [markdown]
# `check_gradients(f, arrays)` feeds each array through a float64 placeholder, builds
# `f(*placeholders)` and compares `G.gradients` with central differences, element by
# element. Its error message names the input and says what is wrong:

# %%
xv, bv = np.random.randn(2, 3), np.random.randn(3)
try:
    check_gradients(lambda x, b: ForgetfulAdd.apply(x, b), [xv, bv], names=["x", "b"])
except AssertionError as e:
    print("AssertionError:", e)
    assert "input 1 ('b', shape (3,))" in str(e)
    assert "has shape (2, 3)" in str(e) and "sum_to" in str(e)
else:
    raise AssertionError("the forgetful gradient should fail the check")

result = check_gradients(lambda x, b: CarefulAdd.apply(x, b), [xv, bv], names=["x", "b"])
assert result.symbolic[1].shape == (3,)

# %% [markdown]
# `placeholder_shapes` builds the placeholders with `None` dimensions, so the check also
# exercises the gradients that read the batch size at run time, as a real model's would:

# %%
result = check_gradients(lambda x, b: G.square(x + b), [xv, bv], names=["x", "b"],
                         placeholder_shapes=[(None, 3), (3,)])
# No exception means every element agreed; the result keeps both sides for a look.
assert [s.shape for s in result.symbolic] == [(2, 3), (3,)]
assert np.allclose(result.symbolic[1], result.numeric[1], rtol=1e-4, atol=1e-6)

# %% [markdown]
# ## Exercises
#
# 1. Replace `G.sum` by `G.mean` in the first example. Predict $\partial L / \partial b$ for
#    batches of 2 and 5, then run the plan. (This is one reason losses average over the batch.)
# 2. Add a scalar variable `s` (shape `()`) to `x`. What shape and value does its gradient
#    have for a batch of 4? Which op sums it?
# 3. Write `ForgetfulMul` and `CarefulMul` for `x * b` (remember: $\partial (xb)/\partial b =
#    x$, then sum) and test both with `check_gradients`.
