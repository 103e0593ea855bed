"""Floor 0: the symbolic graph, its primitives, ``gradients`` and the executor.

``tensor`` is imported first on purpose: the op modules need ``Tensor`` to exist.
"""

from .tensor import Shape, Tensor  # noqa: I001  (order matters, see above)
from .graph import Graph, get_default_graph, name_scope, reset_default_graph
from .op import NotDifferentiableError, Op
from .ops import *  # noqa: F403
from .ops import __all__ as _ops_all
from .gradients import gradients
from .executor import Plan, check_feed
from .topo import topo_sort

__all__ = [
    "Graph",
    "NotDifferentiableError",
    "Op",
    "Plan",
    "Shape",
    "Tensor",
    "check_feed",
    "get_default_graph",
    "gradients",
    "name_scope",
    "reset_default_graph",
    "topo_sort",
    *_ops_all,
]
