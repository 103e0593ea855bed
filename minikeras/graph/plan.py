"""What running a graph means: a ``Plan``, made once and run many times.

Making a plan keeps only the ops that the fetches and updates need, orders them, checks
that every placeholder they need is fed, gives every value a numbered slot, and notes the
step after which each value is never read again. ``execute`` is the definition of a run:
each step's ``forward`` on the values of its inputs, in order. ``run`` fills the slots
(feeds, variables, constants), executes, returns the fetches and only then assigns the
updates, all together, from values computed before any of them: if anything fails, no
variable changes. ``compile.py`` runs the same steps faster; it must agree with ``execute``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np

from .checks import (
    Update,
    check_feed,
    check_placeholders,
    check_tensor,
    check_update_counts,
    coerce_update,
    describe_failure,
    normalize_updates,
)
from .compile import CompiledPlan, check_agreement, reference_results
from .graph import get_default_graph
from .op import Op
from .ops.state import AssignOp, Const, Placeholder, PlaceholderWithDefault, Variable
from .tensor import Tensor
from .topo import topo_sort

__all__ = ["Plan", "Step", "check_feed"]

Call = Callable[[Op, list[Any]], Any]  # a replacement for op.forward(*args): to time or trace


class Step(NamedTuple):
    """``vals[out] = op.forward(*vals[inputs])``; then the slots in ``free`` are let go."""

    op: Op
    inputs: tuple[int, ...]
    out: int
    free: tuple[int, ...]


class Plan:
    """A compiled computation of ``fetches`` (and ``updates``) from fed tensors.

    ``feeds`` lists the tensors whose values each run provides: placeholders usually,
    but any tensor may be fed, which cuts the graph there (its producers are not run).
    A student's usual surprise: making the plan computes nothing, and running it never
    re-walks the graph; it only walks the list of steps made here.
    """

    #: When True (the test suite sets it), each plain run is also executed by the reference
    #: loop, and both must give the same fetches and the same new variable values.
    check_compiled: ClassVar[bool] = False

    def __init__(self, fetches: Sequence[Tensor], updates: Sequence[Update | Tensor] = (),
                 feeds: Sequence[Tensor] = ()) -> None:
        self.fetches = [check_tensor(t, "fetch") for t in fetches]
        self.feeds = [check_tensor(t, "feed") for t in feeds]
        self.updates = normalize_updates(updates)
        self.graph = get_default_graph()
        self.ops: list[Op] = topo_sort(self.fetches + [t for _, t in self.updates], stop=self.feeds)
        self._add_assign_ops()
        check_placeholders(self.ops, self.feeds, self.fetches + [v for _, v in self.updates])
        self.steps = self._schedule(self._number_slots())
        self.feed_slots = {t: self.slots[t] for t in self.feeds}
        self.fetch_slots = [self.slots[t] for t in self.fetches]
        self.update_slots = [(var, self.slots[t]) for var, t in self.updates]
        self._compiled: CompiledPlan | None = None

    def _add_assign_ops(self) -> None:
        """An assign op that the plan runs is an update, like an explicit pair. A variable
        may have several updates only if all are deltas (``update_add``, ``update_sub``, moving
        averages): they add up, as in TensorFlow; two new values for it cannot both win."""
        pairs = set(self.updates)
        self.updates += [(op.variable, op.y) for op in self.ops
                         if isinstance(op, AssignOp) and (op.variable, op.y) not in pairs]
        self.deltas_add_up = check_update_counts(self.updates)

    def _number_slots(self) -> list[Op]:
        """A slot per value; what fills the slots no step computes; the ops that are steps."""
        slot: dict[Tensor, int] = {}
        for t in [*self.feeds, *(op.y for op in self.ops), *self.fetches]:
            slot.setdefault(t, len(slot))
        self.slots = slot
        self.template: list[Any] = [None] * len(slot)  # constants, filled in once
        self.reads: list[tuple[int, Variable]] = []  # variables, read at the start of a run
        self.defaults: list[tuple[int, np.ndarray]] = []  # unfed placeholders' defaults
        self.required: list[Tensor] = []  # fed tensors with no value to fall back on
        computed = []
        sources = [(op.y, False) for op in self.ops] + [(t, True) for t in self.feeds]
        for t, fed in sources:
            if isinstance(t.op, Const) and not fed:
                # Shape-() values travel as NumPy scalars, not 0-d arrays: arithmetic on
                # scalars skips NumPy's array machinery and is several times faster.
                self.template[slot[t]] = t.op.value[()] if t.shape == () else t.op.value
            elif isinstance(t, Variable):
                self.reads.append((slot[t], t))
            elif isinstance(t.op, PlaceholderWithDefault):
                self.defaults.append((slot[t], t.op.default))
            elif fed:
                self.required.append(t)
            elif not isinstance(t.op, Placeholder):
                computed.append(t.op)
        return computed

    def _schedule(self, computed: list[Op]) -> list[Step]:
        """The steps, each with the slots whose last reader it is (fetched values are kept;
        a scalar is no buffer worth letting go)."""
        slot = self.slots
        keep = {slot[t] for t in self.fetches} | {slot[t] for _, t in self.updates}
        keep |= {s for t, s in slot.items() if t.shape == ()}
        last_use = {slot[x]: k for k, op in enumerate(computed) for x in op.inputs}
        frees: list[list[int]] = [[] for _ in computed]
        for s, k in last_use.items():
            if s not in keep:
                frees[k].append(s)
        return [Step(op, tuple(slot[x] for x in op.inputs), slot[op.y], tuple(frees[k]))
                for k, op in enumerate(computed)]

    # --- running ----------------------------------------------------------------------

    def run(self, feed: Mapping[Tensor, Any] | None = None, record: bool = False,
            call: Call | None = None) -> list[Any]:
        """Compute the fetches from ``feed`` (``{tensor: value}``), then apply the updates.

        ``record=True`` keeps every value of the run in ``last_values`` (``{tensor: array}``,
        variables as they were before the updates); ``call(op, args)`` replaces each step's
        ``op.forward(*args)`` (to time or trace it). Both run the reference loop.
        """
        with self.graph.lock:  # a run with updates is atomic; a read sees whole runs only
            vals = self.start(feed)
            if self.updates:
                outputs, new_values = self._compute(vals, record, call)
                assign(new_values)
                return outputs
        return self._compute(vals, record, call)[0]

    def _compute(self, vals: list[Any], record: bool, call: Call | None
                 ) -> tuple[list[Any], list[tuple[Variable, np.ndarray]]]:
        if record or call is not None:
            self.execute(vals, call, keep=record)
            if record:
                self.last_values = {t: vals[s] for t, s in self.slots.items()}
            return self.finish(vals)
        expected = reference_results(self, vals) if self.check_compiled else None
        try:
            self.compiled.run(vals)
        except Exception as e:
            failed = self.compiled.failed_step(e)
            e.add_note(describe_failure(*failed) if failed else "(raised while running a plan)")
            raise
        results = self.finish(vals, self.compiled)
        if expected is not None:
            check_agreement(self, expected, results)
        return results

    def start(self, feed: Mapping[Tensor, Any] | None) -> list[Any]:
        """The slots filled with what no step computes: constants, variables, feeds."""
        if not self.graph.alive:
            raise ValueError(
                "This plan (a K.function, or a model's predict/train function) was compiled in a "
                "graph discarded by K.clear_session() / reset_default_graph(); rebuild the model "
                "or the function in the current graph."
            )
        vals = self.template.copy()
        for s, var in self.reads:
            vals[s] = var.value[()] if var.shape == () else var.value
        for s, default in self.defaults:
            vals[s] = default
        feed = feed or {}
        for t in self.required:
            if t not in feed:
                raise ValueError(f"You must feed a value for {t.name} (shape {t.shape}, {t.dtype}).")
        for t, value in feed.items():
            if t not in self.feed_slots:
                raise ValueError(f"{getattr(t, 'name', t)} is fed but is not one of this plan's feeds "
                                 f"({', '.join(f.name for f in self.feeds) or 'none'}).")
            arr = check_feed(t, value)
            vals[self.feed_slots[t]] = arr[()] if arr.ndim == 0 else arr
        return vals

    def execute(self, vals: list[Any], call: Call | None = None, keep: bool = False) -> None:
        """The reference loop, the definition of a run: each step in order, on ``vals``."""
        for step in self.steps:
            args = [vals[i] for i in step.inputs]
            try:
                vals[step.out] = step.op.forward(*args) if call is None else call(step.op, args)
            except Exception as e:
                e.add_note(describe_failure(step.op, args))
                raise
            if not keep:
                for s in step.free:
                    vals[s] = None

    def finish(self, vals: list[Any], compiled: CompiledPlan | None = None
               ) -> tuple[list[Any], list[tuple[Variable, np.ndarray]]]:
        """The fetched values and the updates' new values, each an array nothing else holds
        (copied, unless ``compiled`` knows the plan made it and handed it out nowhere else)."""
        copy_fetch = compiled.fetch_copies if compiled else [True] * len(self.fetch_slots)
        copy_update = compiled.update_copies if compiled else [True] * len(self.update_slots)
        new_values = [(var, coerce_update(var, vals[s], copy))
                      for (var, s), copy in zip(self.update_slots, copy_update)]
        outputs = [np.array(vals[s]) if copy and isinstance(vals[s], np.ndarray) else vals[s]
                   for s, copy in zip(self.fetch_slots, copy_fetch)]
        return outputs, (add_up_deltas(new_values) if self.deltas_add_up else new_values)

    @property
    def compiled(self) -> CompiledPlan:
        """The steps as a straight-line Python function (compiled on the first plain run)."""
        if self._compiled is None:
            self._compiled = CompiledPlan(self)
        return self._compiled

    @property
    def source(self) -> str:
        """The Python function each plain run calls: the plan, one line per step."""
        return self.compiled.source

    def __repr__(self) -> str:
        return (f"<Plan: {len(self.steps)} steps, {len(self.fetches)} fetches, "
                f"{len(self.updates)} updates, feeds [{', '.join(t.name for t in self.feeds)}]>")


def add_up_deltas(new_values: list[tuple[Variable, np.ndarray]]) -> list[tuple[Variable, np.ndarray]]:
    """One new value per variable: several deltas from the value before the run add up."""
    merged: dict[Variable, np.ndarray] = {}
    for var, value in new_values:
        merged[var] = merged[var] + (value - var.value) if var in merged else value
    return list(merged.items())


def assign(new_values: list[tuple[Variable, np.ndarray]]) -> None:
    """Give every variable its new value. A KeyboardInterrupt arriving half-way is raised
    only after the rest are assigned: a run's updates land all together or not at all."""
    rest = iter(new_values)
    try:
        for var, value in rest:
            var.value = value
    finally:  # an interrupt is seen between loop turns: after its variable was assigned
        for var, value in rest:
            var.value = value
