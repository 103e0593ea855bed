"""Images as arrays and files: ``img_to_array``, ``array_to_img``, ``load_img``, ``save_img``.

Files need Pillow, an optional extra (``pip install 'minikeras[image]'``); the error says so.
``minikeras.preprocessing.image`` is where Keras code finds these names.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..backend import image_data_format

IMAGE_EXTRA = "pip install 'minikeras[image]'"


def _pil_image() -> Any:
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError(f"Image files need Pillow, which is not installed: {IMAGE_EXTRA} "
                          "(or pip install Pillow).") from e
    return Image


def check_data_format(data_format: str | None) -> str:
    data_format = data_format or image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Unknown data_format: {data_format}. Use 'channels_last' or 'channels_first'.")
    return data_format


def img_to_array(img: Any, data_format: str | None = None, dtype: str = "float32") -> np.ndarray:
    """A Pillow image (or anything array-like) as a 3-D array ``(h, w, c)`` or ``(c, h, w)``."""
    data_format = check_data_format(data_format)
    x = np.asarray(img, dtype=dtype)
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    if x.ndim == 2:
        return x[np.newaxis] if data_format == "channels_first" else x[..., np.newaxis]
    raise ValueError(f"Unsupported image shape: {x.shape}")


def array_to_img(x: Any, data_format: str | None = None, scale: bool = True, dtype: str = "float32") -> Any:
    """A 3-D array as a Pillow image; ``scale=True`` stretches the values to 0..255 first.

    The channel count picks the mode: 1 is grey (``'L'``, or ``'I'`` for values above 255
    with ``scale=False``), 3 is ``'RGB'``, 4 is ``'RGBA'``.
    """
    image = _pil_image()
    data_format = check_data_format(data_format)
    x = np.array(x, dtype=dtype)
    if x.ndim != 3:
        raise ValueError("Expected image array to have rank 3 (single image). "
                         f"Got array with shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x + max(-np.min(x), 0)
        top = np.max(x)
        if top != 0:
            x = x / top
        x = x * 255
    channels = x.shape[2]
    if channels == 4:
        return image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


_RESAMPLE = {"nearest": 0, "bilinear": 2, "bicubic": 3, "lanczos": 1, "box": 4, "hamming": 5}


def load_img(path: str | os.PathLike[str], grayscale: bool = False, color_mode: str = "rgb",
             target_size: tuple[int, int] | None = None, interpolation: str = "nearest") -> Any:
    """An image file as a Pillow image in ``color_mode`` (``'rgb'``, ``'rgba'``, ``'grayscale'``).

    ``target_size`` is ``(height, width)`` — Pillow's own ``resize`` takes ``(width,
    height)``, the usual mix-up.
    """
    image = _pil_image()
    if grayscale:
        color_mode = "grayscale"
    modes = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
    if color_mode not in modes:
        raise ValueError(f'color_mode must be "grayscale", "rgb", or "rgba", not {color_mode!r}')
    if interpolation not in _RESAMPLE:
        raise ValueError(f"Invalid interpolation method {interpolation!r} specified. Supported "
                         f"methods are {', '.join(_RESAMPLE)}")
    with image.open(path) as opened:
        img = opened.convert(modes[color_mode]) if opened.mode != modes[color_mode] else opened.copy()
    if target_size is not None:
        size = (target_size[1], target_size[0])
        if img.size != size:
            img = img.resize(size, _RESAMPLE[interpolation])
    return img


def save_img(path: str | os.PathLike[str], x: Any, data_format: str | None = None,
             file_format: str | None = None, scale: bool = True, **kwargs: Any) -> None:
    """Save a 3-D array as an image file; written to a temporary file, then renamed into place."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=path.suffix)
    os.close(fd)
    try:
        img.save(tmp, format=file_format, **kwargs)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
