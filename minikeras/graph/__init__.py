"""Floor 0: the symbolic graph, its primitives, ``gradients`` and the plan that runs it."""

from . import ops
from .gradients import gradients
from .graph import Graph, get_default_graph, name_scope, reset_default_graph
from .op import NotDifferentiableError, Op
from .ops import *  # noqa: F403
from .plan import Plan, check_feed
from .tensor import Shape, Tensor
from .topo import topo_sort

__all__ = [
    "Graph", "NotDifferentiableError", "Op", "Plan", "Shape", "Tensor", "check_feed",
    "get_default_graph", "gradients", "name_scope", "reset_default_graph", "topo_sort",
]
__all__ += ops.BUILDERS
