"""The 8x8 handwritten digits, shipped inside minikeras: a real data set that needs no download.

1,797 grey-scale images of the digits 0-9, each 8x8 pixels with integer values 0..16
(the number of "on" pixels in a 4x4 block of the original 32x32 bitmap), about 180 per
class. ``load_data`` splits them the Keras way. The pixels are uint8 in 0..16, not
0..255: divide by 16 (not 255) to scale them to [0, 1].

Source: the test set of "Optical Recognition of Handwritten Digits" by E. Alpaydin and
C. Kaynak (1998), UCI Machine Learning Repository, as redistributed with scikit-learn.
Licence: Creative Commons Attribution 4.0 International (CC BY 4.0), as stated by UCI.
Changes: stored as uint8 arrays in ``digits.npz``; see ``DIGITS_SOURCE.md``.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from ._split import Split, check_test_split, stratified_split

FILENAME = "digits.npz"
N_SAMPLES = 1797
N_CLASSES = 10
IMAGE_SHAPE = (8, 8)
MAX_PIXEL = 16


def load_arrays() -> tuple[np.ndarray, np.ndarray]:
    """Return all images, uint8 (1797, 8, 8) in 0..16, and their labels, uint8 (1797,) in 0..9.

    The file is read as package data (it works from a wheel or a zip too) and never
    fetched from the network; ``allow_pickle=False`` because data should not run code.
    """
    with resources.files(__package__).joinpath(FILENAME).open("rb") as f, \
            np.load(f, allow_pickle=False) as npz:
        images, labels = npz["images"], npz["labels"]
    return images, labels


def load_data(test_split: float = 0.2, seed: int | None = 113) -> Split:
    """Return ``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 8, 8) and uint8 labels.

    The split is stratified (every digit keeps its share in both parts) and shuffled, and
    it is the same every time for the same ``seed`` (default 113, as in Keras' loaders).
    With ``test_split=0.2`` that is 1,438 training and 359 test images.
    """
    check_test_split(test_split)
    images, labels = load_arrays()
    return stratified_split(images, labels, test_split, np.random.default_rng(seed))
