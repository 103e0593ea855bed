"""Testing helpers for minikeras and for course assignments built on it.

``check_gradients`` compares symbolic gradients with central differences; the strategies
generate shapes, arrays kept away from kinks, and random expression graphs for hypothesis.
"""

from .gradcheck import GradientCheck, check_gradients
from .strategies import Expression, arrays, broadcastable_shapes, expression_graphs, shapes

__all__ = [
    "Expression",
    "GradientCheck",
    "arrays",
    "broadcastable_shapes",
    "check_gradients",
    "expression_graphs",
    "shapes",
]
