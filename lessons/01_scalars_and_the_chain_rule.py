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
# # Lesson 01: a graph of scalars and the chain rule
#
# Keras 2 on TensorFlow 1 works in two steps: first you **build** a graph, then you **run**
# it. minikeras does the same thing on NumPy. In this lesson we build
#
# $$y = f(x) = \exp(\tanh(3x + 1))$$
#
# out of scalar ops, walk the graph by hand, work out $dy/dx$ with the chain rule, and check
# that `G.gradients` gets the same number.
#
# You will learn:
#
# - a `Tensor` is a recipe, not a number;
# - every tensor knows the op that made it (`t.op`), and every op knows its inputs;
# - the chain rule multiplies one local derivative per op, each taken *at that op's input*.

# %%
import numpy as np

from minikeras import graph as G
from minikeras.viz import pictures_folder, plot_graph, show

OUT = pictures_folder(globals().get("__file__"))  # lessons/_pictures, or $MINIKERAS_LESSON_OUT

G.reset_default_graph()  # a fresh graph: op names start again at Mul, Add, ...
np.random.seed(0)

# %% [markdown]
# ## Building computes nothing
#
# A placeholder is a value we promise to give later. Its shape `()` means "a scalar". We
# use float64 so that our hand computation and the graph agree to the last digits.
#
# Each line below adds ops to the graph and returns the last op's output tensor. Python's
# operators (`*`, `+`) are overloaded: `3.0 * x` makes a `Const` op holding `3.0` and a
# `Mul` op. Nothing is computed: the graph only grows.

# %%
x = G.placeholder((), dtype="float64", name="x")
u = 3.0 * x + 1.0
v = G.tanh(u)
y = G.exp(v)
print(len(G.get_default_graph().ops), "ops in the graph")
assert len(G.get_default_graph().ops) == 7  # x, Const, Mul, Const_1, Add, Tanh, Exp

print(y)
assert repr(y) == "<Tensor 'Exp:0' shape=() dtype=float64>"
assert (u.op.type, v.op.type, y.op.type) == ("Add", "Tanh", "Exp")

# %% [markdown]
# `y` prints as `Exp:0`: the output number 0 of the op called `Exp`. There is no number
# in it yet. The most common mistake is to treat a tensor like a value, for example in an
# `if`. minikeras refuses, and says why:

# %%
try:
    if y > 0:
        print("positive")
except TypeError as e:
    print("TypeError:", e)
    assert "unknown until the graph runs" in str(e)
else:
    raise AssertionError("a tensor has no truth value")

# %% [markdown]
# ## Walking the graph
#
# Every tensor points to the op that made it (`t.op`) and every op lists its input tensors
# (`op.inputs`). Following these links from `y` back to `x` visits the whole graph. Here
# is a small recursive walk that prints it as a tree:

# %%
def walk(t, depth=0, seen=None):
    """Print ``t`` and everything it is made of; return the op types met, in order."""
    seen = [] if seen is None else seen
    print("    " * depth + f"{t.name:10s} made by {t.op.type}")
    seen.append(t.op.type)
    for parent in t.op.inputs:
        walk(parent, depth + 1, seen)
    return seen


types = walk(y)
assert types == ["Exp", "Tanh", "Add", "Mul", "Const", "Placeholder", "Const"]

# %% [markdown]
# The graph is a **chain**: each op has one input that depends on `x` (the `Const` ops
# hold `3.0` and `1.0`). That is the easy case of the chain rule; lesson 02 deals with
# graphs where paths split and meet again.
#
# A program that runs the graph needs the ops in an order where every op comes after the
# ops that make its inputs: a **topological order**. `G.topo_sort` gives one.

# %%
order = [op.name for op in G.topo_sort([y])]
print(order)
assert order == ["Const", "x", "Mul", "Const_1", "Add", "Tanh", "Exp"]

# %% [markdown]
# Let's draw the graph. Yellow is the placeholder (fed at run time), grey notes are
# constants, blue boxes are ops. Each node also shows its shape, `()` for a scalar.

# %%
show(plot_graph(y, to_file=str(OUT / "01_forward.svg")))

# %% [markdown]
# ## Running the graph
#
# `G.Plan(fetches, feeds=[...])` compiles the graph once: it keeps the ops the fetches need,
# in topological order. `run({x: value})` then computes them with NumPy. We fetch the
# intermediate values too, because the chain rule needs them.

# %%
x0 = 0.5
plan = G.Plan([u, v, y], feeds=[x])
u0, v0, y0 = plan.run({x: x0})
print(f"u = {u0}, v = {v0:.6f}, y = {y0:.6f}")
assert u0 == 2.5
assert np.isclose(y0, np.exp(np.tanh(3 * x0 + 1)), rtol=1e-15)

