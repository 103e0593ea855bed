"""The graph: where ops live, how they get unique names, and name scopes.

There is one *default graph* at a time. Building a tensor adds an op to it; nothing is
computed. ``reset_default_graph()`` (what ``K.clear_session()`` calls) retires the graph and
starts a fresh one, so names start again at ``MatMul``, ``dense_1``, ...
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .op import Op


class _Names(threading.local):
    """One thread's naming state in a graph (``__init__`` runs once in each thread): its
    scope, the names it used, its layer uids. Per thread, as in TF1: models built in
    threads get the names they would get alone."""

    def __init__(self) -> None:
        self.scope = ""
        self.in_use: dict[str, int] = {}
        self.uids: dict[str, int] = {}


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
        self._names = _Names()

    def unique_name(self, name: str) -> str:
        """Return ``name`` (already scoped), made unique: ``a``, ``a_1``, ``a_2``, ..."""
        in_use = self._names.in_use
        count = in_use.get(name, 0)
        in_use[name] = count + 1
        if count == 0:
            return name
        base = name
        while name in in_use:
            name = f"{base}_{count}"
            count += 1
        in_use[name] = 1
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
        uids = self._names.uids
        uids[prefix] = uids.get(prefix, 0) + 1
        return uids[prefix]

    def reset_uids(self) -> None:
        self._names.uids.clear()

    def add_op(self, op: Op) -> None:
        if not self.alive:
            raise RuntimeError(
                "This graph was discarded by K.clear_session() / reset_default_graph(); "
                "build new ops in the current default graph."
            )
        self.ops.append(op)

    def __repr__(self) -> str:
        return f"<Graph with {len(self.ops)} ops{'' if self.alive else ' discarded'}>"


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
