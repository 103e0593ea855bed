"""How a plan runs fast: its steps written out as one straight-line Python function.

Optional reading: ``plan.py`` says what a run means, and this pass must agree with its
reference loop. The same steps become lines such as ``v7 = np.add(v3, v5)``, on local
variables: no loop, no list, no method lookups. Three more savings, each decided once here:

- an op that is one NumPy call (its ``kernel``) is called as that; arithmetic on scalars
  is written with Python's operators (``v3 * v4``), which skip NumPy's ufunc machinery;
- ``del`` lets an intermediate go after its last use, and ``out=`` *donates* a dying array
  that the plan made itself to an op that can write its result into it (``inplace``);
- a fetched value or an update's new value is copied only if it may be shared: a fed array,
  a variable's own array, a view of one, or an array already handed out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .ops.state import Assign

if TYPE_CHECKING:
    from .plan import Plan

#: A plan with more steps than this runs as a loop over its steps instead of compiled
#: source: Python's compiler takes ~15 us a line, too long for ten thousand scalar ops.
COMPILE_LIMIT = 2_000

_OPERATORS = {np.add: "+", np.subtract: "-", np.multiply: "*", np.divide: "/"}


class CompiledPlan:
    """``run(vals)`` does what ``plan.execute(vals)`` does, for the fetch and update slots.

    ``into[k]`` is the slot whose array step ``k`` writes its result into, or -1;
    ``fetch_copies`` / ``update_copies`` say which results must be copied before a user
    or a variable keeps them; ``source`` is the function's text.
    """

    def __init__(self, plan: Plan) -> None:
        self.steps = plan.steps
        self.names = {s: t.name.replace("\n", " ") for t, s in plan.slots.items()}
        made = {step.out for step in self.steps
                if not step.op.returns_view and not isinstance(step.op, Assign)}
        made -= set(plan.feed_slots.values())
        self.into = self._donations(made)
        self._copies(plan, made)
        self.calls: list[Callable[..., Any]] = [step.op.kernel() or step.op.forward for step in self.steps]
        self.line_of_step: dict[int, int] = {}
        self.source = self._write()
        if len(self.steps) > COMPILE_LIMIT:
            self.run: Callable[[list[Any]], None] = self._loop
            return
        namespace: dict[str, Any] = {"np": np, **{f"f{k}": fn for k, fn in enumerate(self.calls)}}
        exec(compile(self.source, "<plan>", "exec"), namespace)  # our own source, written above
        self.run = namespace["run"]

    def _donations(self, made: set[int]) -> list[int]:
        """Per step, an input slot the op may overwrite with its result, or -1: one the plan
        made, read by no later step, by no view or Assign (which would share it)."""
        shared = {i for step in self.steps if step.op.returns_view or isinstance(step.op, Assign)
                  for i in step.inputs}
        owned = made - shared
        into = []
        for step in self.steps:
            ok = [step.inputs[i] for i in step.op.inplace if step.op.can_write_into(i)]
            into.append(next((s for s in ok if s in owned and s in step.free), -1))
        return into

    def _copies(self, plan: Plan, made: set[int]) -> None:
        """Which fetches and new values are copied. An Assign hands on its value's own
        array, so what counts is where that came from; two variables (or a variable and a
        fetch) never share one array."""
        passed_on = {step.out: step.inputs[1] for step in self.steps if isinstance(step.op, Assign)}

        def origin(s: int) -> int:
            while s in passed_on:
                s = passed_on[s]
            return s

        taken: set[int] = set()
        self.update_copies = []
        for _, s in plan.update_slots:
            self.update_copies.append(origin(s) not in made or origin(s) in taken)
            taken.add(origin(s))
        self.fetch_copies = [origin(s) not in made or origin(s) in taken for s in plan.fetch_slots]

    def _write(self) -> str:
        """The source: the inputs read from ``vals``, one line per step, results written back."""
        lines = ["def run(vals):"]
        produced = {step.out for step in self.steps}
        read = sorted({i for step in self.steps for i in step.inputs} - produced)
        lines += [f"    v{s} = vals[{s}]  # {self.names[s]}" for s in read]
        for k, step in enumerate(self.steps):
            self.line_of_step[len(lines) + 1] = k
            lines.append(f"    v{step.out} = {self._expression(k)}  # {step.op.type} {self.names[step.out]}")
            if step.free:
                lines.append(f"    del {', '.join(f'v{s}' for s in step.free)}")
        freed = {s for step in self.steps for s in step.free}
        lines += [f"    vals[{s}] = v{s}" for s in sorted(produced - freed)]
        lines.append("    return")  # a plan may have no steps at all
        return "\n".join(lines) + "\n"

    def _expression(self, k: int) -> str:
        """What step ``k``'s line computes: ``np.add(v2, v5, out=v2)``, ``v2 * v5``, ``f3(v2)``."""
        step, fn = self.steps[k], self.calls[k]
        if isinstance(step.op, Assign):
            return f"v{step.inputs[1]}"  # the new value is passed on as it is
        if fn in _OPERATORS and step.op.y.shape == ():
            return f" {_OPERATORS[fn]} ".join(f"v{i}" for i in step.inputs)
        args = [f"v{i}" for i in step.inputs] + ([f"out=v{self.into[k]}"] if self.into[k] >= 0 else [])
        name = f"np.{fn.__name__}" if isinstance(fn, np.ufunc) else f"f{k}"
        return f"{name}({', '.join(args)})"

    def _loop(self, vals: list[Any]) -> None:
        """What the source does, for a plan too long to compile: one step at a time."""
        for k, (step, fn) in enumerate(zip(self.steps, self.calls)):
            args = [vals[i] for i in step.inputs]
            if self.into[k] >= 0:
                vals[step.out] = fn(*args, out=vals[self.into[k]])
            else:
                vals[step.out] = fn(*args)
            for s in step.free:
                vals[s] = None

    def failed_step(self, error: BaseException) -> tuple[Any, list[Any]] | None:
        """The op that raised ``error`` inside ``run`` and its arguments (from the traceback)."""
        code = self.run.__code__
        tb = error.__traceback__
        while tb is not None and tb.tb_frame.f_code is not code:
            tb = tb.tb_next
        if tb is None:
            return None
        frame = tb.tb_frame.f_locals
        if self.run == self._loop:
            step = self.steps[frame["k"]]
            return step.op, [frame["vals"][i] for i in step.inputs]
        step = self.steps[self.line_of_step[tb.tb_lineno]]
        return step.op, [frame.get(f"v{i}") for i in step.inputs]