# %% [markdown]
# ## The chain rule, by hand
#
# Each op has a simple **local derivative**: how its output moves when its input moves.
#
# | op | output | local derivative |
# |---|---|---|
# | `Mul`, `Add` | $u = 3x + 1$ | $du/dx = 3$ |
# | `Tanh` | $v = \tanh(u)$ | $dv/du = 1 - \tanh^2(u) = 1 - v^2$ |
# | `Exp` | $y = e^v$ | $dy/dv = e^v = y$ |
#
# The chain rule says the derivative of the whole chain is the product:
#
# $$\frac{dy}{dx} = \frac{dy}{dv} \cdot \frac{dv}{du} \cdot \frac{du}{dx} = y \cdot (1 - v^2) \cdot 3$$
#
# Notice that every factor is taken at *its own* input: $\tanh'$ at $u = 2.5$, not at
# $x = 0.5$. That is why we kept $u$, $v$ and $y$ from the forward run.

# %%
dy_dv = y0
dv_du = 1 - v0**2
du_dx = 3.0
by_hand = dy_dv * dv_du * du_dx
print("dy/dx by hand:", by_hand)

# The usual slip: the local derivative of tanh evaluated at x instead of at u.
slip = dy_dv * (1 - np.tanh(x0) ** 2) * du_dx
print("with tanh' taken at x (wrong):", slip)
assert not np.isclose(slip, by_hand)

# A numerical check: the slope of f between x0 - h and x0 + h.
h = 1e-6
(y_up,) = G.Plan([y], feeds=[x]).run({x: x0 + h})
(y_down,) = G.Plan([y], feeds=[x]).run({x: x0 - h})
assert np.isclose((y_up - y_down) / (2 * h), by_hand, rtol=1e-7)

# %% [markdown]
# ## `G.gradients` does the same, with ops
#
# `G.gradients(y, [x])` returns one tensor per input: $dy/dx$ as **more graph**. Its ops
# live in a name scope called `gradients`, one box per op they differentiate:
# `Exp_grad`, `Tanh_grad`, `Mul_grad`. Running it gives our number.

# %%
(dy_dx,) = G.gradients(y, [x])
print(dy_dx)
assert dy_dx.name == "gradients/Mul_grad/Mul_1:0"

(value,) = G.Plan([dy_dx], feeds=[x]).run({x: x0})
print("dy/dx from G.gradients:", value)
assert np.isclose(value, by_hand, rtol=1e-12)

# %% [markdown]
# Read the red ops in the picture from top to bottom: they are our three factors.
#
# - `Exp_grad/Mul` multiplies the seed `grad_ys` (that is $dy/dy = 1$) by `Exp`'s output, $y$;
# - `Tanh_grad` computes $1 - \tanh^2$ from `Tanh`'s output (`Square`, `Sub`) and multiplies;
# - `Mul_grad/Mul_1` multiplies by the constant 3.
#
# `Add` does not appear: its local derivative is 1, so the gradient passes through
# unchanged. Notice also the arrows from the forward ops `Exp` and `Tanh` into the
# gradient ops: the gradient **reuses** the forward values, exactly as we did by hand.

# %%
show(plot_graph([y, dy_dx], to_file=str(OUT / "01_chain_rule.svg")))
plot_graph([y, dy_dx], to_file=str(OUT / "01_chain_rule.png"))

grad_ops = [op.name for op in G.topo_sort([dy_dx]) if op.name.startswith("gradients/")]
print(grad_ops)
assert grad_ops == ["gradients/grad_ys", "gradients/Exp_grad/Mul", "gradients/Tanh_grad/Const",
                    "gradients/Tanh_grad/Square", "gradients/Tanh_grad/Sub",
                    "gradients/Tanh_grad/Mul", "gradients/Mul_grad/Mul_1"]
ops = {op.name: op for op in G.topo_sort([dy_dx])}
reused = {t.name for name in grad_ops for t in ops[name].inputs if not t.name.startswith("gradients/")}
print("forward values the gradient reads:", sorted(reused))
assert reused == {"Exp:0", "Tanh:0", "Const:0"}  # y, v and the constant 3.0

# %% [markdown]
# Because `dy_dx` is compiled like any other tensor, one plan gives the derivative at many
# points. Here it is against the closed form $3\,e^{\tanh(3x+1)}\,(1 - \tanh^2(3x+1))$:

# %%
grad_plan = G.Plan([dy_dx], feeds=[x])
for point in np.linspace(-1.0, 1.0, 5):
    (g,) = grad_plan.run({x: point})
    t = np.tanh(3 * point + 1)
    assert np.isclose(g, 3 * np.exp(t) * (1 - t**2), rtol=1e-12)
    print(f"x = {point:5.2f}   dy/dx = {g:.6f}")

# %% [markdown]
# ## Exercises
#
# 1. Replace `G.tanh` by `G.sigmoid`. Write the new local derivative ($\sigma' = \sigma(1 -
#    \sigma)$), compute $dy/dx$ by hand at $x = 0.5$ and compare with `G.gradients`.
# 2. At which $x$ is the `Tanh` factor largest? Predict it from the table, then check by
#    printing `dv_du` for a few points around it.
# 3. Build `z = y * x` and run `walk(z)`: `x` now appears twice in the tree. Why is the
#    product of local derivatives along *one* path no longer the answer? (Lesson 02.)
