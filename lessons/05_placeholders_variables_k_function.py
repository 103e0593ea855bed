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
# # Lesson 05: placeholders, variables and `K.function`
#
# So far we ran graphs with `G.Plan`. Keras users meet the same machine under another
# name: `K.function`, from `from minikeras import backend as K` (Keras 2's backend API).
# "What is the purpose of `keras.backend.function()`?" is one of the most asked Keras
# questions; this lesson answers it.
#
# A graph gets its values from three kinds of source:
#
# | kind | made by | its value |
# |---|---|---|
# | placeholder | `K.placeholder` | given on every call (the data) |
# | variable | `K.variable` | kept between calls (the weights) |
# | constant | `K.constant`, or a number in an expression | fixed when the graph is built |
#
# `K.function(inputs, outputs)` **compiles** the ops between them once; each call then
# only **runs** that compiled plan.

# %%
import numpy as np

from minikeras import backend as K
from minikeras import graph as G
from minikeras.viz import pictures_folder, plot_graph, show

OUT = pictures_folder(globals().get("__file__"))  # lessons/_pictures, or $MINIKERAS_LESSON_OUT

K.clear_session()
np.random.seed(0)

# %% [markdown]
# ## Placeholders and variables
#
# `K` works in `K.floatx()`, float32, like Keras. A variable has a value from the start;
# a placeholder has none, so asking for a value that needs it is an error that names it.

# %%
x = K.placeholder(shape=(None, 3), name="x")
w = K.variable(np.ones((3, 2)), name="w")
b = K.variable(np.zeros(2), name="b")
h = K.bias_add(K.dot(x, w), b)
y = K.relu(h)
print(x, w, y, sep="\n")
assert (x.dtype, w.dtype, K.floatx()) == ("float32", "float32", "float32")
assert K.get_value(w).sum() == 6.0

try:
    K.eval(y)
except ValueError as e:
    print("ValueError:", e)
    assert "Placeholder x:0" in str(e) and "not fed" in str(e)
else:
    raise AssertionError("y needs x, which has no value")

# %% [markdown]
# ## Compile once
#
# `K.function([x], [y])` prunes the graph to the ops `y` needs, orders them, checks that
# every placeholder they need is an input, and turns them into a flat list of steps. That
# compiled plan is `f.plan`. Variables are not steps: the plan reads their current values
# at the start of each call.

# %%
f = K.function([x], [y])
print(f)
print(f.plan)
print("ops:  ", [op.name for op in f.plan.ops])
print("steps:", [step.op.name for step in f.plan.steps])
assert [op.name for op in f.plan.ops] == ["w", "MatMul", "b", "BiasAdd", "Relu"]
assert [step.op.name for step in f.plan.steps] == ["MatMul", "BiasAdd", "Relu"]

show(plot_graph(f, to_file=str(OUT / "05_function.svg")))

# %% [markdown]
# What a call *means* fits in a few lines: `f.plan.execute` (in `minikeras/graph/plan.py`)
# walks the steps in order, calling each op's `forward` on the values of its inputs. That
# reference loop is what a recorded or traced call runs. A plain call runs the same steps
# written out as a small Python function, one line per step: `f.plan.source`. An op that
# is exactly one NumPy function (`BiasAdd` here is `np.add`) is called as that function;
# the others through their `forward`. Two things in it are bookkeeping for speed: `del`
# lets an intermediate array go after its last use, and `out=` hands an array nobody reads
# any more to the next op, which writes its result into it instead of allocating a new one
# (BiasAdd adds the bias into MatMul's result; Relu clips it in place). The fed `x` and the
# variables are never written into. Both ways give the same numbers, to the last bit.

# %%
print(f.plan.source)
assert f.plan.source.count(")  # ") == len(f.plan.steps) == 3
assert [k >= 0 for k in f.plan.compiled.into] == [False, True, True]

# %% [markdown]
# ## Run many
#
# Calling `f` builds nothing and compiles nothing: the graph has exactly as many ops after
# a hundred calls as before, and `f.plan` is the same object. The batch size may change from
# call to call (`None`), and values are cast to the placeholder's dtype, so a nested Python
# list works too.

# %%
graph = G.get_default_graph()
ops_before, plan_before = len(graph.ops), f.plan
for batch in range(1, 101):
    (out,) = f([np.random.rand(batch, 3)])
    assert out.shape == (batch, 2)
assert len(graph.ops) == ops_before and f.plan is plan_before

