"""Loops: ``K.rnn`` (Keras 2.2's contract), ``K.map_fn``, ``K.foldl``, ``K.foldr``.

``unroll=True`` builds the step ``T`` times as ordinary ops (the Theano/Keras unrolled graph,
``T`` must be known); otherwise the step is built once as the body of one ``Loop`` op. Both
give the same numbers; the loop's gradient is a loop too (backpropagation through time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .. import graph as G
from .ops import switch

Tensor = G.Tensor
StepFunction = Callable[[Tensor, list[Tensor]], tuple[Tensor, Sequence[Tensor]]]


def _time_major(x: Tensor) -> Tensor:
    return G.transpose(x, (1, 0, *range(2, x.ndim)))


def _masked(mask_t: Tensor | None, output: Tensor, new_states: Sequence[Tensor],
            states: Sequence[Tensor]) -> tuple[Tensor, list[Tensor]]:
    """A masked step leaves the states as they were and outputs the first state (Keras)."""
    if mask_t is None:
        return output, list(new_states)
    output = switch(mask_t, output, states[0]) if states else output
    return output, [switch(mask_t, new, old) for new, old in zip(new_states, states)]


def rnn(step_function: StepFunction, inputs: Tensor, initial_states: Sequence[Tensor],
        go_backwards: bool = False, mask: Tensor | None = None, constants: Sequence[Tensor] | None = None,
        unroll: bool = False, input_length: int | None = None) -> tuple[Tensor, Tensor, list[Tensor]]:
    """Iterate ``step_function`` over the time axis (axis 1) of ``inputs``.

    ``step_function(input_t, states + constants)`` returns ``(output_t, new_states)``.
    Returns ``(last_output, outputs, new_states)``; ``outputs`` is ``(batch, time, ...)``, in
    the order the steps ran (reversed with ``go_backwards``, as in Keras). A ``mask``
    ``(batch, time)`` makes masked steps carry their states over unchanged.
    """
    if inputs.ndim < 3:
        raise ValueError(f"K.rnn needs inputs of at least 3 dimensions (batch, time, ...); "
                         f"{inputs.name} has shape {inputs.shape}.")
    constants = list(constants or [])
    states = list(initial_states)
    seq = _time_major(inputs)
    steps_mask = None if mask is None else G.transpose(G.cast(mask, "bool"), (1, 0))
    if go_backwards:
        seq = seq[::-1]
        steps_mask = None if steps_mask is None else steps_mask[::-1]
    if unroll:
        return _unrolled(step_function, seq, states, steps_mask, constants, input_length)

    def step(slices: list[Tensor], carried: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        output, new_states = step_function(slices[0], carried + constants)
        output, new = _masked(slices[1] if len(slices) > 1 else None, output, new_states, carried)
        return [output], new

    sequences = [seq] if steps_mask is None else [seq, steps_mask]
    (outputs,), finals = G.loop(step, sequences, states, name="rnn")
    return outputs[-1], _time_major(outputs), finals


def _unrolled(step_function: StepFunction, seq: Tensor, states: list[Tensor], mask: Tensor | None,
              constants: list[Tensor], input_length: int | None) -> tuple[Tensor, Tensor, list[Tensor]]:
    steps = seq.shape[0] if seq.shape[0] is not None else input_length
    if steps is None:
        raise ValueError("Unrolling requires a fixed number of timesteps: give the input a static "
                         "time dimension (Input(shape=(T, features))) or pass input_length.")
    outputs = []
    for t in range(steps):
        output, new_states = step_function(seq[t], states + constants)
        output, states = _masked(None if mask is None else mask[t], output, new_states, states)
        outputs.append(output)
    stacked = G.stack(outputs, axis=1)
    return outputs[-1], stacked, states


def map_fn(fn: Callable[[Tensor], Tensor], elems: Any, name: str | None = None,
           dtype: str | None = None) -> Tensor:
    """``fn`` applied to each element of ``elems`` along its first axis, results stacked."""
    (out,), _ = G.loop(lambda xs, _: ([fn(xs[0])], []), [elems], name=name or "map")
    return out if dtype is None or out.dtype == dtype else G.cast(out, dtype)


def _fold(fn: Callable[[Tensor, Tensor], Tensor], elems: Any, initializer: Any, reverse: bool,
          name: str) -> Tensor:
    elems = G.as_tensor(elems)
    if initializer is None:  # the first element (last, folding from the right) starts it
        initializer, elems = (elems[-1], elems[:-1]) if reverse else (elems[0], elems[1:])
    _, (acc,) = G.loop(lambda xs, acc: ([], [fn(acc[0], xs[0])]), [elems], [initializer],
                       reverse=reverse, name=name)
    return acc


def foldl(fn: Callable[[Tensor, Tensor], Tensor], elems: Any, initializer: Any = None,
          name: str | None = None) -> Tensor:
    """``fn(acc, x)`` over ``elems`` from the first element to the last; the final ``acc``."""
    return _fold(fn, elems, initializer, False, name or "foldl")


def foldr(fn: Callable[[Tensor, Tensor], Tensor], elems: Any, initializer: Any = None,
          name: str | None = None) -> Tensor:
    """``fn(acc, x)`` over ``elems`` from the last element to the first; the final ``acc``."""
    return _fold(fn, elems, initializer, True, name or "foldr")
