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
# # Lesson 02: reverse mode by hand
#
# In lesson 01 the graph was a chain, and the chain rule was one product. Real graphs
# branch: a value is used twice, its paths split and meet again. Here we take
#
# $$a = x \cdot x, \qquad y = e^{a} \cdot \tanh(a)$$
#
# where `x` enters one op twice, and `a` feeds two ops whose results meet again in `y`: a
# **diamond**. We compute $dy/dx$ with **reverse mode**, by hand, in NumPy, and then see
# that `G.gradients` does exactly the same walk, only with ops instead of numbers.
#
# The whole algorithm fits in one sentence: *visit the ops from the output back, in reverse
# topological order; each op multiplies the gradient arriving at its output (`gy`) by its
# local derivatives and **adds** the results (`gx`) to its inputs' gradients.*

# %%
import numpy as np

from minikeras import graph as G
from minikeras.viz import pictures_folder, plot_graph, show

OUT = pictures_folder(globals().get("__file__"))  # lessons/_pictures, or $MINIKERAS_LESSON_OUT

G.reset_default_graph()
np.random.seed(0)

# %% [markdown]
# ## The graph, and an order to run it in

# %%
x = G.placeholder((), dtype="float64", name="x")
a = x * x
b = G.exp(a)
c = G.tanh(a)
y = b * c

assert a.op.inputs == [x, x]  # the same tensor, twice
order = G.topo_sort([y])
print([op.name for op in order])
assert [op.name for op in order] == ["x", "Mul", "Exp", "Tanh", "Mul_1"]

picture = show(plot_graph(y, to_file=str(OUT / "02_diamond.svg")))

# %% [markdown]
# `Mul` lists `x` twice in its inputs. (The picture draws one arrow for both; the op's
# `inputs` list is the truth.) `Mul`'s output `a` is read by both `Exp` and `Tanh`: two
# arrows leave it, and the two paths meet again at `Mul_1`.
#
# `topo_sort` puts every op after the ops that make its inputs. Read backwards, it puts
# every op **before** the ops that make its inputs: by the time we reach an op, every op
# that *uses* its output has already been visited. That is the property reverse mode needs.

# %%
assert picture.source.count('"x" -> "Mul";') == 1
uses = {t.name: sum(u is t for op in order for u in op.inputs) for t in (x, a)}
assert uses == {"x:0": 2, "Mul:0": 2}  # each is read twice: two gradients will arrive
assert [t.op.name for t in b.op.inputs + c.op.inputs] == ["Mul", "Mul"]

# %% [markdown]
# ## Forward: keep every value
#
# Local derivatives are taken at the values of the forward run, so we fetch all of them.
# A plan may fetch a tensor it is fed (`x` here).

# %%
x0 = 0.7
tensors = [op.y for op in order]
values = dict(zip(tensors, G.Plan(tensors, feeds=[x]).run({x: x0})))
for t in tensors:
    print(f"{t.name:8s} = {values[t]:.6f}")
assert np.isclose(values[y], np.exp(x0**2) * np.tanh(x0**2), rtol=1e-15)

# %% [markdown]
# ## Backward: one visit per op, and accumulate
#
# `local_grads` is the only part that knows calculus: for one op, `gy` times each local
# derivative. `backward` is the bookkeeping: seed $dy/dy = 1$, visit the ops, and add each
# contribution into a dictionary of gradients. We use the vocabulary of the library:
# `gy` is the gradient arriving at an op's output, `gx` what it sends to an input.

# %%
def local_grads(op, gy, values):
    """What ``op`` sends back to each of its inputs: ``gy`` times a local derivative."""
    ins = [values[t] for t in op.inputs]
    out = values[op.y]
    if op.type == "Mul":
        return [gy * ins[1], gy * ins[0]]  # d(p*q)/dp = q, d(p*q)/dq = p
    if op.type == "Exp":
        return [gy * out]  # d exp(p)/dp = exp(p), the output itself
    if op.type == "Tanh":
        return [gy * (1 - out**2)]
    raise NotImplementedError(op.type)


def backward(y, ops, values, accumulate=True, trace=False):
    """Reverse mode over ``ops`` (visited in the order given). Returns {tensor: dy/dtensor}."""
    grads = {y: 1.0}
    for op in ops:
        if op.y not in grads or not op.inputs:  # nothing arrived, or a placeholder
            continue
        gy = grads[op.y]
        for t, gx in zip(op.inputs, local_grads(op, gy, values)):
            grads[t] = grads.get(t, 0.0) + gx if accumulate else gx
            if trace:
                print(f"{op.name:6s} sends {gx:9.5f} to {t.name:6s}  (total so far {grads[t]:9.5f})")
    return grads


grads = backward(y, list(reversed(order)), values, trace=True)

# %% [markdown]
# Read the trace. `a` (`Mul:0`) receives **two** contributions, one from `Tanh` and one from
# `Exp`, and `x` receives two from `Mul`, one per input slot. Only when all of them have
# arrived does `Mul` run, and reverse topological order guarantees that.
#
# Check against the closed form $\frac{dy}{dx} = 2x\,e^{a}\left(\tanh a + 1 - \tanh^2 a\right)$:

# %%
a0 = x0**2
closed = 2 * x0 * np.exp(a0) * (np.tanh(a0) + 1 - np.tanh(a0) ** 2)
print("dy/dx by hand:", grads[x], " closed form:", closed)
assert np.isclose(grads[x], closed, rtol=1e-12)
assert np.isclose(grads[a], np.exp(a0) * (np.tanh(a0) + 1 - np.tanh(a0) ** 2), rtol=1e-12)

