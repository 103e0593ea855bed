"""Hypothesis strategies for gradient tests: shapes, broadcastable shapes, arrays kept away
from kinks, and random expression graphs with shared sub-expressions.

The mistake these exist to prevent: drawing a value *at* a kink (``abs`` at 0, a tie in
``max``) and blaming the gradient for what central differences cannot measure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from minikeras import graph as G

__all__ = ["Expression", "arrays", "broadcastable_shapes", "expression_graphs", "shapes"]

Shape = tuple[int, ...]


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[Shape]:
    """Array shapes with ``min_dims..max_dims`` axes of ``min_side..max_side`` each."""
    if not 0 <= min_dims <= max_dims or not 0 <= min_side <= max_side:
        raise InvalidArgument(f"shapes: bad bounds dims {min_dims}..{max_dims}, sides {min_side}..{max_side}")
    side = st.integers(min_side, max_side)
    return st.lists(side, min_size=min_dims, max_size=max_dims).map(tuple)


@st.composite
def broadcastable_shapes(draw: st.DrawFn, num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                         min_side: int = 1, max_side: int = 4) -> tuple[Shape, ...]:
    """``num_shapes`` shapes that NumPy broadcasts together (a pair by default).

    Each is the tail of one full shape with some sides replaced by 1, so leading axes
    go missing and size-1 axes stretch: both ways a gradient must be summed back.
    """
    full = draw(shapes(min_dims, max_dims, min_side, max_side))
    out = []
    for _ in range(num_shapes):
        rank = draw(st.integers(min_dims, len(full)))
        tail = full[len(full) - rank:]
        ones = draw(st.lists(st.booleans(), min_size=rank, max_size=rank))
        out.append(tuple(1 if one else d for d, one in zip(tail, ones)))
    return tuple(out)


def arrays(shape: Shape | int | st.SearchStrategy[Shape], min_value: float = -3.0, max_value: float = 3.0,
           avoid: Sequence[float] = (), margin: float = 0.05,
           distinct: bool = False) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays in ``[min_value, max_value]``, at least ``margin`` from each ``avoid`` point.

    ``avoid`` lists kinks and singular points (``(0,)`` for ``abs``, ``relu``, ``sign``,
    a denominator); ``distinct=True`` keeps all elements ``margin`` apart, so ``max`` and
    ``min`` have no ties. Use ``min_value > 0`` for ``log`` and ``sqrt``.
    """
    if isinstance(shape, st.SearchStrategy):
        return shape.flatmap(lambda s: arrays(s, min_value, max_value, avoid, margin, distinct))
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if not min_value < max_value:
        raise InvalidArgument(f"arrays: min_value {min_value} must be below max_value {max_value}")
    size = math.prod(shape)
    avoid = tuple(float(a) for a in avoid)

    def far(v: float) -> bool:
        return all(abs(v - a) >= margin for a in avoid)

    if distinct:
        values = _lattice(size, min_value, max_value, margin, far)
    else:
        floats = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, allow_subnormal=False)
        # Pushing a value out of a no-go zone (not rejecting it) keeps hypothesis efficient.
        pushed = floats.map(lambda v: _push(v, avoid, margin, min_value, max_value))
        ok = pushed.filter(lambda v: min_value <= v <= max_value and far(v))
        values = st.lists(ok, min_size=size, max_size=size)
    return values.map(lambda v: np.array(v, dtype=np.float64).reshape(shape))


def _push(v: float, avoid: tuple[float, ...], margin: float, lo: float, hi: float) -> float:
    """``v`` moved to the nearer edge of the first no-go zone it falls in (if it stays in range)."""
    for a in avoid:
        if abs(v - a) < margin:
            up, down = a + margin, a - margin
            first, second = (up, down) if v >= a else (down, up)
            return first if lo <= first <= hi else second
    return v


