"""``minikeras.utils`` (Keras 2.2's ``keras.utils``): labels, progress bars, custom objects,
``get_file`` (downloads from ``file://`` URLs and a server on 127.0.0.1 started here), the
Keras 2 import paths, and an MLP trained on ``to_categorical`` labels."""

from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import minikeras as keras
from minikeras import backend as K
from minikeras import objects
from minikeras.layers import Dense, Input, Layer, concatenate
from minikeras.models import Model, Sequential, load_model, model_from_json
from minikeras.utils import (
    CustomObjectScope,
    Progbar,
    Sequence,
    custom_object_scope,
    get_custom_objects,
    get_file,
    get_source_inputs,
    normalize,
    to_categorical,
)
from minikeras.utils.data_utils import DownloadError


@pytest.fixture(autouse=True)
def fresh_session() -> Iterator[None]:
    K.clear_session()
    before = dict(get_custom_objects())
    yield
    get_custom_objects().clear()
    get_custom_objects().update(before)


# --- the package and Keras 2's module paths -------------------------------------------------

def test_import_minikeras_loads_utils_and_preprocessing() -> None:
    assert keras.utils.to_categorical is to_categorical
    assert keras.preprocessing.sequence.pad_sequences is not None
    assert keras.utils.plot_model is keras.viz.plot_model


def test_keras_2_submodule_paths() -> None:
    from minikeras.utils.data_utils import Sequence as S
    from minikeras.utils.data_utils import get_file as gf
    from minikeras.utils.generic_utils import CustomObjectScope as C
    from minikeras.utils.generic_utils import Progbar as P
    from minikeras.utils.generic_utils import custom_object_scope
    from minikeras.utils.generic_utils import get_custom_objects as g
    from minikeras.utils.layer_utils import count_params, print_summary
    from minikeras.utils.layer_utils import get_source_inputs as gsi
    from minikeras.utils.np_utils import normalize as n
    from minikeras.utils.np_utils import to_categorical as t

    assert (S, gf, C, P, g, gsi, n, t) == (Sequence, get_file, CustomObjectScope, Progbar, get_custom_objects,
                                           get_source_inputs, normalize, to_categorical)
    assert callable(custom_object_scope) and callable(count_params) and callable(print_summary)


def test_engine_topology_aliases_the_engine() -> None:
    from minikeras import engine
    from minikeras.engine.topology import Input as I
    from minikeras.engine.topology import InputLayer, Network, Node
    from minikeras.engine.topology import Layer as L
    from minikeras.engine.topology import get_source_inputs as g

    assert (I, InputLayer, L, Network, Node) == (engine.Input, engine.InputLayer, engine.Layer, engine.Network,
                                                 engine.Node)
    assert g is get_source_inputs


# --- to_categorical and normalize -----------------------------------------------------------

def test_to_categorical_one_hot_rows() -> None:
    y = to_categorical([0, 2, 1, 2])
    np.testing.assert_array_equal(y, [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]])
    assert y.dtype == np.float32


def test_to_categorical_shapes_and_num_classes() -> None:
    assert to_categorical(np.array([[1], [3]]), 5).shape == (2, 5)  # (n, 1) labels, as CIFAR's
    assert to_categorical(np.zeros((2, 3), int), 4).shape == (2, 3, 4)
    assert to_categorical(np.array([[1, 0]]), 2).shape == (1, 2, 2)  # a last axis of 2 is kept
    assert to_categorical(3, 5).shape == (5,)
    assert to_categorical([1], num_classes=4, dtype="int32").dtype == np.int32
    np.testing.assert_array_equal(to_categorical([[1], [0]], 2), [[0, 1], [1, 0]])


def test_to_categorical_rejects_labels_outside_num_classes() -> None:
    with pytest.raises(ValueError, match=r"label 3 is outside 0\.\.2"):
        to_categorical([0, 3], num_classes=3)
    with pytest.raises(ValueError, match="label -1"):
        to_categorical([0, -1], num_classes=3)


