"""Testing helpers for minikeras and for course assignments built on it.

``check_gradients`` compares symbolic gradients with central differences; the strategies
generate shapes, arrays kept away from kinks, random expression graphs and random ``K``
programs (with a NumPy interpreter of each) for hypothesis.
"""

from .gradcheck import GradientCheck, check_gradients
from .programs import OPS, Program, programs
from .strategies import Expression, arrays, broadcastable_shapes, expression_graphs, shapes

__all__ = [
    "OPS",
    "Expression",
    "GradientCheck",
    "Program",
    "arrays",
    "broadcastable_shapes",
    "check_gradients",
    "expression_graphs",
    "programs",
    "shapes",
]
