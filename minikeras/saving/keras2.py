"""Layer class names of older Keras 2 files, mapped to the names minikeras builds.

Keras 2.0-2.2 accepted (and some files record) aliases such as ``Convolution2D`` and the
``Merge`` layer of Keras 1, whose ``mode`` chose the operation. Each is mapped only where the
meaning is unambiguous; anything else is an error naming the layer and the field.
"""

from __future__ import annotations

from typing import Any

RENAMED = {"Convolution2D": "Conv2D", "MaxPool2D": "MaxPooling2D", "AvgPool2D": "AveragePooling2D",
           "GlobalAvgPool2D": "GlobalAveragePooling2D", "GlobalMaxPool2D": "GlobalMaxPooling2D"}

#: ``Merge(mode=...)`` as the merge layer that computes the same.
_MERGE_MODES = {"sum": "Add", "mul": "Multiply", "ave": "Average", "max": "Maximum",
                "concat": "Concatenate", "dot": "Dot"}


def legacy_layer(class_name: str, config: Any) -> tuple[str, Any]:
    """``(class_name, config)`` with Keras 2's old names replaced by today's."""
    if class_name in RENAMED:
        return RENAMED[class_name], config
    if class_name != "Merge" or not isinstance(config, dict):
        return class_name, config
    name = config.get("name", "?")
    mode = config.get("mode")
    if not isinstance(mode, str) or mode not in _MERGE_MODES or config.get("mode_type", "raw") != "raw":
        raise ValueError(f"Layer {name!r} (Merge) has mode={mode!r}: only the modes "
                         f"{sorted(_MERGE_MODES)} map to a merge layer (a function as mode would be "
                         "code from the file).")
    if config.get("layers"):
        raise ValueError(f"Layer {name!r} (Merge) merges the models in its field 'layers' (Keras 1's "
                         "Sequential branches): rebuild it as a functional model.")
    out: dict[str, Any] = {"name": name}
    if "trainable" in config:
        out["trainable"] = config["trainable"]
    if mode == "concat":
        out["axis"] = config.get("concat_axis", -1)
    if mode == "dot":
        out["axes"] = config.get("dot_axes", -1)
    return _MERGE_MODES[mode], out
