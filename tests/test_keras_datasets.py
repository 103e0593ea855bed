"""Keras 2.2's downloadable data sets: ``mnist``, ``fashion_mnist``, ``cifar10``, ``imdb``,
``reuters``, ``boston_housing``.

The tests write small files in Keras's exact formats into a temporary ``KERAS_HOME`` (or serve
them from ``file://`` URLs) and run the real loading code on them; the expected hash is the
module's ``FILE_HASH`` constant, set by the test to the small file's hash. Nothing here touches
the network: every other origin points at a closed port on 127.0.0.1.
"""

from __future__ import annotations

import fractions
import gzip
import hashlib
import io
import json
import os
import pickle
import socket
import tarfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from minikeras import backend as K
from minikeras.datasets import boston_housing, cifar10, fashion_mnist, imdb, mnist, reuters
from minikeras.datasets._keras_files import load_npz, load_pickle
from minikeras.datasets.cifar import load_batch
from minikeras.utils.data_utils import DownloadError


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty ``KERAS_HOME``; returns its ``datasets`` folder."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    folder = tmp_path / "keras_home" / "datasets"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def dead_url() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    yield f"http://127.0.0.1:{port}"


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def object_array(lists: list[list[int]]) -> np.ndarray:
    out = np.empty(len(lists), dtype=object)
    out[:] = lists
    return out


# --- Keras's origins and hashes -----------------------------------------------------------------

def test_origins_and_hashes_are_keras_2_2s() -> None:
    assert (mnist.ORIGIN, mnist.FILE_HASH) == ("https://s3.amazonaws.com/img-datasets/mnist.npz",
                                               "8a61469f7ea1b51cbae51d4f78837e45")
    assert (imdb.ORIGIN, imdb.FILE_HASH) == ("https://s3.amazonaws.com/text-datasets/imdb.npz",
                                             "599dadb1135973df5b59232a0e9a887c")
    assert imdb.WORD_INDEX_HASH == "bfafd718b763782e994055a2d397834f"
    assert (reuters.ORIGIN, reuters.FILE_HASH) == ("https://s3.amazonaws.com/text-datasets/reuters.npz",
                                                   "87aedbeb0cb229e378797a632c1997b6")
    assert reuters.WORD_INDEX_HASH == "4d44cc38712099c9e383dc6e5f11a921"
    assert boston_housing.ORIGIN == "https://s3.amazonaws.com/keras-datasets/boston_housing.npz"
    assert boston_housing.FILE_HASH == "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"
    assert cifar10.ORIGIN == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert fashion_mnist.BASE == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


# --- mnist ------------------------------------------------------------------------------------------

def write_mnist(path: Path) -> dict[str, np.ndarray]:
    rng = np.random.RandomState(0)
    arrays = {"x_train": rng.randint(0, 256, (5, 28, 28)).astype("uint8"), "y_train": np.arange(5, dtype="uint8"),
              "x_test": rng.randint(0, 256, (2, 28, 28)).astype("uint8"), "y_test": np.array([7, 9], "uint8")}
    np.savez(path, **arrays)
    return arrays


