"""Keras's ``preprocessing.image``: arrays to and from image files, and ``ImageDataGenerator``.

Two optional extras, installed with ``pip install 'minikeras[image]'``: SciPy for the
geometric augmentations (rotation, shifts, shear, zoom, through ``scipy.ndimage``) and
Pillow for image files (``load_img``, ``save_img``, ``array_to_img``). Flips, rescaling
and the centring/normalisation options are NumPy only.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..backend import epsilon
from .image_io import IMAGE_EXTRA, array_to_img, check_data_format, img_to_array, load_img, save_img

__all__ = ["ImageDataGenerator", "NumpyArrayIterator", "apply_affine_transform", "array_to_img",
           "flip_axis", "img_to_array", "load_img", "save_img", "transform_matrix_offset_center"]

_FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def _ndimage() -> Any:
    try:
        from scipy import ndimage
    except ImportError as e:
        raise ImportError("Rotations, shifts, shear and zoom (rotation_range, width_shift_range, "
                          "height_shift_range, shear_range, zoom_range) need SciPy, which is not "
                          f"installed: {IMAGE_EXTRA} (or pip install scipy). Flips and rescale work "
                          "without it.") from e
    return ndimage


def transform_matrix_offset_center(matrix: np.ndarray, x: float, y: float) -> np.ndarray:
    """``matrix`` conjugated so that it turns or scales about the image centre, not the corner.

    The centre of pixels ``0..x-1`` is ``x / 2 - 0.5`` (as later keras-preprocessing has it;
    Keras 2.2 used ``x / 2 + 0.5``, one pixel off, so its 90-degree turns were not exact).
    """
    ox, oy = x / 2 - 0.5, y / 2 - 0.5
    offset = np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]])
    reset = np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1]])
    return offset @ matrix @ reset


def apply_affine_transform(x: np.ndarray, theta: float = 0, tx: float = 0, ty: float = 0,
                           shear: float = 0, zx: float = 1, zy: float = 1, row_axis: int = 0,
                           col_axis: int = 1, channel_axis: int = 2, fill_mode: str = "nearest",
                           cval: float = 0.0) -> np.ndarray:
    """One image (no batch axis) rotated by ``theta`` degrees, shifted, sheared and zoomed.

    The matrix maps an *output* pixel to the *input* pixel it reads (``scipy.ndimage``'s
    convention): ``tx=2`` makes output row ``i`` show input row ``i + 2``, so the picture
    moves up; ``zx=0.5`` reads half as far from the centre, so the picture looks twice as big.
    """
    parts = []
    if theta != 0:
        t = np.deg2rad(theta)
        parts.append(np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]]))
    if tx != 0 or ty != 0:
        parts.append(np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]]))
    if shear != 0:
        s = np.deg2rad(shear)
        parts.append(np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        parts.append(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]]))
    if not parts:
        return x
    ndimage = _ndimage()
    matrix = parts[0]
    for part in parts[1:]:
        matrix = matrix @ part
    h, w = x.shape[row_axis], x.shape[col_axis]
    matrix = transform_matrix_offset_center(matrix, h, w)
    channels = np.moveaxis(x, channel_axis, 0)
    out = np.stack([ndimage.affine_transform(c, matrix[:2, :2], matrix[:2, 2], order=1, mode=fill_mode,
                                             cval=cval) for c in channels])
    return np.moveaxis(out, 0, channel_axis)


def flip_axis(x: np.ndarray, axis: int) -> np.ndarray:
    """``x`` reversed along ``axis`` (a mirror image)."""
    return np.flip(x, axis).copy()


def _zoom_range(zoom_range: Any) -> tuple[float, float]:
    if isinstance(zoom_range, (int, float, np.number)):
        return 1 - float(zoom_range), 1 + float(zoom_range)
    if len(zoom_range) == 2:
        return float(zoom_range[0]), float(zoom_range[1])
    raise ValueError("`zoom_range` should be a float or a tuple or list of two floats. "
                     f"Received: {zoom_range}")


def _shift(shift_range: Any, size: int, rng: Any) -> float:
    """A random shift in pixels: a fraction of ``size`` (<1), pixels (>=1), or a choice from a list."""
    if not isinstance(shift_range, (int, float, np.number)):
        shift = float(rng.choice(shift_range)) * rng.choice([-1, 1])
    elif isinstance(shift_range, (int, np.integer)):
        shift = float(rng.randint(-shift_range + 1, shift_range))  # integers in (-n, n)
    else:
        shift = rng.uniform(-shift_range, shift_range)
    if np.max(shift_range) < 1:
        shift *= size
    return shift


class ImageDataGenerator:
    """Batches of images with random augmentation, made on the fly: ``fit_generator(gen.flow(x, y))``.

    Each image of a batch is first transformed at random (rotation, shifts, shear, zoom,
    channel shift, flips), then standardised: ``preprocessing_function``, ``rescale``,
    samplewise then featurewise centring and normalisation. The featurewise statistics come
    from ``fit(x)``, which does *not* apply ``rescale``: fit on data scaled the way the
    generator will see it after ``rescale``, or the mean will not match.
    """

    def __init__(self, featurewise_center: bool = False, samplewise_center: bool = False,
                 featurewise_std_normalization: bool = False, samplewise_std_normalization: bool = False,
                 zca_whitening: bool = False, zca_epsilon: float = 1e-6, rotation_range: float = 0,
                 width_shift_range: Any = 0.0, height_shift_range: Any = 0.0, brightness_range: Any = None,
                 shear_range: float = 0.0, zoom_range: Any = 0.0, channel_shift_range: float = 0.0,
                 fill_mode: str = "nearest", cval: float = 0.0, horizontal_flip: bool = False,
                 vertical_flip: bool = False, rescale: float | None = None,
                 preprocessing_function: Callable[[np.ndarray], np.ndarray] | None = None,
                 data_format: str | None = None, validation_split: float = 0.0,
                 dtype: str = "float32") -> None:
        if zca_whitening:
            raise NotImplementedError("zca_whitening is not implemented in minikeras: whiten the data "
                                      "yourself before flow(), or leave it off.")
        if brightness_range is not None:
            raise NotImplementedError("brightness_range is not implemented in minikeras (it needs Pillow's "
                                      "ImageEnhance); scale the images in preprocessing_function instead.")
        if validation_split:
            raise NotImplementedError("validation_split is not implemented in minikeras: split the arrays "
                                      "yourself and make two flow() iterators.")
        if fill_mode not in _FILL_MODES:
            raise ValueError(f"fill_mode must be one of {_FILL_MODES}, not {fill_mode!r}")
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.shear_range = shear_range
        self.zoom_range = _zoom_range(zoom_range)
        self.channel_shift_range = channel_shift_range
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.dtype = dtype
        self.data_format = check_data_format(data_format)
        # Axes of a batch; a single image's axes are one less.
        if self.data_format == "channels_first":
            self.channel_axis, self.row_axis, self.col_axis = 1, 2, 3
        else:
            self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        if self._needs_scipy():
            _ndimage()  # fail now, not at the first batch

    def _needs_scipy(self) -> bool:
        return bool(self.rotation_range or np.any(self.width_shift_range) or np.any(self.height_shift_range)
                    or self.shear_range or self.zoom_range != (1.0, 1.0))

    def flow(self, x: Any, y: Any = None, batch_size: int = 32, shuffle: bool = True,
             sample_weight: Any = None, seed: int | None = None) -> NumpyArrayIterator:
        """An endless iterator of ``(x_batch, y_batch)`` (or ``x_batch`` when ``y`` is None)."""
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed)

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """One image (or a batch) through preprocessing_function, rescale and the normalisations."""
        if self.preprocessing_function is not None:
            x = self.preprocessing_function(x)
        if self.rescale:
            x = x * self.rescale
        if self.samplewise_center:  # over the whole image: each sample's mean becomes 0
            x = x - np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x = x / (np.std(x, keepdims=True) + epsilon())
        if self.featurewise_center:
            if self.mean is None:
                warnings.warn("This ImageDataGenerator specifies `featurewise_center`, but it hasn't "
                              "been fit on any training data. Fit it first by calling `.fit(numpy_data)`.",
                              stacklevel=2)
            else:
                x = x - self.mean
        if self.featurewise_std_normalization:
            if self.std is None:
                warnings.warn("This ImageDataGenerator specifies `featurewise_std_normalization`, but it "
                              "hasn't been fit on any training data. Fit it first by calling "
                              "`.fit(numpy_data)`.", stacklevel=2)
            else:
                x = x / (self.std + epsilon())
        return x

    def _random_transform_params(self, img_shape: tuple[int, ...], rng: Any) -> dict[str, Any]:
        row_axis, col_axis = self.row_axis - 1, self.col_axis - 1
        theta = rng.uniform(-self.rotation_range, self.rotation_range) if self.rotation_range else 0
        tx = ty = 0.0
        if np.any(self.height_shift_range):
            tx = _shift(self.height_shift_range, img_shape[row_axis], rng)
        if np.any(self.width_shift_range):
            ty = _shift(self.width_shift_range, img_shape[col_axis], rng)
        shear = rng.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range == (1.0, 1.0):
            zx = zy = 1.0
        else:
            zx, zy = rng.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        channel_shift = (rng.uniform(-self.channel_shift_range, self.channel_shift_range)
                         if self.channel_shift_range else None)
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": bool(self.horizontal_flip and rng.random_sample() < 0.5),
                "flip_vertical": bool(self.vertical_flip and rng.random_sample() < 0.5),
                "channel_shift_intensity": channel_shift}

    def get_random_transform(self, img_shape: tuple[int, ...], seed: int | None = None) -> dict[str, Any]:
        """Random parameters for ``apply_transform`` (keys ``theta, tx, ty, shear, zx, zy, flip_*``)."""
        return self._random_transform_params(img_shape, np.random.RandomState(seed))

    def apply_transform(self, x: np.ndarray, transform_parameters: dict[str, Any]) -> np.ndarray:
        """One image (no batch axis) transformed by the given parameters, missing keys meaning none."""
        p = transform_parameters
        row_axis, col_axis, channel_axis = self.row_axis - 1, self.col_axis - 1, self.channel_axis - 1
        x = apply_affine_transform(x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0), p.get("shear", 0),
                                   p.get("zx", 1), p.get("zy", 1), row_axis=row_axis, col_axis=col_axis,
                                   channel_axis=channel_axis, fill_mode=self.fill_mode, cval=self.cval)
        if p.get("channel_shift_intensity") is not None:
            low, high = np.min(x), np.max(x)
            x = np.clip(x + p["channel_shift_intensity"], low, high)
        if p.get("flip_horizontal"):
            x = flip_axis(x, col_axis)
        if p.get("flip_vertical"):
            x = flip_axis(x, row_axis)
        return x

    def random_transform(self, x: np.ndarray, seed: int | None = None) -> np.ndarray:
        """One image with a random augmentation applied."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def fit(self, x: Any, augment: bool = False, rounds: int = 1, seed: int | None = None) -> None:
        """Compute the per-channel ``mean`` and ``std`` of ``x`` (rank 4) for the featurewise options.

        ``augment=True`` computes them over ``rounds`` randomly augmented copies instead.
        """
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"Input to `.fit()` should have rank 4. Got array with shape: {x.shape}")
        if x.shape[self.channel_axis] not in {1, 3, 4}:
            warnings.warn(f"Expected input to be images (as Numpy array) following the data format "
                          f"convention \"{self.data_format}\" (channels on axis {self.channel_axis}), i.e. "
                          f"expected either 1, 3 or 4 channels on axis {self.channel_axis}. However, it was "
                          f"passed an array with shape {x.shape} ({x.shape[self.channel_axis]} channels).",
                          stacklevel=2)
        if augment:
            rng = np.random.RandomState(seed)
            x = np.concatenate([[self.apply_transform(img, self._random_transform_params(img.shape, rng))
                                 for img in x] for _ in range(rounds)]).astype(self.dtype)
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        axes = (0, self.row_axis, self.col_axis)
        if self.featurewise_center:
            self.mean = np.mean(x, axis=axes).reshape(shape)
            x = x - self.mean
        if self.featurewise_std_normalization:
            self.std = np.std(x, axis=axes).reshape(shape)