def test_normalize_by_hand() -> None:
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]])
    np.testing.assert_allclose(normalize(x), [[0.6, 0.8], [0, 0], [2 ** -0.5, -(2 ** -0.5)]])
    np.testing.assert_allclose(normalize(x, order=1), [[3 / 7, 4 / 7], [0, 0], [0.5, -0.5]])
    np.testing.assert_allclose(normalize(x, axis=0), x / np.linalg.norm(x, axis=0))


# --- get_source_inputs ----------------------------------------------------------------------

def test_get_source_inputs_follows_the_layers_back() -> None:
    a, b = Input((3,)), Input((2,))
    h = Dense(4)(a)
    out = Dense(1)(concatenate([h, Dense(4)(b), Dense(2)(h)]))
    sources = get_source_inputs(out)
    assert len(sources) == 2 and sources[0] is a and sources[1] is b
    assert get_source_inputs(a)[0] is a


def test_get_source_inputs_refuses_a_plain_tensor() -> None:
    with pytest.raises(ValueError, match="not made by a Keras layer"):
        get_source_inputs(K.placeholder(shape=(None, 2)))


# --- Progbar --------------------------------------------------------------------------------

def test_progbar_prints_the_finished_line_with_weighted_averages() -> None:
    out = io.StringIO()
    bar = Progbar(10, stream=out)
    bar.update(4, [("loss", 1.0)])
    assert out.getvalue() == ""  # not a terminal: only the finished line
    bar.update(10, [("loss", 0.5)])
    line = out.getvalue()
    assert line.startswith("10/10 [==============================] - ")
    # 4 steps at 1.0 and 6 at 0.5: (4 * 1.0 + 6 * 0.5) / 10
    assert line.endswith(" - loss: 0.7000\n")


def test_progbar_add_stateful_metrics_and_dict_values() -> None:
    out = io.StringIO()
    bar = Progbar(6, stream=out, stateful_metrics=["acc"])
    bar.add(3, {"loss": 2.0, "acc": 0.1})
    bar.add(3, {"loss": 1.0, "acc": 0.9})
    assert out.getvalue().endswith(" - loss: 1.5000 - acc: 0.9000\n")


def test_progbar_draws_bar_in_place_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Terminal()
    bar = Progbar(4, width=8, stream=out, interval=0)
    bar.update(2)
    assert out.getvalue().startswith("\r2/4 [===>....] - ETA: ")
    bar.update(4)
    assert "\r4/4 [========] - " in out.getvalue() and out.getvalue().endswith("\n")


def test_progbar_verbose_2_and_unknown_target() -> None:
    out = io.StringIO()
    Progbar(2, verbose=2, stream=out).update(2, [("loss", 0.25)])
    assert out.getvalue().endswith("s - loss: 0.2500\n") and "[" not in out.getvalue()
    unknown = Progbar(None, stream=out)
    assert unknown.line(5, False).startswith("      5/Unknown - ")


# --- Sequence -------------------------------------------------------------------------------

def test_sequence_is_abstract_and_subclasses_work() -> None:
    with pytest.raises(TypeError):
        Sequence()  # type: ignore[abstract]

    class Batches(Sequence):
        def __init__(self) -> None:
            self.epochs = 0

        def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
            return np.full((2, 1), index), np.zeros(2)

        def __len__(self) -> int:
            return 3

    seq = Batches()
    assert len(seq) == 3 and seq[2][0][0, 0] == 2
    assert [x[0, 0] for x, _ in seq] == [0, 1, 2]
    assert seq.on_epoch_end() is None


# --- custom objects -------------------------------------------------------------------------

def doubled(x: object) -> object:
    return 2 * x  # type: ignore[operator]


class Scale(Layer):
    def __init__(self, factor: float = 2.0, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs: object) -> object:
        return inputs * self.factor  # type: ignore[operator]

    def get_config(self) -> dict[str, object]:
        return {**super().get_config(), "factor": self.factor}


