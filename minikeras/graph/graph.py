"""The graph: where ops live, how they get unique names, and name scopes.

There is one *default graph* at a time. Building a tensor adds an op to it; nothing is
computed. ``reset_default_graph()`` (what ``K.clear_session()`` calls) retires the graph and
starts a fresh one, so names start again at ``MatMul``, ``dense_1``, ...
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .op import Op


@dataclass
class _Names:
    """One thread's naming state in a graph: its scope, the names it used, its layer uids."""

    scope: str = ""
    in_use: dict[str, int] = field(default_factory=dict)
    uids: dict[str, int] = field(default_factory=dict)


class Graph:
    """A container of ops with a name registry and a name-scope stack.

    A student often expects two ops called ``MatMul`` to share the name: they never do.
    The second becomes ``MatMul_1``, the way TensorFlow 1 names them.
    """

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.alive = True
        #: Held by a run that updates variables, from reading them to assigning them.
        self.lock = threading.RLock()
        # Names are per thread, as in TF1: models built in threads get the names they
        # would get alone.
        self._local = threading.local()

    @property
    def _names(self) -> _Names:
        names = getattr(self._local, "names", None)
        if names is None:
            names = self._local.names = _Names()
        return names

    @property
    def _names_in_use(self) -> dict[str, int]:
        return self._names.in_use

    @property
    def _uids(self) -> dict[str, int]:
        return self._names.uids

    def unique_name(self, name: str) -> str:
        """Return ``name`` (already scoped), made unique: ``a``, ``a_1``, ``a_2``, ..."""
        count = self._names_in_use.get(name, 0)
        self._names_in_use[name] = count + 1
        if count == 0:
            return name
        base = name
        while name in self._names_in_use:
            name = f"{base}_{count}"
            count += 1
        self._names_in_use[name] = 1
        return name

    def scoped(self, name: str) -> str:
        """The unique full name of a new op called ``name`` in the current scope."""
        scope = self._names.scope
        return self.unique_name(f"{scope}/{name}" if scope else name)

    @contextlib.contextmanager
    def name_scope(self, name: str | None) -> Iterator[str]:
        """Open a scope; a scope entered twice gets a new name (``dense_1``, ``dense_1_1``).

        A name ending in ``/`` re-enters that exact scope instead of making a new one.
        ``None`` or ``""`` resets to the top level for the block.
        """
        names = self._names
        outer = names.scope
        if not name:
            scope = ""
        elif name.endswith("/"):
            scope = name[:-1]
        else:
            scope = self.scoped(name)
        names.scope = scope
        try:
            yield scope
        finally:
            names.scope = outer

    def get_uid(self, prefix: str = "") -> int:
        """1-based counter per prefix, for layer names like ``dense_1`` (Keras's ``get_uid``)."""
        self._uids[prefix] = self._uids.get(prefix, 0) + 1
        return self._uids[prefix]

    def reset_uids(self) -> None:
        self._uids.clear()

    def add_op(self, op: Op) -> None:
        if not self.alive:
            raise RuntimeError(
                "This graph was discarded by K.clear_session() / reset_default_graph(); "
                "build new ops in the current default graph."
            )
        self.ops.append(op)

    def __repr__(self) -> str:
        state = "" if self.alive else " discarded"
        return f"<Graph with {len(self.ops)} ops{state}>"


_default_graph = Graph()


def get_default_graph() -> Graph:
    """The graph new ops are added to."""
    return _default_graph


def reset_default_graph() -> Graph:
    """Retire the current graph (its tensors become unusable) and start a new one."""
    global _default_graph
    _default_graph.alive = False
    _default_graph = Graph()
    return _default_graph


def name_scope(name: str | None) -> contextlib.AbstractContextManager[str]:
    """``with name_scope("block"):`` ops created inside are named ``block/...``."""
    return _default_graph.name_scope(name)