class NumpyArrayIterator:
    """Endless batches from ``ImageDataGenerator.flow``: ``next(it)`` or ``it[i]`` (a ``Sequence``).

    The order is reshuffled at the start of every pass when ``shuffle=True``; with a
    ``seed`` the batches (order and augmentations) are the same on every run.
    """

    def __init__(self, x: Any, y: Any, image_data_generator: ImageDataGenerator, batch_size: int = 32,
                 shuffle: bool = False, sample_weight: Any = None, seed: int | None = None) -> None:
        generator = image_data_generator
        if y is not None and len(x) != len(y):
            raise ValueError("`x` (images tensor) and `y` (labels) should have the same length. "
                             f"Found: x.shape = {np.asarray(x).shape}, y.shape = {np.asarray(y).shape}")
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError("`x` (images tensor) and `sample_weight` should have the same length. "
                             f"Found: x.shape = {np.asarray(x).shape}, "
                             f"sample_weight.shape = {np.asarray(sample_weight).shape}")
        self.x = np.asarray(x, dtype=generator.dtype)
        if self.x.ndim != 4:
            raise ValueError("Input data in `NumpyArrayIterator` should have rank 4. You passed an array "
                             f"with shape {self.x.shape}")
        self.y = np.asarray(y) if y is not None else None
        self.sample_weight = np.asarray(sample_weight) if sample_weight is not None else None
        self.image_data_generator = generator
        self.n = len(self.x)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.batch_index = 0
        self.total_batches_seen = 0
        self.index_array = np.arange(self.n)

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size)

    def _rng(self) -> np.random.RandomState:
        seed = None if self.seed is None else self.seed + self.total_batches_seen
        return np.random.RandomState(seed)

    def reset(self) -> None:
        self.batch_index = 0

    def on_epoch_end(self) -> None:
        self.index_array = self._rng().permutation(self.n) if self.shuffle else np.arange(self.n)

    def __getitem__(self, idx: int) -> Any:
        if idx >= len(self):
            raise ValueError(f"Asked to retrieve element {idx}, but the Sequence has length {len(self)}")
        if idx == 0 and self.total_batches_seen == 0:
            self.on_epoch_end()
        rng = self._rng()
        self.total_batches_seen += 1
        return self._batch(self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)], rng)

    def __iter__(self) -> NumpyArrayIterator:
        return self

    def __next__(self) -> Any:
        rng = self._rng()
        if self.batch_index == 0:
            self.index_array = rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        start = (self.batch_index * self.batch_size) % self.n
        self.batch_index = self.batch_index + 1 if self.n > start + self.batch_size else 0
        self.total_batches_seen += 1
        return self._batch(self.index_array[start:start + self.batch_size], rng)

    next = __next__

    def _batch(self, index_array: np.ndarray, rng: np.random.RandomState) -> Any:
        generator = self.image_data_generator
        batch_x = np.zeros((len(index_array),) + self.x.shape[1:], dtype=generator.dtype)
        for i, j in enumerate(index_array):
            params = generator._random_transform_params(self.x[j].shape, rng)
            batch_x[i] = generator.standardize(generator.apply_transform(self.x[j], params))
        out: tuple[Any, ...] = (batch_x,)
        if self.y is None:
            return batch_x
        out += (self.y[index_array],)
        if self.sample_weight is not None:
            out += (self.sample_weight[index_array],)
        return out