def _lattice(size: int, lo: float, hi: float, margin: float,
             far: Callable[[float], bool]) -> st.SearchStrategy[list[float]]:
    """``size`` distinct points of a grid with spacing ``>= margin``, all ``far`` from the kinks."""
    steps = min(int((hi - lo) / margin), 100_000)
    grid = [lo + (k + 0.5) * (hi - lo) / steps for k in range(steps)] if steps else []
    usable = [k for k, v in enumerate(grid) if far(v)]
    if len(usable) < size:
        raise InvalidArgument(
            f"arrays: cannot draw {size} distinct values {margin} apart in [{lo}, {hi}]; "
            "widen the range or lower the margin"
        )
    picks = st.lists(st.sampled_from(usable), min_size=size, max_size=size, unique=True)
    return picks.map(lambda ks: [grid[k] for k in ks])


# --- random expression graphs --------------------------------------------------------


@dataclass(frozen=True)
class _Recipe:
    """A building block: how to build it, and a bound on |output| from bounds on |inputs|."""

    build: Callable[..., G.Tensor]
    bound: Callable[..., float]
    text: str


_UNARY: dict[str, _Recipe] = {
    "tanh": _Recipe(G.tanh, lambda b: 1.0, "tanh({})"),
    "sigmoid": _Recipe(G.sigmoid, lambda b: 1.0, "sigmoid({})"),
    "softplus": _Recipe(G.softplus, lambda b: b + 1.0, "softplus({})"),
    "negative": _Recipe(G.negative, lambda b: b, "-{}"),
    "square": _Recipe(G.square, lambda b: b * b, "square({})"),
    "exp": _Recipe(G.exp, lambda b: math.exp(b), "exp({})"),
    "mean": _Recipe(lambda t: G.mean(t, axis=-1, keepdims=True), lambda b: b,
                    "mean({}, axis=-1, keepdims=True)"),
}
_BINARY: dict[str, _Recipe] = {
    "add": _Recipe(G.add, lambda a, b: a + b, "{} + {}"),
    "subtract": _Recipe(G.subtract, lambda a, b: a + b, "{} - {}"),
    "multiply": _Recipe(G.multiply, lambda a, b: a * b, "{} * {}"),
    # The denominator lies in [1, 3]: a division with no pole.
    "divide": _Recipe(lambda a, b: a / (2.0 + G.tanh(b)), lambda a, b: a, "{} / (2 + tanh({}))"),
}
_RECIPES = {**_UNARY, **_BINARY}


class Expression:
    """A random expression: ``steps`` of ``(recipe, argument nodes)`` over ``n_inputs`` inputs.

    Call it with placeholders to build the graph; the output is the sum of the nodes that
    nothing else uses. Node ``k < n_inputs`` is input ``k``; step ``s`` makes node
    ``n_inputs + s``.
    """

    def __init__(self, n_inputs: int, steps: tuple[tuple[str, tuple[int, ...]], ...]) -> None:
        # Not a dataclass: hypothesis would print its fields instead of the formula below.
        self.n_inputs = n_inputs
        self.steps = steps

    def __call__(self, *xs: G.Tensor) -> G.Tensor:
        if len(xs) != self.n_inputs:
            raise TypeError(f"this expression takes {self.n_inputs} inputs, got {len(xs)}")
        nodes = list(xs)
        for name, args in self.steps:
            nodes.append(_RECIPES[name].build(*(nodes[k] for k in args)))
        outs = [nodes[k] for k in self.outputs]
        return outs[0] if len(outs) == 1 else G.add_n(outs)

    def uses(self) -> list[int]:
        """How many times each node is an argument (the same node twice in ``x * x`` counts 2)."""
        count = [0] * (self.n_inputs + len(self.steps))
        for _, args in self.steps:
            for k in args:
                count[k] += 1
        return count

    @property
    def outputs(self) -> list[int]:
        """The computed nodes nothing uses: they are summed into the result."""
        uses = self.uses()
        return [k for k in range(self.n_inputs, len(uses)) if uses[k] == 0]

    @property
    def shared(self) -> list[int]:
        """Computed nodes used more than once: where gradients must be accumulated."""
        uses = self.uses()
        return [k for k in range(self.n_inputs, len(uses)) if uses[k] >= 2]

    def __repr__(self) -> str:
        def name(k: int) -> str:
            return f"x{k}" if k < self.n_inputs else f"t{k}"

        lines = [f"{name(self.n_inputs + s)} = " + _RECIPES[op].text.format(*map(name, args))
                 for s, (op, args) in enumerate(self.steps)]
        lines.append("y = " + " + ".join(name(k) for k in self.outputs))
        return "Expression(" + "; ".join(lines) + ")"


