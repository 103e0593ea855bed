"""What a plan accepts, checked up front with errors that name the culprit: fetched and fed
tensors, fed values, updates, and the new values updates compute."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .op import Op
from .ops.state import AssignAdd, AssignOp, AssignSub, Placeholder, Variable, as_tensor, check_assignable
from .tensor import Tensor
from .topo import topo_sort

Update = tuple[Variable, Tensor]


def check_feed(t: Tensor, value: Any) -> np.ndarray:
    """``value`` as an array of ``t``'s dtype, or an error if its shape cannot be ``t``'s."""
    if type(value) is np.ndarray and value.dtype == t.dtype:
        arr = value  # the usual feed: nothing to convert (np.errstate costs microseconds)
    else:
        try:
            with np.errstate(over="ignore"):  # an overflow is reported below, naming the placeholder
                arr = np.asarray(value, dtype=t.dtype)
        except (TypeError, ValueError, OverflowError) as e:
            raise ValueError(
                f"Cannot convert the value fed for {t.name} to {t.dtype}: {e}. "
                f"Feed a number or an array (got {type(value).__name__})."
            ) from None
        _check_range(t, value, arr)
    if arr.ndim != len(t.shape) or any(d is not None and d != n for d, n in zip(t.shape, arr.shape)):
        raise ValueError(
            f"Cannot feed value of shape {arr.shape} for placeholder {t.name}, "
            f"which has shape {t.shape}"
        )
    return arr


def _check_range(t: Tensor, value: Any, arr: np.ndarray) -> None:
    """Refuse a conversion that changed the numbers (300 fed as uint8 wraps to 44)."""
    raw = np.asarray(value)
    if raw.size == 0 or raw.dtype.kind not in "biuf" or arr.dtype.kind not in "iuf":
        return
    if arr.dtype.kind in "iu":
        info = np.iinfo(arr.dtype)
        lo, hi = raw.min(), raw.max()
        if lo < info.min or hi > info.max:
            raise ValueError(f"The value fed for placeholder {t.name} holds {lo if lo < info.min else hi}, "
                             f"outside the range of its dtype {t.dtype} [{info.min}, {info.max}]: it "
                             "would wrap around. Feed values that fit, or make the placeholder wider.")
    elif np.isinf(arr).any() and not np.isinf(raw).any():
        raise ValueError(f"The value fed for placeholder {t.name} overflows its dtype {t.dtype} "
                         f"(largest {np.finfo(arr.dtype).max:g}): it would become inf.")


def check_tensor(t: Any, role: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"Every {role} must be a Tensor, got {type(t).__name__}: {t!r}")
    if not t.graph.alive:
        raise ValueError(
            f"Tensor {t.name} belongs to a graph discarded by K.clear_session() / "
            "reset_default_graph(); rebuild it in the current graph."
        )
    return t


def normalize_updates(updates: Sequence[Update | Tensor]) -> list[Update]:
    out: list[Update] = []
    for u in updates:
        if isinstance(u, Op):
            u = u.y
        if isinstance(u, Tensor) and isinstance(u.op, AssignOp):
            out.append((u.op.variable, check_tensor(u, "update")))
        elif isinstance(u, tuple) and len(u) == 2 and isinstance(u[0], Variable):
            var = u[0]
            check_tensor(var, "updated variable")
            value = check_tensor(as_tensor(u[1], var.dtype), "update value")
            check_assignable(var, value.shape)
            out.append((var, value))
        elif isinstance(u, tuple) and len(u) == 2:
            raise TypeError(
                f"Only variables can be updated, but the update {u!r} would assign to "
                f"{u[0]!r}. Make it a variable (K.variable) or drop the update."
            )
        else:
            hint = (" A plain tensor computes a value but assigns nothing; gradients are not "
                    "updates either: optimizer.get_updates(loss=..., params=...) builds the "
                    "update ops.") if isinstance(u, Tensor) else ""
            raise TypeError(
                f"An update must be a (variable, new_value) tuple or an assign op "
                f"(K.update, K.update_add, ...); got {type(u).__name__}: {u!r}.{hint}"
            )
    return out


def coerce_update(var: Variable, value: Any, copy: bool) -> np.ndarray:
    if not copy and type(value) is np.ndarray and value.shape == var.shape and value.dtype == var.value.dtype:
        return value  # the usual case, checked cheaply
    arr = np.array(value, dtype=var.dtype) if copy else np.asarray(value, dtype=var.dtype)
    if arr.shape != var.shape:
        try:
            arr = np.broadcast_to(arr, var.value.shape).copy()
        except ValueError:
            raise ValueError(
                f"The update of variable {var.name} computed a value of shape {arr.shape}, "
                f"but the variable has shape {var.shape}. No variable was changed."
            ) from None
    return arr


def describe_failure(op: Op, args: Sequence[Any]) -> str:
    """Which op raised, and the shapes it was given: the note added to an error of a run."""
    shapes = ", ".join(f"{x.name}: {np.shape(a)}" for x, a in zip(op.inputs, args))
    return f"(raised while computing {op.name}, a {op.type} op, from {shapes or 'no inputs'})"


def check_placeholders(ops: Sequence[Op], feeds: Sequence[Tensor], targets: Sequence[Tensor]) -> None:
    """Refuse a plan that needs a placeholder it is not fed, naming it and what needs it."""
    fed = set(feeds)
    for op in ops:
        if type(op) is Placeholder and op.y not in fed:
            needer = next(t for t in targets if op in topo_sort([t], stop=feeds))
            raise ValueError(
                f"Placeholder {op.y.name} (shape {op.y.shape}, {op.y.dtype}) is needed to "
                f"compute {needer.name} but is not fed. Add it to the inputs, e.g. "
                f"K.function([..., {op.name}], [...]), and give it a value on each call."
            )


def check_update_counts(updates: Sequence[Update]) -> bool:
    """Refuse two updates of one variable unless all its updates are deltas; say whether
    some variable has several (deltas, which add up)."""
    by_var: dict[Variable, list[Tensor]] = {}
    for var, value in updates:
        by_var.setdefault(var, []).append(value)
    for var, values in by_var.items():
        if len(values) > 1 and not all(isinstance(v.op, (AssignAdd, AssignSub)) for v in values):
            raise ValueError(
                f"Variable {var.name} is updated {'twice' if len(values) == 2 else f'{len(values)} times'} "
                "in one run (by "
                f"{', '.join(v.name for v in values)}); updates are simultaneous, so only one new "
                "value can win. Deltas (K.update_add, K.update_sub) add up; combine the others "
                "into a single update."
            )
    return any(len(values) > 1 for values in by_var.values())
