"""How a plan runs fast: its steps written out as one straight-line Python function.

Optional reading: ``plan.py`` says what a run means, and this pass must agree with its
reference loop. The same steps become lines such as ``v7 = np.add(v3, v5)``, on local
variables: no loop, no list, no method lookups. More savings, each decided once here:

- an op that is one NumPy call (its ``kernel``) is called as that; arithmetic on scalars
  is written with Python's operators (``v3 * v4``), which skip NumPy's ufunc machinery;
- ``del`` lets an intermediate go after its last use, and ``out=`` *donates* a dying array
  that the plan made itself to an op that can write its result into it (``inplace``), if
  that array is in C order: NumPy then makes a fresh result in C order too, whatever the
  other inputs' layout. (A result in a transposed donor's layout would be summed later in
  another order than the reference loop's fresh one, and differ in the last bit.)
- a fetched value or an update's new value is copied only if it may be shared: a fed array,
  a variable's own array, a view of one, or an array already handed out;
- the first run is a loop that notes each result's size; a step whose result was big then
  writes it into a buffer kept from the run before (``kept.py``): no fresh pages per run;
- a convolution whose rows only its product reads (no gradient needs them) becomes one step
  that works through the batch in chunks (``fuse_convolutions``): the same numbers, a fraction
  of the memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .kept import KEEP_FROM_BYTES, Kept, takes_out
from .ops.array import Reshape
from .ops.linalg import MatMul
from .ops.patches import Im2Col
from .ops.reduce import Sum
from .ops.state import Assign

if TYPE_CHECKING:
    from .plan import Plan, Step

#: Steps per compiled function: Python's compiler takes ~15 us a line, and a longer plan is
#: compiled in pieces of this many steps, on its second run.
COMPILE_LIMIT = 2_000

_OPERATORS = {np.add: "+", np.subtract: "-", np.multiply: "*", np.divide: "/"}


class CompiledPlan:
    """``run(vals)`` does what ``plan.execute(vals)`` does, for the fetch and update slots.

    ``into[k]`` is the slot whose array step ``k`` writes its result into, or -1;
    ``fetch_copies`` / ``update_copies`` say which results must be copied before a user
    or a variable keeps them; ``source`` is the function's text.
    """

    def __init__(self, plan: Plan) -> None:
        self.steps, fused = fuse_convolutions(plan.steps)
        self.names = {s: t.name.replace("\n", " ") for t, s in plan.slots.items()}
        made = {step.out for step in self.steps
                if not step.op.returns_view and not isinstance(step.op, Assign)}
        made -= set(plan.feed_slots.values())
        self.into = self._donations(made)
        self.handed_out = set(plan.fetch_slots) | {s for _, s in plan.update_slots}
        self._copies(plan, made)
        self.calls: list[Callable[..., Any]] = [fused.get(k) or step.op.kernel() or step.op.forward
                                                for k, step in enumerate(self.steps)]
        self.c_order = self._c_order_slots(set(fused))
        # Past COMPILE_LIMIT steps the source is cut into functions of that many steps each.
        n, limit = len(self.steps), max(COMPILE_LIMIT, 1)
        self.chunks = [(a, min(a + limit, n)) for a in range(0, n, limit)] or [(0, 0)]
        self._write_source()
        # The first run is a loop that notes each result's size (``_keep_big``); the second
        # compiles: a plan run once (K.eval) never pays for compiling.
        self.run: Callable[[list[Any]], None] = self._loop

    def _write_source(self) -> None:
        self.line_of_step: dict[tuple[str, int], int] = {}
        parts = [self._write(a, b, "run" if len(self.chunks) == 1 else f"run_{j}")
                 for j, (a, b) in enumerate(self.chunks)]
        if len(self.chunks) > 1:
            parts.append("def run(vals):\n" + "".join(f"    run_{j}(vals)\n" for j in range(len(parts))))
        self.source = "".join(parts)

    def _keep_big(self, sizes: list[int]) -> None:
        """Give each step whose result was big on the first run a buffer kept between runs
        (``kept.py``), if its function takes ``out=`` and the array stays the plan's own: no
        fetch or new value may be it (through later steps writing into it, views, Assigns),
        and it is no view, nor written into a dying input already."""
        array_of = _shared_arrays(self.steps, self.into)
        handed = {array_of(s) for s in self.handed_out}
        big = [k for k, (step, size) in enumerate(zip(self.steps, sizes))
               if size >= KEEP_FROM_BYTES and array_of(step.out) not in handed and self.into[k] < 0
               and not step.op.returns_view and not isinstance(step.op, Assign) and takes_out(self.calls[k])]
        for k in big:
            fn = self.calls[k]  # read once: two threads' first runs may both get here
            self.calls[k] = fn if isinstance(fn, Kept) else Kept(fn)
        if big:
            self._write_source()

    def _compiled(self) -> Callable[[list[Any]], None]:
        namespace: dict[str, Any] = {"np": np, **{f"f{k}": fn for k, fn in enumerate(self.calls)}}
        exec(compile(self.source, "<plan>", "exec"), namespace)  # our own source, written above
        self.codes = {namespace[name].__code__: name for name in namespace if name.startswith("run")}
        return namespace["run"]

    def _donations(self, made: set[int]) -> list[int]:
        """Per step, an input slot the op may overwrite with its result, or -1: one the plan
        made (or a reshape of one that nothing else reads), read by no later step, by no view
        or Assign (which would share it)."""
        shared = {i for step in self.steps if step.op.returns_view or isinstance(step.op, Assign)
                  for i in step.inputs}
        owned = (made | _sole_reshapes(self.steps, made)) - shared
        into = []
        for step in self.steps:
            ok = [step.inputs[i] for i in step.op.inplace if step.op.can_write_into(i)]
            into.append(next((s for s in ok if s in owned and s in step.free), -1))
        return into

    def _c_order_slots(self, fused: set[int]) -> set[int]:
        """Slots surely in C order, whose donation needs no check at run time: a 2-D MatMul's
        product (NumPy makes it so), a vector summed from a matrix (fresh, so contiguous), and
        a ufunc's result written into such an array."""
        known: set[int] = set()
        for k, (step, fn, into) in enumerate(zip(self.steps, self.calls, self.into)):
            fresh = k not in fused and ((isinstance(step.op, MatMul) and len(step.op.y.shape) == 2)
                             or (isinstance(step.op, Sum) and len(step.op.y.shape) == 1))
            if fresh or (into in known and isinstance(fn, np.ufunc)):
                known.add(step.out)
        return known

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

    def _write(self, first: int, last: int, name: str) -> str:
        """The source of steps ``first`` to ``last``: their inputs read from ``vals``, one line
        per step, the results a later step or the caller needs written back."""
        steps = self.steps[first:last]
        lines = [f"def {name}(vals):"]
        produced = {step.out for step in steps}
        read = sorted({i for step in steps for i in step.inputs} - produced)
        lines += [f"    v{s} = vals[{s}]  # {self.names[s]}" for s in read]
        freed = {s for step in steps for s in step.free}
        if first > 0 or last < len(self.steps):  # let go of the list's reference too
            lines += [f"    vals[{s}] = None" for s in read if s in freed]
        for k in range(first, last):
            step = self.steps[k]
            self.line_of_step[name, len(lines) + 1] = k
            note = f"{step.op.type} {self.names[step.out]}"
            note += " (into a buffer kept between runs)" if isinstance(self.calls[k], Kept) else ""
            lines.append(f"    v{step.out} = {self._expression(k)}  # {note}")
            if step.free:
                lines.append(f"    del {', '.join(f'v{s}' for s in step.free)}")
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
        args = [f"v{i}" for i in step.inputs]
        if self.into[k] >= 0:
            d = self.into[k]
            checked = "" if d in self.c_order else f" if v{d}.flags.c_contiguous else None"
            args.append(f"out=v{d}{checked}")
        name = f"np.{fn.__name__}" if isinstance(fn, np.ufunc) else f"f{k}"
        return f"{name}({', '.join(args)})"

    def _loop(self, vals: list[Any]) -> None:
        """What the source does, one step at a time: the first run (then compiled)."""
        sizes = []
        for k, (step, fn) in enumerate(zip(self.steps, self.calls)):
            args = [vals[i] for i in step.inputs]
            if self.into[k] >= 0 and vals[self.into[k]].flags.c_contiguous:
                vals[step.out] = fn(*args, out=vals[self.into[k]])
            else:
                vals[step.out] = fn(*args)
            sizes.append(getattr(vals[step.out], "nbytes", 0))
            for s in step.free:
                vals[s] = None
        self._keep_big(sizes)
        self.run = self._compile_and_run  # run again: worth compiling

    def _compile_and_run(self, vals: list[Any]) -> None:
        self.run = self._compiled()
        self.run(vals)

    def failed_step(self, error: BaseException) -> tuple[Any, list[Any]] | None:
        """The op that raised ``error`` inside ``run`` and its arguments (from the traceback)."""
        codes = getattr(self, "codes", {})
        tb, found = error.__traceback__, None
        while tb is not None:  # the innermost frame of ours: a piece, not the chain calling it
            code = tb.tb_frame.f_code
            if code is _LOOP or (code in codes and (codes[code], tb.tb_lineno) in self.line_of_step):
                found = tb
            tb = tb.tb_next
        if found is None:
            return None
        frame = found.tb_frame.f_locals
        if found.tb_frame.f_code is _LOOP:
            step = self.steps[frame["k"]]
            return step.op, [frame["vals"][i] for i in step.inputs]
        step = self.steps[self.line_of_step[codes[found.tb_frame.f_code], found.tb_lineno]]
        return step.op, [frame.get(f"v{i}") for i in step.inputs]


