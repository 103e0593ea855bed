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
# # Lesson 04: gradients are graphs
#
# `G.gradients` does not compute numbers: it adds ops to the graph (lessons 01 and 02). Its
# result is an ordinary tensor, so nothing stops us from calling `G.gradients` **on a
# gradient**. That gives second derivatives, third derivatives, and the workhorse of
# second-order methods, the **Hessian-vector product**, without ever writing a derivative
# formula ourselves.
#
# You will learn:
#
# - how to take $\tanh'''$ by differentiating three times, and check it against the closed form;
# - how the second gradient's ops are named after the first gradient's ops they differentiate;
# - how to compute $Hv$ without building $H$, and why `gradients(g, w)` of a vector `g` is
#   *not* the Hessian.

# %%
import numpy as np

from minikeras import graph as G
from minikeras.testing import check_gradients
from minikeras.viz import pictures_folder, plot_graph, show

OUT = pictures_folder(globals().get("__file__"))  # lessons/_pictures, or $MINIKERAS_LESSON_OUT

G.reset_default_graph()
np.random.seed(0)

# %% [markdown]
# ## Three derivatives of tanh
#
# Each call differentiates the previous result. With $T = \tanh t$ and $s = 1 - T^2$, the
# closed forms are
#
# $$\tanh' = s, \qquad \tanh'' = -2Ts, \qquad \tanh''' = -2s\,(1 - 3T^2).$$

# %%
t = G.placeholder((), dtype="float64", name="t")
y = G.tanh(t)
(d1,) = G.gradients(y, [t])
(d2,) = G.gradients(d1, [t])
(d3,) = G.gradients(d2, [t])
print(d1, d2, d3, sep="\n")
assert [d.name.split("/")[0] for d in (d1, d2, d3)] == ["gradients", "gradients_1", "gradients_2"]

plan = G.Plan([d1, d2, d3], feeds=[t])
for point in np.linspace(-3.0, 3.0, 13):
    v1, v2, v3 = plan.run({t: point})
    T = np.tanh(point)
    s = 1 - T**2
    assert np.isclose(v1, s, rtol=1e-12, atol=1e-15)
    assert np.isclose(v2, -2 * T * s, rtol=1e-12, atol=1e-15)
    assert np.isclose(v3, -2 * s * (1 - 3 * T**2), rtol=1e-12, atol=1e-15)
print(f"at t = 3: tanh''' = {v3:.6f}, closed form {-2 * s * (1 - 3 * T**2):.6f}")

# %% [markdown]
# Each order is a bigger graph, because each one differentiates all the ops of the one
# before. Counting the ops each derivative needs (from `t` to the result):

# %%
sizes = [len(G.topo_sort([d])) for d in (y, d1, d2, d3)]
print("ops needed by tanh, tanh', tanh'', tanh''':", sizes)
assert sizes == [2, 7, 13, 25]

# %% [markdown]
# ## Drawing the second derivative
#
# The picture below is everything `d2` needs. Read the **scope names** (`cluster_depth=4`
# shows four levels of them):
#
# - `gradients_1/Tanh_grad` differentiates the forward `Tanh`: it is a copy of the first
#   gradient's recipe, $\cdot (1 - T^2)$;
# - `gradients_1/gradients/Tanh_grad/Square_grad` differentiates the `Square` that the
#   **first** gradient used to compute $T^2$. A gradient of a gradient is named after it.
#
# Notice that the first gradient's own ops (`gradients/Tanh_grad/Square`, ...) are not in
# the picture, only its seed `grad_ys` (the 1 it started from): the derivative of
# $1 \cdot (1 - T^2)$ needs only $T$ and that 1, so the plan for `d2` skips the rest.

# %%
show(plot_graph(d1, to_file=str(OUT / "04_first_derivative.svg")))
show(plot_graph(d2, cluster_depth=4, to_file=str(OUT / "04_second_derivative.svg")))
plot_graph(d2, cluster_depth=4, to_file=str(OUT / "04_second_derivative.png"))

names = [op.name for op in G.topo_sort([d2])]
assert "gradients_1/Tanh_grad/Square" in names
assert "gradients_1/gradients/Tanh_grad/Square_grad/Mul" in names
assert [n for n in names if n.startswith("gradients/")] == ["gradients/grad_ys"]

# %% [markdown]
# A variable that plays no part gets `None`, not a tensor of zeros (as in Keras with
# TensorFlow): `d2` does not depend on `w`, so there is no path to walk.

# %%
w_unused = G.variable(1.0, dtype="float64", name="w_unused")
(nothing,) = G.gradients(d2, [w_unused])
assert nothing is None

