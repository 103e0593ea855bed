"""The helpers that make one lesson file work as a script and as a notebook."""

from __future__ import annotations

import io
import sys
import types
from pathlib import Path

import pytest

from minikeras import graph as G
from minikeras.callbacks import Progbar
from minikeras.viz import in_notebook, pictures_folder, plot_graph, show


def in_a_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend to run in a Jupyter kernel: IPython's shell has a kernel."""
    ipython = types.ModuleType("IPython")
    shell = types.SimpleNamespace(kernel=object())
    ipython.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", ipython)


def test_pictures_folder_next_to_the_script_or_in_the_notebook_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MINIKERAS_LESSON_OUT", raising=False)
    script = tmp_path / "lessons" / "01_x.py"
    assert pictures_folder(str(script)) == tmp_path / "lessons" / "_pictures"
    assert (tmp_path / "lessons" / "_pictures").is_dir()
    monkeypatch.chdir(tmp_path)
    assert pictures_folder(None) == tmp_path / "_pictures"  # a notebook has no __file__
    monkeypatch.setenv("MINIKERAS_LESSON_OUT", str(tmp_path / "out"))
    assert pictures_folder(str(script)) == tmp_path / "out"


def test_show_displays_only_in_a_kernel(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("IPython")
    shown: list[object] = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", shown.append)
    picture = plot_graph(G.constant(1.0) + 1)
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))  # imported is not running
    assert not in_notebook() and show(picture) is picture and shown == []
    in_a_kernel(monkeypatch)
    assert show(picture) is picture and shown == [picture]
    png = tmp_path / "a.png"
    picture.save(str(png))
    show(png)
    assert type(shown[-1]).__name__ == "Image"
    assert "image/svg+xml" in picture._repr_mimebundle_()


def test_progbar_is_live_in_a_kernel_and_quiet_in_a_log(monkeypatch: pytest.MonkeyPatch) -> None:
    log = io.StringIO()
    bar = Progbar(10, stream=log)
    bar.update(5, {})
    bar.update(10, {})
    assert log.getvalue().count("\n") == 1 and "\r" not in log.getvalue()
    in_a_kernel(monkeypatch)
    live = io.StringIO()
    bar = Progbar(10, stream=live)
    bar.update(5, {})
    bar.update(10, {})
    assert live.getvalue().startswith("\r 5/10 [") and live.getvalue().count("\r") == 2


def test_a_model_shows_its_summary_as_a_table_in_a_notebook() -> None:
    import minikeras as keras
    from minikeras import backend as K
    from minikeras.layers import Dense, Input, concatenate

    K.clear_session()
    model = keras.Sequential([Dense(8, input_shape=(4,), name="hidden"), Dense(2, name="out")])
    page = model._repr_html_()
    assert page.startswith("<p><b>Model: sequential_1</b></p><table>")
    assert "<td>hidden (Dense)</td><td>(None, 8)</td><td>40</td>" in page
    assert "Total params: 58<br>" in page and "Connected to" not in page
    a, b = Input((3,), name="a"), Input((2,), name="b")
    merged = keras.Model([a, b], Dense(1, name="d")(concatenate([a, b], name="m")), name="two<inputs>")
    page = merged._repr_html_()
    assert "Model: two&lt;inputs&gt;" in page and "<td>a[0][0]<br>b[0][0]</td>" in page