def scaled_model() -> Model:
    x = Input((2,))
    return Model(x, Scale(3.0)(Dense(2, kernel_initializer="ones")(x)))


def test_custom_object_scope_is_seen_by_model_from_json() -> None:
    # Layer subclasses register themselves by class name; a file written elsewhere may name a
    # class this program calls differently: the scope supplies it.
    json_string = scaled_model().to_json().replace('"Scale"', '"ScaleFromElsewhere"')
    with pytest.raises(ValueError, match="Unknown layer: ScaleFromElsewhere"):
        model_from_json(json_string)
    with custom_object_scope({"ScaleFromElsewhere": Scale}):
        model = model_from_json(json_string)
    assert isinstance(model.layers[-1], Scale) and model.layers[-1].factor == 3.0
    assert "ScaleFromElsewhere" not in get_custom_objects()  # the scope is gone again
    with pytest.raises(ValueError, match="Unknown layer"):
        model_from_json(json_string)


class Triple(Scale):
    def call(self, inputs: object) -> object:
        return inputs * 3.0  # type: ignore[operator]


def test_custom_object_scope_is_seen_by_load_model(tmp_path: Path) -> None:
    model = scaled_model()
    model.save(tmp_path / "m.h5")
    x = np.array([[1.0, 2.0]])
    np.testing.assert_allclose(load_model(tmp_path / "m.h5", compile=False).predict(x), [[9.0, 9.0]])
    with CustomObjectScope({"Scale": Triple}):  # the scope's name wins over the registered class
        loaded = load_model(tmp_path / "m.h5", compile=False)
    assert type(loaded.layers[-1]) is Triple


def test_custom_object_scope_restores_a_custom_loss_in_load_model(tmp_path: Path) -> None:
    def my_loss(y_true: object, y_pred: object) -> object:
        return K.mean(K.abs(y_true - y_pred), axis=-1)  # type: ignore[operator]

    model = Sequential([Dense(2, input_shape=(3,), kernel_initializer="zeros")])
    model.compile("sgd", loss=my_loss)
    model.save(tmp_path / "m.h5")
    with pytest.raises(Exception, match="Unknown loss function: my_loss"):
        load_model(tmp_path / "m.h5")
    with custom_object_scope({"my_loss": my_loss}):
        loaded = load_model(tmp_path / "m.h5")
    # zero weights: the mean absolute error of predicting 0 for targets 1 and 3 is 2
    assert loaded.evaluate(np.ones((4, 3)), np.tile([1.0, 3.0], (4, 1)), verbose=0) == pytest.approx(2.0)


def test_custom_object_scope_reaches_activations_losses_metrics_and_initializers() -> None:
    from minikeras import activations, initializers, losses, metrics, optimizers, regularizers

    def my_loss(y_true: object, y_pred: object) -> object:
        return K.mean(K.abs(y_true - y_pred), axis=-1)  # type: ignore[operator]

    with pytest.raises(ValueError):
        activations.get("doubled")
    with custom_object_scope({"doubled": doubled, "my_loss": my_loss, "Ones2": initializers.Ones,
                              "L2x": regularizers.L1L2, "MySGD": optimizers.SGD}):
        assert activations.get("doubled") is doubled
        assert Dense(2, activation="doubled").activation is doubled
        assert losses.get("my_loss") is my_loss
        assert metrics.get("my_loss") is my_loss
        assert isinstance(initializers.get("Ones2"), initializers.Ones)
        assert isinstance(regularizers.get({"class_name": "L2x", "config": {"l2": 0.1}}), regularizers.L1L2)
        assert isinstance(optimizers.get("MySGD"), optimizers.SGD)
    with pytest.raises(ValueError):
        losses.get("my_loss")


def test_custom_object_argument_wins_over_the_scope() -> None:
    def other(x: object) -> object:
        return x

    from minikeras import activations

    with custom_object_scope({"f": doubled}):
        assert activations.deserialize("f", custom_objects={"f": other}) is other
        assert objects.with_custom_objects({"f": other})["f"] is other


