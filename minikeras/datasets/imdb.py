"""IMDB movie reviews: 25,000 training and 25,000 test reviews labelled positive (1) or negative (0).

Each review is a list of word indices; a word's index is its frequency rank plus
``index_from`` (3), so 0 is padding, 1 (``start_char``) starts every review and 2
(``oov_char``) stands for a word cut by ``num_words`` or ``skip_top``. ``x_train`` is a 1-D
object array of lists: pad it with ``pad_sequences`` before an ``Embedding``.

As in Keras 2.2, ``num_words=None`` means "below the largest index": that one word becomes
``oov_char`` too.

One deliberate difference from Keras 2.2: with ``maxlen``, Keras 2.2 filtered training and
test reviews together and then cut at the old training size, mixing test reviews into the
training set; here each part is filtered on its own (as tf.keras later fixed it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._keras_files import fetch, load_npz, object_array
from ._word_indices import drop_long, legacy_num_words, limit_vocabulary, load_word_index, shift_indices

ORIGIN = "https://s3.amazonaws.com/text-datasets/imdb.npz"
FILE_HASH = "599dadb1135973df5b59232a0e9a887c"  # md5, as in Keras 2.2
WORD_INDEX_ORIGIN = "https://s3.amazonaws.com/text-datasets/imdb_word_index.json"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"


def load_data(path: str = "imdb.npz", num_words: int | None = None, skip_top: int = 0,
              maxlen: int | None = None, seed: int = 113, start_char: int | None = 1,
              oov_char: int | None = 2, index_from: int = 3,
              **kwargs: Any) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(x_train, y_train), (x_test, y_test)``: object arrays of index lists and int labels.

    ``num_words`` keeps the most frequent words (indices below ``num_words``), ``skip_top``
    drops the commonest ones, ``maxlen`` drops reviews of ``maxlen`` words or more. Both
    parts are shuffled with ``seed``.
    """
    num_words = legacy_num_words(num_words, kwargs)
    arrays = load_npz(fetch(path, origin=ORIGIN, file_hash=FILE_HASH))
    rng = np.random.RandomState(seed)
    parts = []
    for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
        order = rng.permutation(len(arrays[x_key]))
        parts.append((arrays[x_key][order], arrays[y_key][order]))

    xs = shift_indices([x for x_part, _ in parts for x in x_part], start_char, index_from)
    n_train = len(parts[0][0])
    train = drop_long(maxlen, xs[:n_train], parts[0][1])
    test = drop_long(maxlen, xs[n_train:], parts[1][1])
    xs = limit_vocabulary(train[0] + test[0], num_words, skip_top, oov_char)
    n_train = len(train[0])
    return ((object_array(xs[:n_train]), np.array(train[1])),
            (object_array(xs[n_train:]), np.array(test[1])))


def get_word_index(path: str = "imdb_word_index.json") -> dict[str, int]:
    """``{word: rank}``; a review's index ``i`` is the word of rank ``i - index_from``."""
    return load_word_index(path, WORD_INDEX_ORIGIN, WORD_INDEX_HASH)