(out,) = f([[[1.0, 2.0, -4.0]]])  # one row, as a list
print(out, out.dtype)
assert out.dtype == np.float32 and np.array_equal(out, [[0.0, 0.0]])  # relu(1 + 2 - 4) = 0

# %% [markdown]
# Because the plan reads variables at each call, **changing a weight needs no recompiling**.
# A constant is different: `K.constant` copies the array into the graph when it is built,
# so changing the NumPy array afterwards changes nothing.

# %%
K.set_value(w, 2 * np.ones((3, 2)))
(out,) = f([np.ones((1, 3))])
assert np.array_equal(out, [[6.0, 6.0]]) and f.plan is plan_before

array = np.ones((3, 2))
frozen = K.function([x], [K.dot(x, K.constant(array))])
array[:] = 100.0
assert np.array_equal(frozen([np.ones((1, 3))])[0], [[3.0, 3.0]])

# %% [markdown]
# ## The classic mistake: lists
#
# `K.function` takes a **list** of inputs and a **list** of outputs, and the function it
# returns takes **one list** of values and returns a **list** of arrays, even for a single
# output. Everyone writes `f(data)` once. minikeras says what to write instead:

# %%
data = np.ones((2, 3))
try:
    f(data)
except TypeError as e:
    print("TypeError:", e)
    assert "f([x]), not f(x)" in str(e)
else:
    raise AssertionError("f takes a list")

try:
    K.function(x, y)
except TypeError as e:
    print("TypeError:", e)
    assert "Wrap it in a list: K.function([x], [y])" in str(e)
else:
    raise AssertionError("K.function takes lists")

result = f([data])
assert isinstance(result, list) and len(result) == 1  # a list of one array: unpack it
(out,) = result
assert out.shape == (2, 2)

# %% [markdown]
# A placeholder that the outputs need but the inputs leave out is caught **when compiling**,
# not at the first call, and the error names it:

# %%
q = K.placeholder(shape=(None, 2), name="q")
try:
    K.function([x], [y + q])
except ValueError as e:
    print("ValueError:", e)
    assert "Placeholder q:0" in str(e) and "is not fed" in str(e)
else:
    raise AssertionError("q is needed but not an input")

# %% [markdown]
# ## Any tensor can be an input
#
# The inputs need not be placeholders. Feeding an inner tensor cuts the graph there: the
# plan starts from the given value, and the ops before it are not run at all. In the
# picture, the bold ops are the plan; the dimmed ones are in the graph but not needed.

# %%
z = K.exp(y)
g = K.function([h], [z])
print(g.plan)
assert [op.name for op in g.plan.ops] == ["Relu", "Exp"]
(out,) = g([np.array([[-1.0, 0.0]])])
assert np.allclose(out, [[1.0, 1.0]])  # exp(relu(-1)) = exp(relu(0)) = 1

show(plot_graph(g, to_file=str(OUT / "05_fed_inside.svg")))
picture = plot_graph(g, to_file=str(OUT / "05_fed_inside.png"))
dimmed = {line.split('"')[1] for line in picture.source.splitlines() if 'fillcolor="#f4f4f4"' in line}
assert dimmed == {"x", "w", "MatMul", "b"}

# %% [markdown]
# ## Watching the plan run
#
# The plan is made once; each call only walks its steps. `explore(f, [batch])` makes one
# call with every value recorded and saves a page that steps through it (open
# `05_function_steps.html` in a browser): at step k it lights up `f.plan.steps[k].op`.
# `add_call` makes a second call of the same plan: the same steps, other values. Click
# `Relu` in each call to see it.

# %%
from minikeras.viz import explore

page = explore(f, [np.array([[1.0, 2.0, 3.0]])])
page.add_call([np.array([[0.0, -1.0, 1.0]])])
page.save(str(OUT / "05_function_steps.html"))
assert [step["op"] for step in page.data()["steps"]] == [step.op.name for step in f.plan.steps]
assert np.allclose(page.outputs[0][0], [[12.0, 12.0]])  # w was set to 2s above
assert np.allclose(page.outputs[1][0], [[0.0, 0.0]])
page  # in a notebook: the page, inline

# %% [markdown]
# ## Exercises
#
# 1. Make `f2 = K.function([x], [y, z])`. How many steps does `f2.plan` have, and why one
#    more than `f`?
# 2. Call `f` with a `(2, 4)` array. Read the error: which two shapes does it name?
# 3. Why can `g` above be called without any value for `x`? What happens if you make
#    `K.function([x, h], [z])` and feed both?
