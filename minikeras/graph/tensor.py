"""``Tensor``: a symbolic value, the output of an ``Op``. Nothing is computed here."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .graph import Graph
    from .op import Op

Shape = tuple[int | None, ...]


class Tensor:
    """The ``value_index``-th output of ``op``, with a static ``shape`` and ``dtype``.

    ``t.op`` and ``t.owner`` are the same object (TF and Theano idioms). ``==`` and
    ``hash`` are *identity*, so tensors work as dict keys and in ``list.index``;
    elementwise equality is ``equal(a, b)``. A tensor holds no value: it is a recipe.
    """

    # Makes ``np_array + tensor`` call ``Tensor.__radd__`` instead of NumPy looping.
    __array_ufunc__ = None

    # What Keras's engine stamps on a layer's outputs (engine/base_layer.py); a tensor built
    # outside a layer keeps these defaults. History: (layer, node_index, tensor_index).
    _keras_history: Any = None
    _keras_shape: Shape | None = None
    _uses_learning_phase: bool = False

    def __init__(self, op: Op, value_index: int, shape: Shape, dtype: str) -> None:
        self.op = op
        self.value_index = value_index
        self.shape = shape
        self.dtype = dtype

    @property
    def name(self) -> str:
        return f"{self.op.name}:{self.value_index}"

    @property
    def owner(self) -> Op:
        return self.op

    @property
    def graph(self) -> Graph:
        return self.op.graph

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        shape = "(" + ", ".join(str(d) for d in self.shape) + ("," if len(self.shape) == 1 else "") + ")"
        return f"<{type(self).__name__} '{self.name}' shape={shape} dtype={self.dtype}>"

    def __bool__(self) -> bool:
        raise TypeError(
            f"The truth value of symbolic tensor {self.name} is unknown until the graph runs. "
            "Use `x is not None` to test for presence, or switch/where(cond, a, b) to choose "
            "between values."
        )

    def __iter__(self) -> Any:
        raise TypeError(
            f"Symbolic tensor {self.name} is not iterable: its values do not exist yet. "
            "Index it (x[0]) or evaluate it first."
        )

    # Operators: each builds an op (the gradients are beside the ops in ops/).
    def __add__(self, other: Any) -> Tensor:
        return _ops().add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops().add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops().subtract(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops().subtract(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops().multiply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops().multiply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops().divide(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops().divide(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _ops().pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ops().pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops().matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops().matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ops().negative(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ops().abs(self)

    def __lt__(self, other: Any) -> Tensor:
        return _ops().less(self, other)

    def __le__(self, other: Any) -> Tensor:
        return _ops().less_equal(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _ops().greater(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _ops().greater_equal(self, other)

    # Defining __lt__ & co. must not turn == into an elementwise op: keep identity.
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def __getitem__(self, key: Any) -> Tensor:
        return _ops().getitem(self, key)

    @property
    def T(self) -> Tensor:
        return _ops().transpose(self)



def _ops() -> ModuleType:
    """The primitives' package, reached when an operator is used: the op modules import
    this one, so importing them at the top would tie the two into an import cycle."""
    from . import ops

    return ops
