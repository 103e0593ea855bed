"""``keras.engine.topology``: the Keras 2.0-2.1 path of the engine's names, kept as an alias.

Custom-layer code from 2017-2019 writes ``from keras.engine.topology import Layer``; the
names really live in ``minikeras.engine``.
"""

from . import Input, InputLayer, Layer, Network, Node
from .network import get_source_inputs

__all__ = ["Input", "InputLayer", "Layer", "Network", "Node", "get_source_inputs"]