# %% [markdown]
# ## The Hessian-vector product
#
# For a scalar $f(w)$ with gradient $g(w) = \nabla f$, the Hessian $H$ is the matrix of
# second derivatives. For a vector $v$ that does not depend on $w$,
#
# $$H v = \nabla_w \left( g(w) \cdot v \right),$$
#
# a gradient of a scalar, so `G.gradients` gives it directly: one more backward pass, and
# $H$ (with $n^2$ entries for $n$ parameters) is never built.
#
# Take $f(w) = \sum \tanh(M w)$ with a fixed $4 \times 3$ matrix $M$ and a column $w$ of shape
# `(3, 1)`. By hand, $H = M^\top \mathrm{diag}(\tanh''(Mw))\, M$.

# %%
M_value = np.random.randn(4, 3)
M = G.constant(M_value, name="M")
w = G.placeholder((3, 1), dtype="float64", name="w")
v = G.placeholder((3, 1), dtype="float64", name="v")
f = G.sum(G.tanh(M @ w))
(g,) = G.gradients(f, [w])
(hv,) = G.gradients(G.sum(g * v), [w])
assert hv.shape == w.shape == (3, 1)

w0 = np.random.randn(3, 1)
z = M_value @ w0
H = M_value.T @ np.diag((-2 * np.tanh(z) * (1 - np.tanh(z) ** 2)).ravel()) @ M_value

hv_plan = G.Plan([hv], feeds=[w, v])
v0 = np.random.randn(3, 1)
(hv0,) = hv_plan.run({w: w0, v: v0})
print("Hv from the graph:", hv0.ravel())
print("H @ v by hand:    ", (H @ v0).ravel())
assert np.allclose(hv0, H @ v0, rtol=1e-12)

# %% [markdown]
# Feeding the unit vectors $e_1, e_2, e_3$ as `v` gives the columns of $H$, one product each.
# The result is symmetric, as a Hessian must be:

# %%
columns = [hv_plan.run({w: w0, v: np.eye(3)[:, [i]]})[0] for i in range(3)]
H_graph = np.hstack(columns)
assert np.allclose(H_graph, H, rtol=1e-12)
assert np.allclose(H_graph, H_graph.T, rtol=1e-12)

# %% [markdown]
# `check_gradients(..., order=2)` tests exactly this: the symbolic $Hv$ against central
# differences of the symbolic gradient, $(g(w + \epsilon v) - g(w - \epsilon v)) / 2\epsilon$:

# %%
check = check_gradients(lambda w: G.sum(G.tanh(M @ w)), [w0], order=2, names=["w"])
assert check.order == 2 and check.symbolic[0].shape == (3, 1)

# %% [markdown]
# ## The mistake: `gradients(g, w)` is not the Hessian
#
# `g` has three entries, so it is tempting to write `G.gradients(g, [w])` and expect the
# $3 \times 3$ matrix. But `G.gradients` always differentiates a **sum**: for a non-scalar
# `ys` it seeds every entry with 1. The result has `w`'s shape, `(3, 1)`, and is
# $\nabla (\sum_i g_i) = H \mathbf{1}$, the row sums of $H$: the Hessian-vector product with
# $v = (1, 1, 1)$.

# %%
(not_h,) = G.gradients(g, [w])
(not_h_value,) = G.Plan([not_h], feeds=[w]).run({w: w0})
print("gradients(g, w):", not_h_value.ravel(), " H @ 1:", H.sum(axis=1))
assert not_h.shape == (3, 1)
assert np.allclose(not_h_value, H @ np.ones((3, 1)), rtol=1e-12)

# %% [markdown]
# ## Watching a gradient of a gradient run
#
# `explore` calls a `K.function` once with every value recorded and saves a page that steps
# through its plan: open `04_second_derivative.html` in any browser (or show `page` in a
# notebook). The forward `Tanh` runs first; then the ops of `gradients` (the first
# derivative) and of `gradients_1`, which differentiate *them*, all lit in red. Click a node
# for its value: `gradients_1/Tanh_grad/...` holds pieces of $\tanh''(0.5)$.

# %%
from minikeras import backend as K
from minikeras.viz import explore

second = K.function([t], [y, d1, d2])
page = explore(second, [0.5])
page.save(str(OUT / "04_second_derivative.html"))
T = np.tanh(0.5)
assert np.allclose(page.outputs[0], [T, 1 - T**2, -2 * T * (1 - T**2)])
phases = [step["phase"] for step in page.data()["steps"]]
assert phases[0] == "forward" and set(phases[1:]) == {"gradient"}
page  # in a notebook: the page, inline

# %% [markdown]
# ## Exercises
#
# 1. Differentiate `G.sigmoid(t)` three times and check against $\sigma' = \sigma(1 - \sigma)$,
#    $\sigma'' = \sigma'(1 - 2\sigma)$. How many ops does the third derivative need?
# 2. Use the `grad_ys` argument (`G.gradients(g, [w], grad_ys=[v])`) to get $Hv$ without
#    building `G.sum(g * v)`. Check it against `hv`.
# 3. Is $H$ positive definite at `w0` (`np.linalg.eigvalsh(H_graph)`)? Try a few random
#    points. What would that mean for a Newton step $w - H^{-1} g$ on this $f$?
