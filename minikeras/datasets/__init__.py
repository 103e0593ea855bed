"""Small data sets for examples and exercises, all offline: nothing is downloaded, ever.

Every module has a Keras-style ``load_data(...)`` returning ``(x_train, y_train),
(x_test, y_test)`` as NumPy arrays, deterministic for a given ``seed``:

- ``xor``, ``moons``, ``spirals``, ``blobs``: generated 2-D toy problems (float32 features,
  int64 labels), each with ``n_samples``, ``noise`` and ``test_split`` arguments and a
  ``make_*`` function that returns the unsplit ``(x, y)``.
- ``digits``: 1,797 real 8x8 handwritten digits shipped inside the package (uint8).
"""

from . import blobs, digits, moons, spirals, xor

__all__ = ["blobs", "digits", "moons", "spirals", "xor"]