def test_scopes_nest_and_restore_even_after_an_error() -> None:
    get_custom_objects()["kept"] = 1
    with pytest.raises(RuntimeError), custom_object_scope({"a": 1}, {"kept": 2}):
        with custom_object_scope({"b": 2}):
            assert {"a", "b"} <= set(get_custom_objects()) and get_custom_objects()["kept"] == 2
        assert "b" not in get_custom_objects()
        raise RuntimeError
    assert get_custom_objects() == {**get_custom_objects(), "kept": 1} and "a" not in get_custom_objects()


# --- get_file -------------------------------------------------------------------------------

def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "served" / "data.bin"
    path.parent.mkdir()
    path.write_bytes(b"minikeras data " * 100)
    return path


def test_get_file_downloads_once_into_the_cache(tmp_path: Path, source: Path) -> None:
    cache = tmp_path / "cache"
    path = get_file("data.bin", origin=source.as_uri(), cache_dir=cache)
    assert Path(path) == cache / "datasets" / "data.bin"
    assert Path(path).read_bytes() == source.read_bytes()
    source.unlink()  # a cached file is not fetched again
    assert get_file("data.bin", origin=source.as_uri(), cache_dir=cache) == path
    assert list((cache / "datasets").iterdir()) == [Path(path)]  # no temporary file left


def test_get_file_uses_keras_home_then_home(tmp_path: Path, source: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    path = get_file("data.bin", origin=source.as_uri(), cache_subdir="sub")
    assert Path(path) == tmp_path / "kh" / "sub" / "data.bin"
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = get_file("data.bin", origin=source.as_uri())
    assert Path(path) == tmp_path / "home" / ".keras" / "datasets" / "data.bin"


@pytest.mark.parametrize("hasher", [md5, sha256])
def test_get_file_checks_the_hash_auto_by_length(tmp_path: Path, source: Path, hasher: object) -> None:
    good = hasher(source.read_bytes())  # type: ignore[operator]
    path = get_file("data.bin", origin=source.as_uri(), file_hash=good, cache_dir=tmp_path)
    assert Path(path).exists()
    Path(path).write_bytes(b"stale")  # a cached file with the wrong hash is fetched again
    assert Path(get_file("data.bin", origin=source.as_uri(), file_hash=good, cache_dir=tmp_path)
                ).read_bytes() == source.read_bytes()


def test_get_file_refuses_and_deletes_a_download_with_the_wrong_hash(tmp_path: Path, source: Path) -> None:
    with pytest.raises(ValueError, match="does not match its expected md5 hash"):
        get_file("data.bin", origin=source.as_uri(), file_hash="0" * 32, cache_dir=tmp_path)
    assert list((tmp_path / "datasets").iterdir()) == []
    with pytest.raises(ValueError, match="sha256"):
        get_file("data.bin", origin=source.as_uri(), md5_hash=None, file_hash="0" * 32,
                 hash_algorithm="sha256", cache_dir=tmp_path)


def test_get_file_legacy_md5_hash_argument(tmp_path: Path, source: Path) -> None:
    good = md5(source.read_bytes())
    assert Path(get_file("data.bin", origin=source.as_uri(), md5_hash=good, cache_dir=tmp_path)).exists()
    with pytest.raises(ValueError, match="md5"):
        get_file("other.bin", origin=source.as_uri(), md5_hash="1" * 32, cache_dir=tmp_path)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep the test output quiet
        pass

    def do_GET(self) -> None:
        if self.path == "/truncated":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"only ten b")
            return
        super().do_GET()


@pytest.fixture
def server(source: Path) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 (a free port) serving ``source``'s folder."""
    handler = lambda *a, **kw: _Handler(*a, directory=str(source.parent), **kw)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_get_file_over_http(tmp_path: Path, source: Path, server: str) -> None:
    path = get_file("data.bin", origin=f"{server}/data.bin", file_hash=sha256(source.read_bytes()),
                    cache_dir=tmp_path)
    assert Path(path).read_bytes() == source.read_bytes()


