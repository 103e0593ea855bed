"""``Tensor``: a symbolic value, the output of an ``Op``. Nothing is computed here."""

from __future__ import annotations

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

    # Operators. Each one builds an op; see ops/math.py for their gradients.
    def __add__(self, other: Any) -> Tensor:
        return _math.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _math.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _math.subtract(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _math.subtract(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _math.multiply(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _math.multiply(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _math.divide(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _math.divide(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _math.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _math.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _linalg.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _math.negative(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _math.abs(self)

    def __lt__(self, other: Any) -> Tensor:
        return _math.less(self, other)

    def __le__(self, other: Any) -> Tensor:
        return _math.less_equal(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _math.greater(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _math.greater_equal(self, other)

    # Defining __lt__ & co. must not turn == into an elementwise op: keep identity.
    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__

    def __getitem__(self, key: Any) -> Tensor:
        return _array.getitem(self, key)

    @property
    def T(self) -> Tensor:
        return _array.transpose(self)


# Imported last because the op modules need ``Tensor`` defined first.
from .ops import array as _array  # noqa: E402
from .ops import linalg as _linalg  # noqa: E402
from .ops import math as _math  # noqa: E402