def test_mnist_reads_the_cached_file(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    arrays = write_mnist(home / "mnist.npz")
    monkeypatch.setattr(mnist, "FILE_HASH", md5(home / "mnist.npz"))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    for got, key in [(x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"), (y_test, "y_test")]:
        np.testing.assert_array_equal(got, arrays[key])
        assert got.dtype == np.uint8


def test_mnist_downloads_then_checks_the_hash(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served = tmp_path / "served.npz"
    arrays = write_mnist(served)
    monkeypatch.setattr(mnist, "ORIGIN", served.as_uri())
    monkeypatch.setattr(mnist, "FILE_HASH", md5(served))
    (x_train, _), _ = mnist.load_data(path="my_mnist.npz")
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    assert (home / "my_mnist.npz").read_bytes() == served.read_bytes()


def test_a_cached_file_with_the_wrong_hash_is_fetched_again(home: Path, dead_url: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    write_mnist(home / "mnist.npz")  # Keras's real md5 does not match this small file
    monkeypatch.setattr(mnist, "ORIGIN", f"{dead_url}/mnist.npz")
    with pytest.raises(DownloadError, match="Could not download"):
        mnist.load_data()


def test_no_network_no_file_names_url_path_and_digits(home: Path, dead_url: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mnist, "ORIGIN", f"{dead_url}/mnist.npz")
    with pytest.raises(DownloadError) as info:
        mnist.load_data()
    message = str(info.value)
    assert f"{dead_url}/mnist.npz" in message
    assert str(home / "mnist.npz") in message
    assert "minikeras.datasets.digits" in message
    assert os.listdir(home) == []


# --- fashion_mnist ------------------------------------------------------------------------------------

def write_idx(path: Path, values: np.ndarray) -> None:
    magic = 2049 if values.ndim == 1 else 2051
    header = np.array([magic, *values.shape], dtype=">i4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + values.astype("uint8").tobytes())


def test_fashion_mnist_reads_idx_files(home: Path) -> None:
    folder = home / "fashion-mnist"
    folder.mkdir()
    rng = np.random.RandomState(1)
    x_train, x_test = rng.randint(0, 256, (3, 28, 28)), rng.randint(0, 256, (2, 28, 28))
    y_train, y_test = np.array([0, 9, 4]), np.array([1, 2])
    for name, values in zip(fashion_mnist.FILES, [y_train, x_train, y_test, x_test]):
        write_idx(folder / name, values)
    (a, b), (c, d) = fashion_mnist.load_data()
    for got, want in [(a, x_train), (b, y_train), (c, x_test), (d, y_test)]:
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.uint8
    assert a.shape == (3, 28, 28) and b.shape == (3,)


# --- cifar10 -----------------------------------------------------------------------------------------

def cifar_batch(n: int, start: int) -> dict[bytes, object]:
    data = ((np.arange(n * 3072).reshape(n, 3072) + start) % 256).astype("uint8")
    return {b"batch_label": b"a batch", b"labels": [(start + i) % 10 for i in range(n)], b"data": data,
            b"filenames": [b"f.png"] * n}


def write_cifar_tar(path: Path, n: int = 2) -> dict[str, dict[bytes, object]]:
    """Keras's archive: ``cifar-10-batches-py/data_batch_1..5`` and ``test_batch``, pickled dicts."""
    batches = {f"data_batch_{i}": cifar_batch(n, 10 * i) for i in range(1, 6)}
    batches["test_batch"] = cifar_batch(n, 99)
    with tarfile.open(path, "w:gz") as tar:
        for name, batch in batches.items():
            data = pickle.dumps(batch, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return batches


def test_cifar10_extracts_and_reads_the_batches(home: Path) -> None:
    batches = write_cifar_tar(home / "cifar-10-batches-py.tar.gz")
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (10, 1) and y_train.dtype == np.uint8
    assert x_test.shape == (2, 32, 32, 3) and y_test.shape == (2, 1) and y_test.dtype == np.int64
    first = batches["data_batch_1"][b"data"][0].reshape(3, 32, 32)  # type: ignore[index]
    np.testing.assert_array_equal(x_train[0], first.transpose(1, 2, 0))
    third_batch = batches["data_batch_3"]
    assert y_train[4:6, 0].tolist() == third_batch[b"labels"]
    assert (home / "cifar-10-batches-py" / "test_batch").exists()


def test_cifar10_channels_first(home: Path) -> None:
    batches = write_cifar_tar(home / "cifar-10-batches-py.tar.gz", n=1)
    K.set_image_data_format("channels_first")
    try:
        (x_train, _), _ = cifar10.load_data()
    finally:
        K.set_image_data_format("channels_last")
    assert x_train.shape == (5, 3, 32, 32)
    np.testing.assert_array_equal(x_train[0], batches["data_batch_1"][b"data"][0].reshape(3, 32, 32))  # type: ignore[index]


class Sneaky:
    """Pickles as a call to ``os.getcwd``: harmless here, but any function could stand in its place."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return os.getcwd, ()


def test_pickles_that_name_functions_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({b"data": np.zeros((1, 3072), "uint8"), b"labels": [Sneaky()]}, protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=r"Refusing to load posix\.getcwd"):
        load_batch(path)
    fine = tmp_path / "ok"
    fine.write_bytes(pickle.dumps({b"data": np.ones((1, 3072), "uint8"), b"labels": [3]}))
    data, labels = load_batch(fine)
    assert data.shape == (1, 3, 32, 32) and labels == [3]
    assert load_pickle(fine)[b"labels"] == [3]


def test_npz_object_arrays_with_other_classes_are_refused(tmp_path: Path) -> None:
    np.savez(tmp_path / "bad.npz", x=object_array([[fractions.Fraction(1, 2)]]))
    with pytest.raises(pickle.UnpicklingError, match="fractions.Fraction"):
        load_npz(tmp_path / "bad.npz")


# --- imdb and reuters ----------------------------------------------------------------------------------

IMDB_TRAIN = [[1, 2, 3], [4, 5], [6, 1, 1, 1]]
IMDB_TEST = [[2, 2], [7]]


def write_imdb(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    np.savez(folder / "imdb.npz", x_train=object_array(IMDB_TRAIN), y_train=np.array([0, 1, 0]),
             x_test=object_array(IMDB_TEST), y_test=np.array([1, 0]))
    monkeypatch.setattr(imdb, "FILE_HASH", md5(folder / "imdb.npz"))


def test_imdb_layout_shuffle_and_index_shift(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_imdb(home, monkeypatch)
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=100)
    rng = np.random.RandomState(113)  # Keras shuffles train, then test, with one generator
    train_order, test_order = rng.permutation(3), rng.permutation(2)
    assert x_train.dtype == object and x_train.shape == (3,)
    assert list(x_train) == [[1] + [w + 3 for w in IMDB_TRAIN[i]] for i in train_order]
    assert y_train.tolist() == [[0, 1, 0][i] for i in train_order]
    assert list(x_test) == [[1] + [w + 3 for w in IMDB_TEST[i]] for i in test_order]
    assert y_test.tolist() == [[1, 0][i] for i in test_order]
    # Keras 2.2's quirk: num_words=None keeps indices *below* the largest one (7 + 3 = 10)
    _, (x_test, _) = imdb.load_data()
    assert [2] in [x[1:] for x in x_test]


def test_imdb_num_words_skip_top_maxlen_and_options(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_imdb(home, monkeypatch)
    (x_train, _), (x_test, _) = imdb.load_data(num_words=7, start_char=None, index_from=0, seed=0)
    assert sorted(map(tuple, x_train)) == sorted([(1, 2, 3), (4, 5), (6, 1, 1, 1)])
    assert sorted(map(tuple, x_test)) == sorted([(2, 2), (2,)])  # 7 is not < num_words: the OOV index 2
    (x_train, _), _ = imdb.load_data(num_words=7, start_char=None, index_from=0, oov_char=None)
    assert sorted(map(tuple, x_train)) == sorted([(1, 2, 3), (4, 5), (6, 1, 1, 1)])
    (x_train, _), _ = imdb.load_data(skip_top=3, start_char=None, index_from=0, oov_char=None)
    assert sorted(map(tuple, x_train)) == sorted([(3,), (4, 5), (6,)])
    (x_train, y_train), (x_test, y_test) = imdb.load_data(maxlen=4)  # with the start mark: lengths 4, 3, 5
    assert [len(x) for x in x_train] == [3] and y_train.tolist() == [1]
    assert len(x_test) == 2 and len(y_test) == 2  # the test part is filtered on its own
    with pytest.raises(ValueError, match="no sequence was kept. Increase maxlen"):
        imdb.load_data(maxlen=1)
    with pytest.warns(UserWarning, match="renamed `num_words`"):
        imdb.load_data(nb_words=7)
    with pytest.raises(TypeError, match="Unrecognized keyword arguments"):
        imdb.load_data(words=7)


def test_imdb_word_index(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (home / "imdb_word_index.json").write_text(json.dumps({"the": 1, "movie": 2}))
    monkeypatch.setattr(imdb, "WORD_INDEX_HASH", md5(home / "imdb_word_index.json"))
    assert imdb.get_word_index() == {"the": 1, "movie": 2}


def test_reuters_split_and_labels(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    xs = [[1, 2], [3], [4, 5, 6], [7, 8], [9]]
    ys = np.array([3, 0, 45, 2, 7])
    np.savez(home / "reuters.npz", x=object_array(xs), y=ys)
    monkeypatch.setattr(reuters, "FILE_HASH", md5(home / "reuters.npz"))
    (x_train, y_train), (x_test, y_test) = reuters.load_data(test_split=0.4, num_words=20)
    order = np.random.RandomState(113).permutation(5)
    assert len(x_train) == 3 and len(x_test) == 2  # int(5 * 0.6) training texts
    assert list(x_train) + list(x_test) == [[1] + [w + 3 for w in xs[i]] for i in order]
    assert y_train.tolist() + y_test.tolist() == ys[order].tolist()
    (x_train, _), _ = reuters.load_data(num_words=6, index_from=0, start_char=None, test_split=0)
    assert sorted(map(tuple, x_train)) == sorted([(1, 2), (3,), (4, 5, 2), (2, 2), (2,)])
    (home / "reuters_word_index.json").write_text('{"said": 1}')
    monkeypatch.setattr(reuters, "WORD_INDEX_HASH", sha256(home / "reuters_word_index.json"))
    assert reuters.get_word_index() == {"said": 1}


# --- boston_housing -------------------------------------------------------------------------------------

def test_boston_housing_shuffle_and_split(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    x = np.arange(10 * 13, dtype="float64").reshape(10, 13)
    y = np.arange(10, dtype="float64") * 1.5
    np.savez(home / "boston_housing.npz", x=x, y=y)
    monkeypatch.setattr(boston_housing, "FILE_HASH", sha256(home / "boston_housing.npz"))
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data()
    order = np.random.RandomState(113).permutation(10)
    np.testing.assert_array_equal(np.concatenate([x_train, x_test]), x[order])
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), y[order])
    assert x_train.shape == (8, 13) and y_test.shape == (2,) and x_train.dtype == np.float64
    with pytest.raises(ValueError, match="test_split"):
        boston_housing.load_data(test_split=1.0)
