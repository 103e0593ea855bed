"""Floor 2: layers, nodes and networks of layers (Keras's "engine")."""

from .base_layer import LAYER_CLASSES, Layer, Node, to_list, unpack_singleton
from .input_layer import Input, InputLayer
from .input_spec import InputSpec
from .network import Network, get_source_inputs
from .serialization import deserialize_layer
