"""``check_gradients``: symbolic gradients against central finite differences, in float64.

For a scalar :math:`L(x)` the central difference
:math:`(L(x + \\epsilon e_j) - L(x - \\epsilon e_j)) / 2\\epsilon \\approx \\partial L / \\partial x_j`
has error :math:`O(\\epsilon^2)`, so with ``eps=1e-6`` in float64 it agrees with a correct
symbolic gradient to about 8 digits, except within ``eps`` of a kink.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from minikeras import graph as G

__all__ = ["GradientCheck", "check_gradients"]


@dataclass(frozen=True)
class GradientCheck:
    """What ``check_gradients`` compared, one entry per input.

    ``symbolic[i]`` is ``None`` where ``gradients`` returned ``None`` (unconnected input).
    For ``order=2`` both lists hold Hessian-vector products :math:`H v` instead of gradients.
    """

    output: np.ndarray
    symbolic: list[np.ndarray | None]
    numeric: list[np.ndarray]
    order: int


def check_gradients(
    f: Callable[..., G.Tensor],
    inputs: Sequence[Any],
    order: int = 1,
    eps: float = 1e-6,
    rtol: float = 1e-4,
    atol: float = 1e-6,
    names: Sequence[str] | None = None,
    seed: int = 0,
    placeholder_shapes: Sequence[Sequence[int | None]] | None = None,
) -> GradientCheck:
    """Check ``G.gradients`` of ``f`` against central differences, for every input.

    ``f`` receives one float64 placeholder per array of ``inputs`` (same static shape) and
    returns a Tensor ``y``. The scalar checked is :math:`L = \\sum y \\cdot R` with ``R`` a
    fixed random array (``R = 1`` for a scalar ``y``), so every output direction counts.
    ``order=2`` checks :math:`H v`: the symbolic gradient of :math:`\\sum_i g_i \\cdot v_i`
    against central differences of the symbolic :math:`g_i`.

    ``placeholder_shapes`` (``None`` for unknown dims, e.g. ``[(None, 3)]``) exercises the
    gradients that read shapes at run time; by default each placeholder has its array's shape.

    The mistake students make: testing at a kink (``abs`` at 0, a tie in ``max``), where
    the function has no derivative and central differences disagree with any gradient.

    Raises:
        AssertionError: naming the input, the worst element, both derivatives and ``eps``.
    """
    if order not in (1, 2):
        raise ValueError(f"check_gradients: order must be 1 or 2, got {order}")
    arrays = [np.array(a, dtype=np.float64) for a in inputs]
    names = [f"x{i}" for i in range(len(arrays))] if names is None else list(names)
    if len(names) != len(arrays):
        raise ValueError(f"check_gradients: {len(names)} names for {len(arrays)} inputs")
    if placeholder_shapes is None:
        placeholder_shapes = [a.shape for a in arrays]
    if len(placeholder_shapes) != len(arrays):
        raise ValueError(f"check_gradients: {len(placeholder_shapes)} shapes for {len(arrays)} inputs")
    rng = np.random.default_rng(seed)

    xs = [G.placeholder(s, dtype="float64", name=n) for s, n in zip(placeholder_shapes, names)]
    y = f(*xs)
    if not isinstance(y, G.Tensor) or np.dtype(y.dtype).kind != "f":
        raise TypeError(f"check_gradients: f must return a floating-point Tensor, got {y!r}")
    feed = dict(zip(xs, arrays))
    (y_value,) = G.Plan([y], feeds=xs).run(feed)
    y_value = np.asarray(y_value)
    # R = 1 keeps the numbers of a scalar function readable in a failure message.
    proj = np.ones(()) if y_value.ndim == 0 else rng.standard_normal(y_value.shape)
    scalar = G.sum(y * G.constant(proj))

    if order == 1:
        target, what = scalar, "derivative"
    else:
        grads = G.gradients(scalar, xs)
        terms = [G.sum(g * G.constant(rng.standard_normal(a.shape)))
                 for g, a in zip(grads, arrays) if g is not None]
        target = terms[0] if len(terms) == 1 else G.add_n(terms) if terms else None  # type: ignore[assignment]
        what = "Hessian-vector product (H v)"
    # With no target (no input reaches y) every H v is 0 and none is symbolic.
    sym_tensors: list[G.Tensor | None] = [None] * len(xs)
    value_of = None
    if target is not None:
        sym_tensors = G.gradients(target, xs)
        value_of = _evaluator(target, xs)

    fetched = [t for t in sym_tensors if t is not None]
    values = iter(G.Plan(fetched, feeds=xs).run(feed) if fetched else [])
    symbolic = [None if t is None else np.array(next(values), dtype=np.float64) for t in sym_tensors]

    numeric = []
    note = "" if y_value.ndim == 0 else (
        f"\n(f's output has shape {y_value.shape}, so the scalar differentiated is "
        "sum(f(...) * R) for a fixed random R of that shape.)")
    for i, x in enumerate(xs):
        num = _central_difference(value_of, feed, x, eps)
        numeric.append(num)
        _compare(i, names[i], arrays[i], symbolic[i], num, order, what, eps, rtol, atol, note)
    return GradientCheck(output=y_value, symbolic=symbolic, numeric=numeric, order=order)


def _evaluator(target: G.Tensor, xs: list[G.Tensor]) -> Callable[[dict[G.Tensor, np.ndarray]], float]:
    """The scalar ``target`` as a function of a feed; compiled once, run many times."""
    plan = G.Plan([target], feeds=xs)
    return lambda feed: float(plan.run(feed)[0])


def _central_difference(value_of: Callable[[dict[G.Tensor, np.ndarray]], float] | None,
                        feed: dict[G.Tensor, np.ndarray], x: G.Tensor, eps: float) -> np.ndarray:
    """``(L(x + eps e_j) - L(x - eps e_j)) / 2 eps`` for every element ``j`` of ``x``."""
    out = np.zeros(feed[x].shape)
    if value_of is None:
        return out
    work = feed[x].copy()
    moved = {**feed, x: work}
    flat, out_flat = work.reshape(-1), out.reshape(-1)  # views: writing `flat` moves the fed array
    for j in range(flat.size):
        keep = flat[j]
        flat[j] = keep + eps
        up = value_of(moved)
        flat[j] = keep - eps
        down = value_of(moved)
        flat[j] = keep
        out_flat[j] = (up - down) / (2 * eps)
    return out


def _compare(i: int, name: str, x: np.ndarray, sym: np.ndarray | None, num: np.ndarray,
             order: int, what: str, eps: float, rtol: float, atol: float, note: str) -> None:
    who = f"input {i} ('{name}', shape {x.shape})"
    source = "the symbolic gradient" if order == 1 else "the second-order symbolic gradient"
    if sym is None:
        worst = np.unravel_index(np.argmax(np.abs(num)), num.shape) if num.size else ()
        if num.size and not abs(num[worst]) <= atol:  # NaN fails too
            raise AssertionError(
                f"Gradient check failed for {who}: {source} was None (no gradient flows back "
                f"from the output to this input), but the central difference with "
                f"eps={eps:g} is {num[worst]:.6g} at index {_index(worst)}.\n"
                "Hint: a backward that returns None (or an op marked not differentiable) "
                "on a path this input takes." + note
            )
        return
    if sym.shape != x.shape:
        raise AssertionError(
            f"Gradient check failed for {who}: {source} has shape {sym.shape} but the input "
            f"has shape {x.shape}.\nHint: a backward that forgot to undo broadcasting "
            "(sum_to) or a reshape."
        )
    excess = np.abs(sym - num) - (atol + rtol * np.abs(num))
    bad = ~(excess <= 0)  # NaN counts as a failure
    if not bad.any():
        return
    worst = np.unravel_index(np.argmax(np.where(np.isnan(excess), np.inf, excess)), x.shape)
    if order == 1:
        order_word, of = "", "central difference"
        hint = ("Hint: does backward multiply by gy (chain rule) and undo broadcasting with "
                "sum_to? Is the input at least eps away from a kink (abs at 0, ties in max)?")
    else:
        order_word, of = " (order 2)", "central difference of the first-order symbolic gradient"
        hint = ("Hint: if order=1 passes, some backward computes the right value with ops whose "
                "own backward is wrong, or the input is within eps of a kink of the gradient.")
    raise AssertionError(
        f"Gradient check{order_word} failed for {who} at index {_index(worst)}: "
        f"received {what} {sym[worst]:.10g} from {source}, expected {num[worst]:.10g} "
        f"from {of} (eps={eps:g}).\n"
        f"{int(bad.sum())} of {x.size} elements differ by more than atol + rtol*|expected| "
        f"(atol={atol:g}, rtol={rtol:g}); the input's value there is {x[worst]:.6g}.\n"
        + hint + note
    )


def _index(idx: tuple[Any, ...]) -> str:
    return str(tuple(int(k) for k in idx))