# %% [markdown]
# ## The two mistakes everyone makes once
#
# **Overwriting instead of adding.** `grads[t] = gx` keeps only the last contribution: the
# second path through the diamond, and the second slot of `x * x`, are lost.
#
# **Visiting in the wrong order.** If `Mul` runs before `Tanh` has sent its share to `a`, then
# `Mul` passes on a partial gradient, and the late share never reaches `x`.

# %%
overwritten = backward(y, list(reversed(order)), values, accumulate=False)
print("overwriting:", overwritten[x])
assert not np.isclose(overwritten[x], closed)

by_name = {op.name: op for op in order}
bad_order = [by_name[n] for n in ["Mul_1", "Exp", "Mul", "Tanh", "x"]]
early = backward(y, bad_order, values)
print("Mul visited too early:", early[x])
assert not np.isclose(early[x], closed)
assert np.isclose(early[a], grads[a])  # a did get everything in the end, but too late for x

# %% [markdown]
# A recursive "follow every path" backward would also be right, but slow: it redoes the
# shared part of the graph once per path. Reverse mode visits each op **once**, however
# many paths run through it.
#
# ## `G.gradients` does exactly this, with ops
#
# `G.gradients(y, [a, x])` runs the same loop, but `gy` and `gx` are tensors and each
# multiplication is a new op. Where contributions meet it builds one `AddN` op: that is
# our `grads.get(t, 0.0) + gx`.

# %%
ga, gx = G.gradients(y, [a, x])
print(ga, gx)
assert (ga.op.type, gx.op.type) == ("AddN", "AddN")
assert sorted(t.op.name for t in ga.op.inputs) == ["gradients/Exp_grad/Mul", "gradients/Tanh_grad/Mul"]
assert [t.op.name for t in gx.op.inputs] == ["gradients/Mul_grad/Mul", "gradients/Mul_grad/Mul_1"]

ga0, gx0 = G.Plan([ga, gx], feeds=[x]).run({x: x0})
assert np.isclose(ga0, grads[a], rtol=1e-12) and np.isclose(gx0, grads[x], rtol=1e-12)

# %% [markdown]
# The gradient ops were created in the order of our loop: first the seed `grad_ys` (our
# `{y: 1.0}`), then the scopes `Mul_1_grad`, `Tanh_grad`, `Exp_grad`, `Mul_grad` in reversed
# topological order, and each `AddN` just before the op that consumes its sum.

# %%
created = []
for op in G.get_default_graph().ops:
    if op.name.startswith("gradients/"):
        scope = op.name.split("/")[1]  # "Tanh_grad", or "AddN" for a join
        if scope not in created:
            created.append(scope)
print(created)
assert created == ["grad_ys", "Mul_1_grad", "Tanh_grad", "Exp_grad", "AddN", "Mul_grad", "AddN_1"]
assert [s for s in created if s.endswith("_grad")] == [op.name + "_grad" for op in reversed(order)
                                                       if op.inputs]

# %% [markdown]
# The result **is a graph**: `gx` is an ordinary tensor that can be fetched at any `x`,
# drawn, or differentiated again (lesson 04). In the picture, the red gradient ops sit
# beside the blue forward ops and read their values (`Exp`, `Tanh`, `x`); the two `AddN`
# ops are where the diamond and the `x * x` join.

# %%
show(plot_graph([y, gx], to_file=str(OUT / "02_reverse_mode.svg")))
plot_graph([y, gx], to_file=str(OUT / "02_reverse_mode.png"))
assert isinstance(gx, G.Tensor)

# %% [markdown]
# Calling `G.gradients` again builds a second copy under `gradients_1` and gives the same
# numbers: nothing is stored on the tensors, so there is no `.grad` to forget to reset.

# %%
ga_again, gx_again = G.gradients(y, [a, x])
assert gx_again.name == "gradients_1/AddN_1:0"
assert np.isclose(G.Plan([gx_again], feeds=[x]).run({x: x0})[0], gx0)

# %% [markdown]
# ## Shared sub-expressions are cheap
#
# Square ten times: $y = x^{1024}$. There are $2^{10} = 1024$ paths from `y` back to `x`, but
# each `Mul` is visited once and adds three ops (two products and an `AddN`), plus one seed.

# %%
G.reset_default_graph()
x = G.placeholder((), dtype="float64", name="x")
t = x
for _ in range(10):
    t = t * t
before = len(G.get_default_graph().ops)
(g,) = G.gradients(t, [x])
added = len(G.get_default_graph().ops) - before
print("gradient ops added:", added)
assert added == 3 * 10 + 1
value, slope = G.Plan([t, g], feeds=[x]).run({x: 1.0})
assert (value, slope) == (1.0, 1024.0)

# %% [markdown]
# ## Exercises
#
# 1. Add `"Add"` and `"Sub"` to `local_grads` and check `backward` on
#    $y = e^{a} - \tanh(a) + a$ against `G.gradients`.
# 2. Replace `a = x * x` by `a = G.square(x)`. How many contributions does `x` receive now,
#    and does `G.gradients` still build an `AddN` for `x`?
# 3. Write a recursive backward that follows every path separately and count how many times
#    it calls `local_grads` on the ten-squarings graph. Compare with reverse mode.
