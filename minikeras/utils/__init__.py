"""Keras's ``keras.utils``: the helpers Keras 2 programs reach for first.

``import minikeras`` loads this package, so ``keras.utils.to_categorical`` works after a plain
``import minikeras as keras``. The submodules are Keras 2.2's import paths:

- ``np_utils``: ``to_categorical``, ``normalize``
- ``generic_utils``: ``Progbar``, ``CustomObjectScope``, ``custom_object_scope``, ``get_custom_objects``
- ``data_utils``: ``get_file``, ``Sequence``, ``validate_file``
- ``layer_utils``: ``get_source_inputs``, ``count_params``, ``print_summary``

``plot_model`` is ``minikeras.viz.plot_model``, handed on as ``keras.utils`` does.
"""

from ..viz import plot_model
from . import data_utils, generic_utils, layer_utils, np_utils
from .data_utils import Sequence, get_file
from .generic_utils import CustomObjectScope, Progbar, custom_object_scope, get_custom_objects
from .layer_utils import get_source_inputs, print_summary
from .np_utils import normalize, to_categorical

__all__ = ["CustomObjectScope", "Progbar", "Sequence", "custom_object_scope", "data_utils",
           "generic_utils", "get_custom_objects", "get_file", "get_source_inputs", "layer_utils",
           "normalize", "np_utils", "plot_model", "print_summary", "to_categorical"]
