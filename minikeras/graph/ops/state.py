"""Where values come from: placeholders (fed), constants (fixed) and variables (state).

These ops have no inputs. A plan never calls their ``forward``: it feeds placeholders,
pre-loads constants and reads variables once at the start of a run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..op import Op
from ..tensor import Shape, Tensor

__all__ = [
    "Variable", "as_tensor", "as_tensors", "assign", "assign_add", "assign_sub",
    "constant", "is_placeholder", "is_variable", "placeholder", "placeholder_with_default",
    "variable",
]

FLOATX = "float32"


def _shape_tuple(shape: Any) -> Shape:
    if shape is None:
        raise ValueError("A placeholder needs a shape (use None for unknown dimensions).")
    bad = [d for d in shape if d is not None and (not isinstance(d, (int, np.integer)) or d < -1)]
    if bad:
        raise ValueError(f"A placeholder's shape {tuple(shape)} has the dimension {bad[0]!r}: use "
                         "non-negative ints, and None (or -1) for a dimension known only at run time.")
    return tuple(None if d is None or d == -1 else int(d) for d in shape)


# --- placeholders -------------------------------------------------------------------


class Placeholder(Op):
    """A value given at run time through the feed. ``None`` dims accept any size."""

    shape: Shape
    dtype: str
    sparse: bool = False

    def infer(self) -> tuple[Shape, str]:
        return self.shape, self.dtype

    def forward(self) -> np.ndarray:
        raise RuntimeError(f"{self.y.name} must be fed")


def placeholder(
    shape: Any = None, dtype: str = FLOATX, name: str | None = None, sparse: bool = False
) -> Tensor:
    """A tensor whose value is fed when the graph runs: ``placeholder((None, 4))``."""
    return Placeholder.apply(name=name or "Placeholder", shape=_shape_tuple(shape),
                             dtype=np.dtype(dtype).name, sparse=sparse)


class PlaceholderWithDefault(Placeholder):
    """A placeholder that uses ``default`` when not fed (Keras's learning phase)."""

    default: np.ndarray

    def forward(self) -> np.ndarray:
        return self.default


def placeholder_with_default(default: Any, shape: Any = None, name: str | None = None) -> Tensor:
    """A placeholder that falls back to ``default`` (an array) when nothing is fed."""
    value = np.asarray(default)
    value.flags.writeable = False
    shape = value.shape if shape is None else _shape_tuple(shape)
    return PlaceholderWithDefault.apply(name=name or "PlaceholderWithDefault", shape=shape,
                                        dtype=value.dtype.name, default=value)


def is_placeholder(x: Any) -> bool:
    return isinstance(x, Tensor) and isinstance(x.op, Placeholder)


# --- constants ----------------------------------------------------------------------


class Const(Op):
    """A fixed array baked into the graph."""

    returns_view = True  # the stored array itself is the output
    value: np.ndarray

    def infer(self) -> tuple[Shape, str]:
        return self.value.shape, self.value.dtype.name

    def forward(self) -> np.ndarray:
        return self.value


def constant(value: Any, dtype: str | None = None, name: str | None = None) -> Tensor:
    """A ``Const`` op holding a read-only copy of ``value``."""
    arr = np.array(value, dtype=dtype)
    if arr.dtype == np.float64 and dtype is None and not isinstance(value, np.ndarray):
        arr = arr.astype(FLOATX)  # Python floats become floatx, like Keras's K.constant
    arr.flags.writeable = False
    return Const.apply(name=name or "Const", value=arr)


def as_tensor(x: Any, dtype: str | None = None) -> Tensor:
    """``x`` itself if it is a Tensor, else a constant.

    ``dtype`` is a hint used for Python numbers, so ``x * 2`` keeps ``x``'s dtype; a
    Python float next to an integer tensor stays a float (NumPy promotion follows).
    """
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return constant(x)
    if dtype is not None and isinstance(x, float) and np.dtype(dtype).kind not in "fc":
        dtype = FLOATX
    return constant(x, dtype=dtype)


def as_tensors(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Convert a pair, each side taking the other's dtype as its hint."""
    if isinstance(a, Tensor):
        return a, as_tensor(b, a.dtype)
    if isinstance(b, Tensor):
        return as_tensor(a, b.dtype), b
    return as_tensor(a), as_tensor(b)


# --- variables ----------------------------------------------------------------------


class Variable(Tensor):
    """A tensor whose value lives in a NumPy array between runs: the model's state.

    ``get_value`` returns a copy; ``set_value`` replaces the array. Running the graph
    never changes a variable, except through an update (an assign op or an update pair).
    """

    value: np.ndarray
    #: Keras's ``K.variable(constraint=...)``: applied by optimizers to each new value.
    constraint: Callable[[Tensor], Tensor] | None = None

    def get_value(self) -> np.ndarray:
        return self.value.copy()

    def set_value(self, value: Any) -> None:
        self.value = self.checked(value)

    def checked(self, value: Any) -> np.ndarray:
        """``value`` as a fresh array of this variable's dtype and shape, or a clear error."""
        arr = np.array(value, dtype=self.dtype)
        if arr.shape != self.shape:
            raise ValueError(
                f"Cannot assign a value of shape {arr.shape} to variable {self.name}, "
                f"which has shape {self.shape}."
            )
        return arr


class VariableOp(Op):
    type = "VariableV2"
    returns_view = True
    shape: Shape
    dtype: str

    def infer(self) -> tuple[Shape, str]:
        return self.shape, self.dtype

    def make_output(self, shape: Shape, dtype: str) -> Tensor:
        return Variable(self, 0, shape, dtype)

    def forward(self) -> np.ndarray:
        assert isinstance(self.y, Variable)
        return self.y.value


def variable(value: Any, dtype: str | None = None, name: str | None = None) -> Variable:
    """A new variable holding a copy of ``value`` (floats default to float32); its op's type is
    ``VariableV2``, as in TensorFlow 1."""
    with np.errstate(over="ignore"):  # an overflow is refused below, naming the variable
        arr = np.array(value, dtype=dtype)
        if dtype is None and arr.dtype == np.float64:
            arr = arr.astype(FLOATX)
    if arr.dtype.kind == "f" and np.isinf(arr).any():
        raw = np.asarray(value)
        if raw.dtype.kind in "biuf" and not np.isinf(raw).any():
            raise ValueError(f"The value of variable {name or 'Variable'} overflows its dtype {arr.dtype} "
                             f"(largest {np.finfo(arr.dtype).max:g}): it would become inf. Scale the "
                             "value or use a wider dtype.")
    v = VariableOp.apply(name=name or "Variable", shape=arr.shape, dtype=arr.dtype.name)
    assert isinstance(v, Variable)
    v.value = arr
    return v


def is_variable(x: Any) -> bool:
    return isinstance(x, Variable)


# --- assign ops ---------------------------------------------------------------------


class AssignOp(Op):
    """Base of the update ops: its output is the variable's *new* value.

    Running an assign op does not change the variable in the middle of a run: the plan
    collects every assign op it ran and assigns them all at the end, from values computed
    before any of them (updates are simultaneous).
    """

    differentiable = False

    def infer(self, v: Tensor, x: Tensor) -> tuple[Shape, str]:
        if not isinstance(v, Variable):
            raise TypeError(f"{self.type} needs a variable as its first input, got {v.name}")
        check_assignable(v, x.shape)
        return v.shape, v.dtype

    @property
    def variable(self) -> Variable:
        v = self.inputs[0]
        assert isinstance(v, Variable)
        return v


def check_assignable(v: Variable, shape: Shape) -> None:
    """Refuse, at build time, a new value whose static shape cannot become ``v``'s."""
    tail = v.shape[len(v.shape) - len(shape):]
    ok = len(shape) <= len(v.shape) and all(d in (None, 1, e) for d, e in zip(shape, tail))
    if not ok:
        raise ValueError(
            f"Cannot update variable {v.name} of shape {v.shape} with a value of shape {shape}."
        )


class Assign(AssignOp):
    """The new value is ``x`` itself: a plan hands ``x``'s array on, without a copy."""

    def forward(self, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        return x


def assign(v: Variable, x: Any) -> Tensor:
    """An op that, when run, sets ``v`` to ``x`` (after the run's other computations)."""
    return Assign.apply(v, as_tensor(x, v.dtype))


class AssignAdd(AssignOp):
    def forward(self, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        return v + x


def assign_add(v: Variable, x: Any) -> Tensor:
    return AssignAdd.apply(v, as_tensor(x, v.dtype))


class AssignSub(AssignOp):
    def forward(self, v: np.ndarray, x: np.ndarray) -> np.ndarray:
        return v - x


def assign_sub(v: Variable, x: Any) -> Tensor:
    return AssignSub.apply(v, as_tensor(x, v.dtype))
