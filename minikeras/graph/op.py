"""``Op``: one node of the graph, and the base class of every primitive.

A primitive is a small subclass that says three things, side by side:

- ``forward(*arrays)``: the NumPy computation (given ``out=``, an input's array it may
  overwrite with the result, if the op lists that input in ``inplace``);
- ``infer(*tensors)``: the static ``(shape, dtype)`` of its output (``None`` = unknown dim);
- ``backward(gy)``: the gradients of its inputs, written *with other ops*, so a gradient
  is a graph too (and can be differentiated again).

Names follow DeZero: ``x`` inputs, ``y`` output, ``gy`` the gradient arriving at ``y``,
``gx`` what ``backward`` returns for ``x``.
"""

from __future__ import annotations

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
    an executor evaluates it. Every op here has exactly one output, ``op.y``.
    """

    type: ClassVar[str] = "Op"
    #: ``False`` for ops whose output does not depend smoothly on the inputs (``ArgMax``).
    differentiable: ClassVar[bool] = True
    #: ``True`` when ``forward`` may return an input, a view of one (``Reshape``) or a
    #: stored array, rather than a new array: the executor then copies the value before a
    #: user or a variable keeps it, and never reuses its memory. An op class defined
    #: outside ``minikeras.graph.ops`` gets ``True`` unless it says otherwise (safe, and
    #: only a little slower).
    returns_view: ClassVar[bool] = False
    #: Inputs whose array ``forward`` may write its result into, when the executor passes
    #: that array as ``out=`` (it does only when nothing reads the array afterwards). The
    #: op promises the output always has these inputs' shape; ``can_write_into`` checks
    #: the rest.
    inplace: ClassVar[tuple[int, ...]] = ()
    #: The NumPy ufunc that *is* the forward, for ops that are exactly one (``np.add``):
    #: ``forward`` calls it, and a plan calls it directly, with no method in between.
    ufunc: ClassVar[Any] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "type" not in cls.__dict__:
            cls.type = cls.__name__
        if "returns_view" not in cls.__dict__ and not cls.__module__.startswith(__package__ + ".ops"):
            cls.returns_view = True  # not known to return arrays of its own: see above

    def __init__(self, *inputs: Tensor, name: str | None = None, **attrs: Any) -> None:
        graph = get_default_graph()
        for x in inputs:
            _check_input(x, graph, type(self).type)
        self.inputs: list[Tensor] = list(inputs)
        self.attrs: dict[str, Any] = attrs
        for key, value in attrs.items():
            setattr(self, key, value)
        shape, dtype = self.infer(*inputs)
        self.graph: Graph = graph
        self.name: str = graph.scoped(name or self.type)
        self.outputs: list[Tensor] = [self.make_output(tuple(shape), str(dtype))]
        graph.add_op(self)

    @classmethod
    def apply(cls, *inputs: Tensor, name: str | None = None, **attrs: Any) -> Tensor:
        """Create the op and return its output tensor."""
        return cls(*inputs, name=name, **attrs).outputs[0]

    @property
    def y(self) -> Tensor:
        """The output tensor (every op here has exactly one)."""
        return self.outputs[0]

    def make_output(self, shape: Shape, dtype: str) -> Tensor:
        return Tensor(self, 0, shape, dtype)

    def infer(self, *xs: Tensor) -> tuple[Shape, str]:
        """Static shape and dtype of the output; by default those of the first input."""
        return xs[0].shape, xs[0].dtype

    def forward(self, *xs: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        if self.ufunc is None:
            raise NotImplementedError(f"{self.type} has no forward")
        return self.ufunc(*xs, out=out)

    def kernel(self) -> Callable[..., Any] | None:
        """A NumPy callable that computes exactly what ``forward`` does, with the same
        arguments, when there is one (the ``ufunc``; some ops build one from their attrs).
        A plan calls it in place of the method: one Python call less per step."""
        return self.ufunc

    def can_write_into(self, i: int) -> bool:
        """Whether input ``i``'s array can hold the output: listed in ``inplace``, same dtype."""
        return i in self.inplace and self.inputs[i].dtype == self.y.dtype

    def backward(self, gy: Tensor) -> list[Tensor | None]:
        """Gradients of the inputs given ``gy``; ``None`` means "no gradient flows"."""
        raise NotDifferentiableError(
            f"{self.type} ({self.name}) is not differentiable: its output is piecewise "
            "constant or not a real number, so no gradient flows through it."
        )

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


def normalize_axes(axis: int | tuple[int, ...] | list[int] | None, ndim: int, what: str) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative ints; ``None`` means every axis."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{what}: axis {a} is out of range for a tensor of rank {ndim}")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{what}: repeated axis in {axis}")
    return tuple(sorted(out))