def test_get_file_error_names_the_url_and_the_cache_path(tmp_path: Path, server: str) -> None:
    origin = f"{server}/missing.bin"
    with pytest.raises(DownloadError) as info:
        get_file("missing.bin", origin=origin, cache_dir=tmp_path)
    message = str(info.value)
    assert origin in message and str(tmp_path / "datasets" / "missing.bin") in message
    assert list((tmp_path / "datasets").iterdir()) == []


def test_get_file_with_no_server_fails_fast_and_clearly(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match=f"Could not download http://127.0.0.1:{port}/x.npz"):
        get_file("x.npz", origin=f"http://127.0.0.1:{port}/x.npz", cache_dir=tmp_path)


def test_get_file_leaves_nothing_after_a_truncated_download(tmp_path: Path, server: str) -> None:
    with pytest.raises(DownloadError):
        get_file("t.bin", origin=f"{server}/truncated", cache_dir=tmp_path)
    assert list((tmp_path / "datasets").iterdir()) == []


# --- get_file: archives -----------------------------------------------------------------------

def make_tar(path: Path, members: dict[str, bytes], symlink: str | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo("link")
            info.type = tarfile.SYMTYPE
            info.linkname = symlink
            tar.addfile(info)
    return path


def test_get_file_untar_returns_the_extracted_folder(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "src.tar.gz", {"pack/a.txt": b"A", "pack/b/c.txt": b"C"})
    path = get_file("pack", origin=archive.as_uri(), untar=True, cache_dir=tmp_path / "cache")
    assert Path(path) == tmp_path / "cache" / "datasets" / "pack"
    assert (Path(path) / "b" / "c.txt").read_bytes() == b"C"
    assert (tmp_path / "cache" / "datasets" / "pack.tar.gz").exists()


def test_get_file_extract_zip(tmp_path: Path) -> None:
    archive = tmp_path / "src.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("inner/x.txt", "X")
    path = get_file("src.zip", origin=archive.as_uri(), extract=True, cache_dir=tmp_path / "cache")
    assert path.endswith("src.zip")
    assert (tmp_path / "cache" / "datasets" / "inner" / "x.txt").read_text() == "X"


@pytest.mark.parametrize("members,symlink,match", [
    ({"ok.txt": b"1", "../evil.txt": b"2"}, None, "outside"),
    ({"ok.txt": b"1", "/abs/evil.txt": b"2"}, None, "absolute"),
    ({"ok.txt": b"1"}, "/etc/passwd", "only plain files"),
])
def test_get_file_refuses_unsafe_archives_and_writes_nothing(tmp_path: Path, members: dict[str, bytes],
                                                             symlink: str | None, match: str) -> None:
    archive = make_tar(tmp_path / "bad.tar.gz", members, symlink)
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match=match):
        get_file("bad.tar.gz", origin=archive.as_uri(), extract=True, cache_dir=cache)
    assert sorted(p.name for p in (cache / "datasets").iterdir()) == ["bad.tar.gz"]
    assert not (tmp_path / "evil.txt").exists()


def test_get_file_refuses_zip_slip(tmp_path: Path) -> None:
    archive = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../evil.txt", "X")
    with pytest.raises(ValueError, match="outside"):
        get_file("bad.zip", origin=archive.as_uri(), extract=True, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()


# --- a Keras 2 program --------------------------------------------------------------------------

def test_program_mlp_on_to_categorical_labels() -> None:
    from minikeras.datasets import digits

    (x_train, y_train), (x_test, y_test) = digits.load_data()
    x_train = x_train.reshape(len(x_train), 64).astype("float32") / 16
    x_test = x_test.reshape(len(x_test), 64).astype("float32") / 16
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)
    assert y_train.shape == (len(x_train), 10)

    np.random.seed(0)
    model = Sequential([Dense(32, activation="relu", input_shape=(64,)), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy > 0.85