@st.composite
def expression_graphs(draw: st.DrawFn, min_inputs: int = 1, max_inputs: int = 3, min_steps: int = 1,
                      max_steps: int = 8, bound: float = 8.0,
                      max_side: int = 3) -> tuple[Expression, list[np.ndarray]]:
    """``(expression, input_arrays)``: a random smooth graph over a few inputs, ready for
    ``check_gradients(expression, input_arrays)``.

    Built from tanh, sigmoid, softplus, square, exp, mean, +, -, * and a pole-free
    division. Nodes are reused (``x * x``, diamonds) and at least one computed node is
    used twice, because accumulating gradients from several paths is what breaks first.
    Every intermediate value stays below ``bound`` in magnitude: an op that could exceed
    it is not drawn, so ``exp`` never sees a large argument. Inputs lie in ``[-2, 2]`` and
    broadcast against each other.
    """
    if not 1 <= min_inputs <= max_inputs or not 1 <= min_steps <= max_steps or bound < 2:
        raise InvalidArgument("expression_graphs: need 1 <= min_inputs <= max_inputs, "
                              "1 <= min_steps <= max_steps and bound >= 2 (the inputs' own bound)")
    n_inputs = draw(st.integers(min_inputs, max_inputs))
    full = draw(shapes(1, 2, 1, max_side))
    in_shapes = [draw(_broadcasts_to(full)) for _ in range(n_inputs)]
    # Nodes carry a shape (so `mean` needs rank >= 1) and a bound on their magnitude.
    node_shapes: list[Shape] = list(in_shapes)
    bounds = [2.0] * n_inputs
    steps: list[tuple[str, tuple[int, ...]]] = []

    def add_step(name: str, args: tuple[int, ...]) -> None:
        steps.append((name, args))
        bounds.append(_RECIPES[name].bound(*(bounds[k] for k in args)))
        shape = np.broadcast_shapes(*(node_shapes[k] for k in args))
        node_shapes.append(shape[:-1] + (1,) if name == "mean" else shape)

    for _ in range(draw(st.integers(min_steps, max_steps))):
        first = draw(st.integers(0, len(bounds) - 1))
        if draw(st.booleans()):
            second = first if draw(st.booleans()) else draw(st.integers(0, len(bounds) - 1))
            ok = [n for n, r in _BINARY.items() if r.bound(bounds[first], bounds[second]) <= bound]
            if ok:
                add_step(draw(st.sampled_from(ok)), (first, second))
                continue
        ok = [n for n, r in _UNARY.items()
              if r.bound(bounds[first]) <= bound and (n != "mean" or node_shapes[first])]
        add_step(draw(st.sampled_from(ok)), (first,))
    if not Expression(n_inputs, tuple(steps)).shared:
        last = len(bounds) - 1
        if bounds[last] ** 2 > bound:
            add_step("tanh", (last,))
            last += 1
        add_step("multiply", (last, last))
    values = [draw(arrays(s, -2.0, 2.0)) for s in in_shapes]
    return Expression(n_inputs, tuple(steps)), values


@st.composite
def _broadcasts_to(draw: st.DrawFn, full: Shape) -> Shape:
    """A shape that broadcasts to ``full``: a tail of it, some sides replaced by 1."""
    rank = draw(st.integers(0, len(full)))
    ones = draw(st.lists(st.booleans(), min_size=rank, max_size=rank))
    return tuple(1 if one else d for d, one in zip(full[len(full) - rank:], ones))