_LOOP = CompiledPlan._loop.__code__


def _shared_arrays(steps: list[Step], into: list[int]) -> Callable[[int], int]:
    """``slot -> one slot standing for its array``: slots that may hold one array (a step
    that wrote into a dying input, a view or an Assign and their inputs) get the same one."""
    parent: dict[int, int] = {}

    def find(s: int) -> int:
        while parent.get(s, s) != s:
            s = parent[s]
        return s

    for k, step in enumerate(steps):
        same = [into[k]] if into[k] >= 0 else []
        if step.op.returns_view or isinstance(step.op, Assign):
            same += step.inputs
        for s in same:
            parent[find(s)] = find(step.out)
    return find


def _sole_reshapes(steps: list[Step], made: set[int]) -> set[int]:
    """Reshapes that are the only way left to an array the plan made (``MatMul -> Reshape ->
    BiasAdd`` in a convolution): as good as owned, so the ``BiasAdd`` may write into them."""
    readers = Counter(i for step in steps for i in step.inputs)
    found: set[int] = set()
    for step in steps:
        if isinstance(step.op, Reshape) and step.inputs[0] in made | found \
                and _read_once(step.inputs[0], step, readers):
            found.add(step.out)
    return found


def fuse_convolutions(steps: list[Step]) -> tuple[list[Step], dict[int, Callable[..., Any]]]:
    """The steps with each ``Im2Col -> Reshape -> MatMul`` whose rows nobody else reads made
    one: the ``MatMul`` step, reading the ``Im2Col``'s input, computed by ``Im2Col.rows_times``
    (in chunks past a size budget). Returns the new steps and, by new index, their functions.

    Training plans keep their rows (the filter gradient reads them): nothing changes there.
    """
    readers = Counter(i for step in steps for i in step.inputs)
    producer = {step.out: k for k, step in enumerate(steps)}
    matches = {k: _rows_product(steps, producer, readers, k) for k in range(len(steps))}
    merged = {k: pair for k, pair in matches.items() if pair is not None}  # MatMul: (Im2Col, Reshape)
    dropped = {k for pair in merged.values() for k in pair}
    new_steps: list[Step] = []
    calls: dict[int, Callable[..., Any]] = {}
    for k, step in enumerate(steps):
        if k in merged:
            rows_step = steps[merged[k][0]]
            x, flat = rows_step.inputs[0], step.inputs[0]
            free = set(rows_step.free) | set(step.free) - {flat}
            step = step._replace(inputs=(x, step.inputs[1]), free=tuple(sorted(free)))
            calls[len(new_steps)] = rows_step.op.rows_times  # type: ignore[attr-defined]
        if k not in dropped:
            new_steps.append(step)
    return new_steps, calls


