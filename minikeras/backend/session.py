"""The session's state: the graph, name counters and the learning phase.

Keras keeps one learning phase per graph. It is an *input* of the graph (a scalar
placeholder named ``keras_learning_phase:0`` that defaults to 0), unless
``set_learning_phase`` fixed it to a Python int, in which case layers choose their
train or test branch while the graph is built and no switch op exists.
"""

from __future__ import annotations

import contextlib
from typing import Any

from .. import graph as G

_LEARNING_PHASES: dict[G.Graph, Any] = {}


def clear_session() -> None:
    """Discard the graph: new names from 1 again, a new learning phase.

    Tensors, layers and models built before are now unusable; rebuild them.
    """
    _LEARNING_PHASES.pop(G.get_default_graph(), None)
    G.reset_default_graph()


def get_uid(prefix: str = "") -> int:
    """1, 2, 3, ... for each ``prefix``, per graph: how ``dense_1``, ``dense_2`` are numbered."""
    return G.get_default_graph().get_uid(prefix)


def reset_uids() -> None:
    G.get_default_graph().reset_uids()


def name_scope(name: str) -> contextlib.AbstractContextManager[str]:
    return G.name_scope(name)


def learning_phase() -> Any:
    """The learning phase: a bool placeholder (0 = test, 1 = train) or a fixed int.

    Feed it like any input: ``K.function([x, K.learning_phase()], [y])([data, 1])``.
    """
    graph = G.get_default_graph()
    if graph not in _LEARNING_PHASES:
        with G.name_scope(None):  # always top level, even when first asked inside a layer
            _LEARNING_PHASES[graph] = G.placeholder_with_default(
                False, shape=(), name="keras_learning_phase"
            )
    return _LEARNING_PHASES[graph]


def set_learning_phase(value: int) -> None:
    """Fix the phase to 0 (test) or 1 (train) for graphs built from now on."""
    if value not in {0, 1}:
        raise ValueError("Expected learning phase to be 0 or 1.")
    _LEARNING_PHASES[G.get_default_graph()] = int(value)