Results = tuple[list[Any], list[Any]]


def reference_results(plan: Plan, vals: list[Any]) -> Results:
    """The reference loop's results on a copy of ``vals``, random generators rewound after,
    so that the compiled run that follows draws the same numbers."""
    rngs = [(rng, rng.bit_generator.state) for step in plan.steps
            if (rng := getattr(step.op, "rng", None)) is not None]
    copy = vals.copy()
    plan.execute(copy)
    for rng, state in rngs:
        rng.bit_generator.state = state
    return plan.finish(copy)


def check_agreement(plan: Plan, expected: Results, got: Results) -> None:
    """Refuse a compiled run whose fetches or new values differ from the reference loop's in
    any bit, dtype or shape (``Plan.check_compiled``: the test suite runs every plan both ways)."""
    names = [t.name for t in plan.fetches] + [f"the new value of {v.name}" for v, _ in plan.updates]
    want = expected[0] + [v for _, v in expected[1]]
    have = got[0] + [v for _, v in got[1]]
    for name, a, b in zip(names, want, have):
        a, b = np.asarray(a), np.asarray(b)
        same = a.dtype == b.dtype and a.shape == b.shape
        if not same or not np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"):
            raise AssertionError(f"{plan!r}: the compiled run and the reference loop disagree on {name}:\n"
                                 f"reference {a.dtype} {a!r}\ncompiled  {b.dtype} {b!r}\n{plan.source}")