def _rows_product(steps: list[Step], producer: dict[int, int], readers: Counter[int],
                  k: int) -> tuple[int, int] | None:
    """``(i, j)`` if step ``k`` is ``MatMul(Reshape_j(Im2Col_i(x)), m)`` (2-D, untransposed) and
    the rows and their reshape are read once, there; ``x`` must live until step ``k``."""
    mm = steps[k]
    if not isinstance(mm.op, MatMul) or mm.op.transpose_a or mm.op.transpose_b or mm.op.y.ndim != 2:
        return None
    j = producer.get(mm.inputs[0])
    if j is None or not isinstance(steps[j].op, Reshape) or not _read_once(mm.inputs[0], mm, readers):
        return None
    i = producer.get(steps[j].inputs[0])
    if i is None or not isinstance(steps[i].op, Im2Col) or not _read_once(steps[i].out, steps[j], readers):
        return None
    width = steps[i].op.y.shape[-1]
    if width is None or steps[j].op.y.shape[-1] != width:  # rows read as (pixels, width)
        return None
    x = steps[i].inputs[0]
    if any(x in steps[m].free for m in range(i + 1, k)) or mm.inputs[1] in (steps[i].out, steps[j].out):
        return None
    return i, j


def _read_once(slot: int, step: Step, readers: Counter[int]) -> bool:
    """Whether ``step`` is the only reader of ``slot`` and lets it go (no fetch keeps it)."""
    return readers[slot] == 1 and slot in step.free


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
