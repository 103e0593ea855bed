"""``Op``: one node of the graph, and the base class of every primitive.

A primitive is a small subclass that says three things, side by side:

- ``forward(*arrays)``: the NumPy computation;
- ``infer(*tensors)``: the static ``(shape, dtype)`` of its output (``None`` = unknown dim);
- ``backward(gy)``: the gradients of its inputs, written *with other ops*, so a gradient
  is a graph too (and can be differentiated again).

Its parameters (an ``axis``, an ``alpha``) are class annotations, ``axis: int``: given to
``apply`` as keywords, checked against the declaration, stored on the op. Names follow
DeZero: ``x`` inputs, ``y`` output, ``gy`` the gradient arriving at ``y``, ``gx`` what
``backward`` returns for ``x``. The speed hooks (``kernel``, ``inplace``, ``returns_view``)
are optional; ``docs/adding-an-op.md`` explains them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from .graph import Graph, get_default_graph
from .tensor import Shape, Tensor


class NotDifferentiableError(TypeError):
    """Raised when asking a non-differentiable op for its gradient."""


class Op:
    """A node of the graph: ``type``, ``name``, ``inputs``, ``outputs``, ``attrs``.

    An op is created *and added to the graph* when it is constructed; nothing runs until
    a plan evaluates it. Every op here has exactly one output, ``op.y``.
    """

    type: ClassVar[str] = "Op"
    #: ``False`` for ops whose output does not depend smoothly on the inputs (``ArgMax``).
    differentiable: ClassVar[bool] = True
    #: The op's parameters: its class annotations that are not ``ClassVar`` (set per class).
    params: ClassVar[tuple[str, ...]] = ()
    # Speed hooks (docs/adding-an-op.md): ``forward`` may return an input, a view or a stored
    # array (``True`` by default for op classes defined outside minikeras.graph.ops) ...
    returns_view: ClassVar[bool] = False
    # ... or may write its result into these inputs' arrays, given as ``out=``.
    inplace: ClassVar[tuple[int, ...]] = ()
    #: ``True`` when ``backward(gy, wanted)`` takes which inputs' gradients are asked for.
    backward_takes_wanted: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "type" not in cls.__dict__:
            cls.type = cls.__name__
        if "returns_view" not in cls.__dict__ and not cls.__module__.startswith(__package__ + ".ops"):
            cls.returns_view = True  # not known to return arrays of its own: safe, a little slower
        own = [name for name, note in inspect.get_annotations(cls).items() if "ClassVar" not in str(note)]
        cls.params = tuple(dict.fromkeys([*cls.params, *own]))

    def __init__(self, *inputs: Tensor, name: str | None = None, **params: Any) -> None:
        graph = get_default_graph()
        for x in inputs:
            _check_input(x, graph, type(self).type)
        unknown = [key for key in params if key not in self.params]
        if unknown:
            raise TypeError(f"{self.type} has no parameter {unknown[0]!r}; its parameters are "
                            f"{list(self.params)} (declared as annotations on the class).")
        for key in self.params:
            if key in params:
                setattr(self, key, params[key])
            elif not hasattr(self, key):
                raise TypeError(f"{self.type} needs its parameter {key!r}.")
        self.inputs: list[Tensor] = list(inputs)
        shape, dtype = self.infer(*inputs)
        self.graph: Graph = graph
        self.name: str = graph.scoped(name or self.type)
        self.outputs: list[Tensor] = [self.make_output(tuple(shape), str(dtype))]
        graph.add_op(self)

    @classmethod
    def apply(cls, *inputs: Tensor, name: str | None = None, **params: Any) -> Tensor:
        """Create the op and return its output tensor."""
        return cls(*inputs, name=name, **params).outputs[0]

    @property
    def y(self) -> Tensor:
        """The output tensor (every op here has exactly one)."""
        return self.outputs[0]

    @property
    def attrs(self) -> dict[str, Any]:
        """The parameters and their values, ``{"axis": (1,), "keepdims": False}``."""
        return {key: getattr(self, key) for key in self.params}

    def make_output(self, shape: Shape, dtype: str) -> Tensor:
        return Tensor(self, 0, shape, dtype)

    def infer(self, *xs: Tensor) -> tuple[Shape, str]:
        """Static shape and dtype of the output; by default those of the first input."""
        return xs[0].shape, xs[0].dtype

    def forward(self, *xs: np.ndarray) -> Any:
        raise NotImplementedError(f"{self.type} has no forward")

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        """Gradients of the inputs given ``gy``; ``None`` means "no gradient flows"."""
        raise NotDifferentiableError(
            f"{self.type} ({self.name}) is not differentiable: its output is piecewise "
            "constant or not a real number, so no gradient flows through it."
        )

    def kernel(self) -> Callable[..., Any] | None:
        """Speed hook: a NumPy callable that computes exactly what ``forward`` does, with the
        same arguments (``np.add`` for ``Add``), which a compiled plan calls in its place."""
        return None

    def can_write_into(self, i: int) -> bool:
        """Whether input ``i``'s array can hold the output: listed in ``inplace``, same dtype."""
        return i in self.inplace and self.inputs[i].dtype == self.y.dtype

    def __repr__(self) -> str:
        ins = ", ".join(x.name for x in self.inputs)
        return f"<Op '{self.name}' type={self.type} inputs=[{ins}]>"


def _check_input(x: object, graph: Graph, op_type: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op_type} expects Tensors as inputs, got {type(x).__name__}: {x!r}")
    if x.graph is not graph:
        why = (
            "was discarded by K.clear_session() / reset_default_graph()"
            if not x.graph.alive
            else "is not the current default graph"
        )
        raise ValueError(
            f"Tensor {x.name} belongs to a graph that {why}; it cannot be mixed with "
            f"tensors of the current graph in {op_type}. Rebuild it (re-run the code "
            "that created it) after clearing the session."
        )


def broadcast_shapes(a: Shape, b: Shape, what: str) -> Shape:
    """NumPy broadcasting on static shapes; ``None`` (unknown) broadcasts with anything."""
    n = max(len(a), len(b))
    a2 = (1,) * (n - len(a)) + tuple(a)
    b2 = (1,) * (n - len(b)) + tuple(b)
    out: list[int | None] = []
    for i, (p, q) in enumerate(zip(a2, b2)):
        if p == 1:
            out.append(q)
        elif q == 1 or p == q:
            out.append(p)
        elif p is None:
            out.append(q)
        elif q is None:
            out.append(p)
        else:
            raise ValueError(
                f"{what}: shapes {tuple(a)} and {tuple(b)} cannot be broadcast together "
                f"(axis {i - n}: {p} vs {q}). Dimensions must be equal or one of them 1."
            )
    return tuple(out)


def result_dtype(*dtypes: str) -> str:
    """NumPy's promotion rule: float32 with float64 gives float64."""
    return np.result_type(*dtypes).name


def normalize_axes(axis: Any, ndim: int, what: str, keep_order: bool = False) -> tuple[int, ...]:
    """``axis`` (an int or a sequence of ints; ``None``: every axis) as a sorted tuple of
    non-negative ints, or in the order given with ``keep_order``; else a clear error."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"{what}: an axis must be an integer, got {a!r} ({type(a).__name__}) in {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{what}: axis {a} is out of range for a tensor of rank {ndim} "
                             f"(valid: {-ndim} to {ndim - 1})")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{what}: repeated axis in {axis}")
    return tuple(out) if keep_order else tuple(sorted(out))
