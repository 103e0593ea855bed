"""UpSampling, ZeroPadding and Cropping in 1, 2 and 3 spatial axes: layers with no weights that
change an image's size (decoders, U-Nets, and matching sizes before a ``concatenate``)."""

from __future__ import annotations

from typing import Any

from .. import backend as K
from ..engine import Layer
from ..graph import Tensor
from .convolutional import normalize_tuple, spatial_of, with_spatial

Shape = tuple[int | None, ...]
Pairs = tuple[tuple[int, int], ...]


def normalize_pairs(value: Any, n: int, name: str) -> Pairs:
    """``1`` -> ``((1, 1),) * n``; ``(1, 2)`` -> ``((1, 1), (2, 2))`` for ``n > 1``; pairs as given."""
    if isinstance(value, int):
        return ((value, value),) * n
    items = tuple(value)
    if n == 1 and len(items) == 2 and all(isinstance(v, int) for v in items):
        return ((items[0], items[1]),)
    if len(items) != n:
        raise ValueError(f"`{name}` should have {n} elements. Found: {value}")
    pairs = tuple((v, v) if isinstance(v, int) else normalize_tuple(v, 2, f"{name} entry") for v in items)
    if any(a < 0 or b < 0 for a, b in pairs):
        raise ValueError(f"`{name}` must be >= 0, got {value}")
    return tuple((int(a), int(b)) for a, b in pairs)


class _Resample(Layer):
    """Base: a rank, a data format, and the layer's spatial axes."""

    rank = 2

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = K.normalize_data_format(data_format)

    def axes(self) -> range:
        first = 1 if self.data_format == "channels_last" else 2
        return range(first, first + self.rank)

    def compute_output_shape(self, input_shape: Shape) -> Shape:
        channels = input_shape[-1] if self.data_format == "channels_last" else input_shape[1]
        spatial = tuple(self.resized(n, i) for i, n in enumerate(spatial_of(input_shape, self.data_format)))
        return with_spatial(input_shape[0], spatial, channels, self.data_format)

    def resized(self, n: int | None, i: int) -> int | None:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class _UpSampling(_Resample):
    """Each pixel repeated ``size`` times along each spatial axis (nearest-neighbour upsampling)."""

    def __init__(self, size: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)
        self.size = normalize_tuple(size, self.rank, "size")

    def resized(self, n: int | None, i: int) -> int | None:
        return None if n is None else n * self.size[i]

    def call(self, inputs: Tensor) -> Tensor:
        out = inputs
        for axis, factor in zip(self.axes(), self.size):
            out = K.repeat_elements(out, factor, axis)
        return out

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size}


class UpSampling1D(_UpSampling):
    """Each step of ``(batch, steps, features)`` repeated ``size`` times."""

    rank = 1

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(size, "channels_last", **kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "size": self.size[0]}


class UpSampling2D(_UpSampling):
    """Rows and columns repeated (``"nearest"``) or interpolated (``"bilinear"``, TF 1's rule)."""

    rank = 2

    def __init__(self, size: Any = (2, 2), data_format: str | None = None, interpolation: str = "nearest",
                 **kwargs: Any) -> None:
        super().__init__(size, data_format, **kwargs)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError('interpolation should be one of "nearest" or "bilinear".')
        self.interpolation = interpolation

    def call(self, inputs: Tensor) -> Tensor:
        return K.resize_images(inputs, self.size[0], self.size[1], self.data_format,
                               interpolation=self.interpolation)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(_UpSampling):
    """Each voxel repeated ``size`` times along depth, rows and columns."""

    rank = 3

    def __init__(self, size: Any = (2, 2, 2), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(size, data_format, **kwargs)


class _ZeroPadding(_Resample):
    """Zeros added before and after each spatial axis: ``padding`` pairs ``(before, after)``."""

    def __init__(self, padding: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)
        self.padding = normalize_pairs(padding, self.rank, "padding")

    def resized(self, n: int | None, i: int) -> int | None:
        return None if n is None else n + sum(self.padding[i])

    def call(self, inputs: Tensor) -> Tensor:
        if self.rank == 1:
            return K.temporal_padding(inputs, self.padding[0])
        if self.rank == 2:
            return K.spatial_2d_padding(inputs, self.padding, self.data_format)
        return K.spatial_3d_padding(inputs, self.padding, self.data_format)

    def get_config(self) -> dict[str, Any]:
        padding: Any = self.padding[0] if self.rank == 1 else self.padding
        return {**super().get_config(), "padding": padding}


class ZeroPadding1D(_ZeroPadding):
    """Zeros before and after the steps: ``padding`` an int or ``(before, after)``.

    ``data_format`` is accepted for files Keras 3 wrote (it always says ``"channels_last"``
    there); Keras 2.2's layer has none, so the config leaves it out."""

    rank = 1

    def __init__(self, padding: Any = 1, data_format: str = "channels_last", **kwargs: Any) -> None:
        if data_format != "channels_last":
            raise ValueError(f"ZeroPadding1D pads (batch, steps, features) inputs: data_format must be "
                             f"'channels_last', got {data_format!r}")
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Zeros around an image: an int, ``(rows, cols)``, or ``((top, bottom), (left, right))``."""

    rank = 2

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Zeros around a volume: an int, three ints, or three ``(before, after)`` pairs."""

    rank = 3

    def __init__(self, padding: Any = (1, 1, 1), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(padding, data_format, **kwargs)


class _Cropping(_Resample):
    """``cropping`` pairs ``(before, after)`` removed from each spatial axis (a slice)."""

    def __init__(self, cropping: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format, **kwargs)
        self.cropping = normalize_pairs(cropping, self.rank, "cropping")

    def resized(self, n: int | None, i: int) -> int | None:
        return None if n is None else n - sum(self.cropping[i])

    def call(self, inputs: Tensor) -> Tensor:
        shape = K.int_shape(inputs)
        key: list[slice] = [slice(None)] * len(shape)
        for axis, (before, after) in zip(self.axes(), self.cropping):
            size = shape[axis]
            if size is not None and before + after >= size:
                raise ValueError(f"{self.name}: cropping {self.cropping} leaves nothing of an input of "
                                 f"shape {shape}")
            key[axis] = slice(before, -after if after else None)
        return inputs[tuple(key)]

    def get_config(self) -> dict[str, Any]:
        cropping: Any = self.cropping[0] if self.rank == 1 else self.cropping
        return {**super().get_config(), "cropping": cropping}


class Cropping1D(_Cropping):
    """Steps cut from the start and end of ``(batch, steps, features)``."""

    rank = 1

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(cropping, "channels_last", **kwargs)


class Cropping2D(_Cropping):
    """Rows and columns cut from an image's borders (to match a skip connection's size)."""

    rank = 2

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Voxels cut from a volume's borders."""

    rank = 3

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(cropping, data_format, **kwargs)
