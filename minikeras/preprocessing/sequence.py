"""Keras's ``preprocessing.sequence``: make lists of different lengths into one array.

``pad_sequences`` is what every text model needs before an ``Embedding``: Keras pads and
cuts at the *start* by default (``padding='pre'``, ``truncating='pre'``), so a long review
keeps its end. ``skipgrams`` and ``make_sampling_table`` build word2vec training pairs.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import numpy as np

_EULER_GAMMA = 0.577


def pad_sequences(sequences: Sequence[Any], maxlen: int | None = None, dtype: Any = "int32",
                  padding: str = "pre", truncating: str = "pre", value: Any = 0.0) -> np.ndarray:
    """A ``(len(sequences), maxlen)`` array: each sequence cut to ``maxlen`` and padded with ``value``.

    ``maxlen=None`` means the longest sequence. ``padding``/``truncating`` are ``'pre'``
    (at the start, the default) or ``'post'`` (at the end). Sequences of vectors give
    ``(n, maxlen, *vector_shape)``. The default ``dtype`` is ``int32``: pad float
    sequences with ``dtype='float32'`` or their values are cut to integers.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    lengths = []
    for x in sequences:
        if not hasattr(x, "__len__"):
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable: {x}")
        lengths.append(len(x))
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')
    if maxlen is None:
        maxlen = max(lengths, default=0)
    sample_shape: tuple[int, ...] = ()
    for s in sequences:
        if len(s) > 0:
            sample_shape = np.asarray(s).shape[1:]
            break
    is_text = np.issubdtype(np.dtype(dtype), np.str_)
    if isinstance(value, str) and np.dtype(dtype) != object and not is_text:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
                         "You should set `dtype=object` for variable length strings.")

    x = np.full((len(sequences), maxlen) + tuple(sample_shape), value, dtype=dtype)
    for i, s in enumerate(sequences):
        if maxlen == 0 or not len(s):
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {kept.shape[1:]} of sequence at position {i} is "
                             f"different from expected shape {sample_shape}")
        if padding == "post":
            x[i, :len(kept)] = kept
        else:
            x[i, -len(kept):] = kept
    return x


def make_sampling_table(size: int, sampling_factor: float = 1e-5) -> np.ndarray:
    """``p[i]``: the probability of keeping the i-th most frequent word in ``skipgrams``.

    Word ranks are assumed to follow Zipf's law, so frequent words (low ranks) are kept
    rarely: ``p = min(1, sqrt(f))`` with ``f = sampling_factor * rank * (log(rank) + gamma)``.
    Index 0 is the padding index and is treated as rank 1.
    """
    rank = np.arange(size, dtype="float64")
    rank[0] = 1
    inv_frequency = rank * (np.log(rank) + _EULER_GAMMA) + 0.5 - 1.0 / (12.0 * rank)
    f = sampling_factor * inv_frequency
    return np.minimum(1.0, f / np.sqrt(f))


def skipgrams(sequence: Sequence[int], vocabulary_size: int, window_size: int = 4,
              negative_samples: float = 1.0, shuffle: bool = True, categorical: bool = False,
              sampling_table: Any = None, seed: int | None = None) -> tuple[list[list[int]], list[Any]]:
    """word2vec pairs from one sequence of word indices: ``(couples, labels)``.

    ``[w, c]`` with label 1 for every word ``c`` within ``window_size`` of ``w``; then
    ``negative_samples`` times as many ``[w, random word]`` pairs with label 0 (the random
    word is drawn from ``1..vocabulary_size-1``, so it may by chance be a real neighbour).
    Index 0 is padding and never forms a pair. ``categorical=True`` gives labels
    ``[0, 1]`` / ``[1, 0]``.
    """
    rng = random.Random(seed)
    couples: list[list[int]] = []
    labels: list[Any] = []
    for i, wi in enumerate(sequence):
        if not wi:
            continue
        if sampling_table is not None and sampling_table[wi] < rng.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([wi, sequence[j]])
                labels.append([0, 1] if categorical else 1)

    if negative_samples > 0 and couples:
        n_negative = int(len(labels) * negative_samples)
        words = [c[0] for c in couples]
        rng.shuffle(words)
        couples += [[words[k % len(words)], rng.randint(1, vocabulary_size - 1)] for k in range(n_negative)]
        labels += [[1, 0] if categorical else 0] * n_negative

    if shuffle:
        order = list(range(len(couples)))
        rng.shuffle(order)
        couples = [couples[k] for k in order]
        labels = [labels[k] for k in order]
    return couples, labels
