"""The one executor: compile a plan once, run it many times.

Compiling prunes the graph to what the fetches and updates need, orders it, checks the
placeholders, and turns it into a flat list of steps over numbered slots, then writes
that list out as a small Python function, one line per step (``plan.source`` shows it).
Running fills the slots (feeds, variables), calls that function, which calls each step's
NumPy ``forward`` and drops each intermediate array after its last use, and only at the
very end assigns the updates, all together, from values computed before any of them. If
anything fails, no variable changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from .graph import get_default_graph
from .op import Op
from .ops.state import (
    Assign,
    AssignOp,
    Const,
    Placeholder,
    PlaceholderWithDefault,
    Variable,
    as_tensor,
    check_assignable,
)
from .tensor import Tensor
from .topo import topo_sort

Update = tuple[Variable, Tensor]


class Step(NamedTuple):
    """One line of a compiled plan: ``vals[out] = forward(*vals[inputs])``.

    ``free`` are the slots whose last reader is this step: their arrays are let go right
    after it, so a big intermediate lives only as long as something still needs it.
    ``into`` is one of them the op may write its result into (``out=``) instead of
    allocating a new array: the array is *donated* to the step.
    """

    op: Op
    forward: Callable[..., Any]  # op.forward, unless replaced (to time or trace each step)
    inputs: tuple[int, ...]
    out: int
    free: tuple[int, ...]
    into: int = -1  # an input slot whose array the op may overwrite with its result, or -1


class Plan:
    """A compiled computation of ``fetches`` (and ``updates``) from fed tensors.

    ``feeds`` lists the tensors whose values each run provides: placeholders usually,
    but any tensor may be fed, which cuts the graph there (its producers are not run).
    A student's usual surprise: building the plan computes nothing, and running it
    never re-walks the graph; it only walks the list of steps made here.
    """

    def __init__(self, fetches: Sequence[Tensor], updates: Sequence[Update | Tensor] = (),
                 feeds: Sequence[Tensor] = ()) -> None:
        self.fetches = [_check_tensor(t, "fetch") for t in fetches]
        self.feeds = [_check_tensor(t, "feed") for t in feeds]
        self.updates = _normalize_updates(updates)
        targets = self.fetches + [t for _, t in self.updates]
        self.graph = get_default_graph()
        self.ops: list[Op] = topo_sort(targets, stop=self.feeds)
        self._add_assign_ops()
        self._check_placeholders()
        self._compile()

    # --- compiling ------------------------------------------------------------------

    def _add_assign_ops(self) -> None:
        """An assign op that the plan runs is an update, like an explicit pair."""
        existing = set(self.updates)
        for op in self.ops:
            if isinstance(op, AssignOp) and (op.variable, op.y) not in existing:
                self.updates.append((op.variable, op.y))
        seen: dict[Variable, Tensor] = {}
        for var, value in self.updates:
            if var in seen:
                raise ValueError(
                    f"Variable {var.name} is updated twice in one run (by {seen[var].name} and "
                    f"{value.name}); updates are simultaneous, so only one new value can win. "
                    "Combine them into a single update."
                )
            seen[var] = value

    def _check_placeholders(self) -> None:
        fed = set(self.feeds)
        for op in self.ops:
            if type(op) is Placeholder and op.y not in fed:
                needer = next(t for t in self.fetches + [v for _, v in self.updates]
                              if op in topo_sort([t], stop=self.feeds))
                raise ValueError(
                    f"Placeholder {op.y.name} (shape {op.y.shape}, {op.y.dtype}) is needed to "
                    f"compute {needer.name} but is not fed. Add it to the inputs, e.g. "
                    f"K.function([..., {op.name}], [...]), and give it a value on each call."
                )

    def _compile(self) -> None:
        slot: dict[Tensor, int] = {}
        for t in self.feeds:
            slot.setdefault(t, len(slot))
        for op in self.ops:
            for t in op.outputs:
                slot.setdefault(t, len(slot))
        for t in self.fetches:  # a fetch that is only fed still needs a slot
            slot.setdefault(t, len(slot))

        self.template: list[Any] = [None] * len(slot)
        self.variable_reads: list[tuple[int, Variable]] = []
        self.defaults: list[tuple[int, np.ndarray]] = []
        self.slots = slot
        self.feed_slots = {t: slot[t] for t in self.feeds}
        self.scalar_reads: list[tuple[int, Variable]] = []
        computed: list[Op] = []
        for op in self.ops:
            y = op.outputs[0]
            s = slot[y]
            # Shape-() values travel as NumPy scalars, not 0-d arrays: arithmetic on
            # scalars skips NumPy's array machinery and is several times faster.
            if isinstance(op, Const):
                self.template[s] = op.value[()] if y.shape == () else op.value
            elif isinstance(y, Variable):
                (self.scalar_reads if y.shape == () else self.variable_reads).append((s, y))
            elif isinstance(op, PlaceholderWithDefault):
                self.defaults.append((s, op.default))
            elif not isinstance(op, Placeholder):
                computed.append(op)
        self.required: list[Tensor] = []  # fed tensors with no value to fall back on
        for t in self.feeds:
            if isinstance(t, Variable):
                self.variable_reads.append((slot[t], t))
            elif isinstance(t.op, PlaceholderWithDefault):
                self.defaults.append((slot[t], t.op.default))
            else:
                self.required.append(t)

        keep = {slot[t] for t in self.fetches} | {slot[t] for _, t in self.updates}
        last_use: dict[int, int] = {}
        for k, op in enumerate(computed):
            for x in op.inputs:
                last_use[slot[x]] = k
        frees: list[list[int]] = [[] for _ in computed]
        scalars = {s for t, s in slot.items() if t.shape == ()}
        for s, k in last_use.items():
            if s not in keep and s not in scalars:  # a scalar is no buffer worth freeing
                frees[k].append(s)
        # The arrays the plan's own steps make: not fed ones, not variables', not views.
        made = {slot[op.y] for op in computed if not op.returns_view and not isinstance(op, Assign)}
        made -= set(self.feed_slots.values())
        into = self._donations(computed, frees, made)
        self.steps: list[Step] = [
            Step(op, op.forward, tuple(slot[x] for x in op.inputs), slot[op.y], tuple(frees[k]), into[k])
            for k, op in enumerate(computed)]
        self._codes: dict[bool, StepCode] = {}
        self._code(record=False)
        self._copies(computed, made)

    def _donations(self, computed: list[Op], frees: list[list[int]], made: set[int]) -> list[int]:
        """For each step, the slot whose array it may write its result into, or -1.

        One the plan made, that no later step reads, read by no view or Assign (which
        would share it), and that the op can compute in place (``op.inplace``).
        """
        slot = self.slots
        shared = {slot[x] for op in computed if op.returns_view or isinstance(op, Assign) for x in op.inputs}
        owned = made - shared
        into = []
        for k, op in enumerate(computed):
            ok = [slot[op.inputs[i]] for i in op.inplace if op.can_write_into(i)]
            into.append(next((s for s in ok if s in owned and s in frees[k]), -1))
        return into

    def _copies(self, computed: list[Op], made: set[int]) -> None:
        """Which updates and fetches are copied before a variable or the user keeps them.

        A value that is not an array the plan made (a fed array, a variable's own array,
        a view of one) is copied: else writing into one would silently change the other.
        An Assign hands on its value's own array, so what counts is where that came from;
        and two variables (or a variable and a fetch) never share one array.
        """
        slot = self.slots
        passed_on = {slot[op.y]: slot[op.inputs[1]] for op in computed if isinstance(op, Assign)}

        def origin(s: int) -> int:
            while s in passed_on:
                s = passed_on[s]
            return s

        self.update_slots = []
        taken: set[int] = set()
        for var, t in self.updates:
            source = origin(slot[t])
            self.update_slots.append((var, slot[t], source not in made or source in taken))
            taken.add(source)
        self.fetch_slots = [(slot[t], origin(slot[t]) not in made or origin(slot[t]) in taken)
                            for t in self.fetches]

    # --- running --------------------------------------------------------------------

    def run(self, feed: Mapping[Tensor, Any] | None = None, record: bool = False) -> list[Any]:
        """Compute the fetches from ``feed`` (``{tensor: value}``), then apply the updates.

        ``record=True`` keeps every value of the run in ``last_values`` (``{tensor: array}``,
        variables as they were before the updates) instead of freeing them: for pictures
        and debugging, at the cost of memory.
        """
        if not self.graph.alive:
            raise ValueError(
                "This plan (a K.function, or a model's predict/train function) was compiled in a "
                "graph discarded by K.clear_session() / reset_default_graph(); rebuild the model "
                "or the function in the current graph."
            )
        vals = self.template.copy()
        for s, var in self.variable_reads:
            vals[s] = var.value
        for s, var in self.scalar_reads:
            vals[s] = var.value[()]
        for s, default in self.defaults:
            vals[s] = default
        feed = feed or {}
        for t in self.required:
            if t not in feed:
                raise ValueError(f"You must feed a value for {t.name} (shape {t.shape}, {t.dtype}).")
        for t, value in feed.items():
            s = self.feed_slots.get(t)
            if s is None:
                raise ValueError(
                    f"{getattr(t, 'name', t)} is fed but is not one of this plan's feeds "
                    f"({', '.join(f.name for f in self.feeds) or 'none'})."
                )
            arr = check_feed(t, value)
            vals[s] = arr[()] if arr.ndim == 0 else arr
        code = self._code(record)
        try:
            code.run(vals)
        except Exception as e:
            e.add_note(code.where(e))
            raise
        new_values = [_coerce_update(var, vals[s], copy) for var, s, copy in self.update_slots]
        outputs = [np.array(vals[s]) if copy else vals[s] for s, copy in self.fetch_slots]
        if record:
            self.last_values = {t: vals[s] for t, s in self.slots.items()}
        for var, value in new_values:
            var.value = value
        return outputs

    def _code(self, record: bool) -> StepCode:
        """The steps written out as Python (written again if ``steps`` was replaced)."""
        code = self._codes.get(record)
        if code is None or code.steps is not self.steps:
            code = self._codes[record] = StepCode(self.steps, self.slots, record)
        return code

    @property
    def source(self) -> str:
        """The Python function each run calls: the plan, one line per step."""
        return self._code(record=False).source

    def __repr__(self) -> str:
        return (f"<Plan: {len(self.steps)} steps, {len(self.fetches)} fetches, "
                f"{len(self.updates)} updates, feeds [{', '.join(t.name for t in self.feeds)}]>")


_OPERATORS = {np.add: "+", np.subtract: "-", np.multiply: "*", np.divide: "/"}

#: A plan with more steps than this runs as a loop over its steps instead of compiled
#: source: Python's compiler takes ~15 us a line, too long for ten thousand scalar ops.
COMPILE_LIMIT = 2_000


class StepCode:
    """A list of steps as the source and the function of a straight-line Python program.

    ``run(vals)`` reads the slots no step computes (feeds, variables, constants) from
    ``vals``, then does one line per step, ``v7 = f3(v2, v5)`` (or ``np.add(v2, v5)`` for
    an op that is one NumPy call), in local variables, which is the cheapest thing Python
    can do per step: no loop, no unpacking, no list. ``del`` lets an intermediate go after
    its last use, ``out=`` hands a dying array to an op that can write its result into it;
    the fetches and updates are written back to ``vals`` at the end. With ``record``,
    nothing is let go or overwritten and every value is written back, for
    ``Plan.run(record=True)``. Past ``COMPILE_LIMIT`` steps, a loop does the same.
    """

    def __init__(self, steps: list[Step], slots: Mapping[Tensor, int], record: bool) -> None:
        self.steps = steps
        self.record = record
        self.slots = slots
        # What each step calls: an op that is one NumPy call is called as that, unless its
        # forward was replaced (to time or trace it).
        self.calls = [(step.op.kernel() if step.forward == step.op.forward else None) or step.forward
                      for step in steps]
        if len(steps) > COMPILE_LIMIT:
            self.run: Callable[[list[Any]], None] = self._loop
            return
        source, self.line_of_step = self._write()
        namespace: dict[str, Any] = {"np": np, **{f"f{k}": fn for k, fn in enumerate(self.calls)}}
        exec(compile(source, "<plan>", "exec"), namespace)  # our own source, written above
        self.run = namespace["run"]

    @property
    def source(self) -> str:
        return self._write()[0]

    def _write(self) -> tuple[str, dict[int, int]]:
        """The source, and which step each of its line numbers runs."""
        names = {s: t.name.replace("\n", " ") for t, s in self.slots.items()}
        lines = ["def run(vals):"]
        produced = {step.out for step in self.steps}
        read = sorted({i for step in self.steps for i in step.inputs} - produced)
        lines += [f"    v{s} = vals[{s}]  # {names[s]}" for s in read]
        line_of_step = {}
        for k, (step, fn) in enumerate(zip(self.steps, self.calls)):
            donate = step.into >= 0 and not self.record
            args = ", ".join([f"v{i}" for i in step.inputs] + ([f"out=v{step.into}"] if donate else []))
            expression = f"{f'np.{fn.__name__}' if isinstance(fn, np.ufunc) else f'f{k}'}({args})"
            if fn in _OPERATORS and step.op.y.shape == ():
                # Python's operators on NumPy scalars skip the ufunc machinery: much faster.
                expression = f" {_OPERATORS[fn]} ".join(f"v{i}" for i in step.inputs)
            if isinstance(step.op, Assign) and step.forward == step.op.forward:
                expression = f"v{step.inputs[1]}"  # the new value is passed on as it is
            line_of_step[len(lines) + 1] = k
            lines.append(f"    v{step.out} = {expression}  # {step.op.type} {names[step.out]}")
            if step.free and not self.record:
                lines.append(f"    del {', '.join(f'v{s}' for s in step.free)}")
        freed = {s for step in self.steps for s in step.free}
        kept = sorted(produced) if self.record else sorted(produced - freed)
        lines += [f"    vals[{s}] = v{s}" for s in kept]
        lines.append("    return")  # a plan may have no steps at all
        return "\n".join(lines) + "\n", line_of_step

    def _loop(self, vals: list[Any]) -> None:
        """What the source does, for a plan too long to compile: one step at a time."""
        donate = not self.record
        for k, (step, fn) in enumerate(zip(self.steps, self.calls)):  # noqa: B007 - where() reads k
            args = [vals[i] for i in step.inputs]
            if step.into >= 0 and donate:
                vals[step.out] = fn(*args, out=vals[step.into])
            else:
                vals[step.out] = fn(*args)
            if donate:
                for s in step.free:
                    vals[s] = None

    def where(self, error: BaseException) -> str:
        """Which op ``error`` came from and the shapes it was given, from the traceback."""
        code = self.run.__code__
        tb = error.__traceback__
        while tb is not None and tb.tb_frame.f_code is not code:
            tb = tb.tb_next
        if tb is None:
            return "(raised while running a plan)"
        frame = tb.tb_frame.f_locals
        if self.run == self._loop:
            step = self.steps[frame["k"]]
            values = {f"v{i}": frame["vals"][i] for i in step.inputs}
        else:
            step, values = self.steps[self.line_of_step[tb.tb_lineno]], frame
        shapes = ", ".join(f"{x.name}: {np.shape(values.get(f'v{i}'))}"
                           for x, i in zip(step.op.inputs, step.inputs))
        return f"(raised while computing {step.op.name}, a {step.op.type} op, from {shapes or 'no inputs'})"


def check_feed(t: Tensor, value: Any) -> np.ndarray:
    """``value`` as an array of ``t``'s dtype, or an error if its shape cannot be ``t``'s."""
    try:
        same = type(value) is np.ndarray and value.dtype == t.dtype
        arr = value if same else np.asarray(value, dtype=t.dtype)
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"Cannot convert the value fed for {t.name} to {t.dtype}: {e}. "
            f"Feed a number or an array (got {type(value).__name__})."
        ) from None
    if arr.ndim != len(t.shape) or any(d is not None and d != n for d, n in zip(t.shape, arr.shape)):
        raise ValueError(
            f"Cannot feed value of shape {arr.shape} for placeholder {t.name}, "
            f"which has shape {t.shape}"
        )
    return arr


def _check_tensor(t: Any, role: str) -> Tensor:
    if not isinstance(t, Tensor):
        raise TypeError(f"Every {role} must be a Tensor, got {type(t).__name__}: {t!r}")
    if not t.graph.alive:
        raise ValueError(
            f"Tensor {t.name} belongs to a graph discarded by K.clear_session() / "
            "reset_default_graph(); rebuild it in the current graph."
        )
    return t


def _normalize_updates(updates: Sequence[Update | Tensor]) -> list[Update]:
    out: list[Update] = []
    for u in updates:
        if isinstance(u, Op):
            u = u.y
        if isinstance(u, Tensor) and isinstance(u.op, AssignOp):
            out.append((u.op.variable, _check_tensor(u, "update")))
        elif isinstance(u, tuple) and len(u) == 2 and isinstance(u[0], Variable):
            var = _check_tensor(u[0], "updated variable")
            value = _check_tensor(as_tensor(u[1], var.dtype), "update value")
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


def _coerce_update(var: Variable, value: Any, copy: bool) -> tuple[Variable, np.ndarray]:
    if not copy and type(value) is np.ndarray and value.shape == var.shape and value.dtype == var.value.dtype:
        return var, value  # the usual case, checked cheaply
    arr = np.array(value, dtype=var.dtype) if copy else np.asarray(value, dtype=var.dtype)
    if arr.shape != var.shape:
        try:
            arr = np.broadcast_to(arr, var.shape).copy()
        except ValueError:
            raise ValueError(
                f"The update of variable {var.name} computed a value of shape {arr.shape}, "
                f"but the variable has shape {var.shape}. No variable was changed."
            ) from None
    return var, arr
