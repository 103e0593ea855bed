"""``viz.explore``: the offline page that steps through a recorded call of a ``K.function``.

The first tests read the page's data and text in Python; the ones marked ``browser`` open the
saved page in the system's headless Chromium (skipped where it is not installed), step through
it, click nodes, and compare what the page shows with what the function returned.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minikeras as keras
from minikeras import backend as K
from minikeras.layers import Dense, Dropout, Input, concatenate
from minikeras.models import Model
from minikeras.optimizers import SGD, Adam
from minikeras.viz import Explorer, explore, graph_to_dot, plot_graph
from minikeras.viz.explore import FULL_SIZE, describe_value
from minikeras.viz.ops import STYLES

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("make_images", ROOT / "docs" / "make_images.py")
make_images = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_images)

X, T = np.array([[1.0, 2.0]]), np.array([[1.0]])


def sgd_step() -> tuple[K.Function, Any]:
    K.clear_session()
    np.random.seed(0)
    x = Input(shape=(2,), name="x")
    y = Dense(1, name="linear")(x)
    target = K.placeholder(shape=(None, 1), name="target")
    loss = K.mean(K.square(y - target))
    model = keras.Model(x, y)
    with K.name_scope("training"):
        updates = SGD(lr=0.1).get_updates(loss=loss, params=model.weights)
    return K.function([x, target], [loss], updates=updates), model


def readme_train_function() -> tuple[K.Function, list[np.ndarray]]:
    """The README's model (Dense, Dropout, Dense, Dense), compiled: its training step."""
    K.clear_session()
    np.random.seed(0)
    model = keras.Sequential([Dense(8, activation="relu", input_shape=(4,), name="my_layer"),
                              Dropout(0.5), Dense(6, activation="relu"), Dense(3, activation="softmax")])
    model.compile(SGD(lr=0.1), "categorical_crossentropy")
    data, labels = np.random.rand(10, 4), np.eye(3)[np.arange(10) % 3]
    return model._make_train_function(), [data, labels, 1]


def ddpg_actor_update() -> tuple[K.Function, list[np.ndarray]]:
    """Lesson 12's wiring: the critic called on the actor's action, Adam on the actor's weights."""
    K.clear_session()
    np.random.seed(0)
    observation = Input(shape=(3,), name="critic_observation")
    action_input = Input(shape=(2,), name="action_input")
    h = Dense(32, activation="relu", name="critic_hidden_1")(concatenate([observation, action_input]))
    h = Dense(32, activation="relu", name="critic_hidden_2")(h)
    critic = Model([observation, action_input], Dense(1, name="q_value")(h), name="critic")
    state = Input(shape=(3,), name="observation")
    hidden = Dense(16, activation="relu", name="actor_hidden")(state)
    actor = Model(state, Dense(2, activation="tanh", name="action")(hidden), name="actor")
    q = critic([observation, actor([observation])])
    updates = Adam(lr=0.01).get_updates(params=actor.trainable_weights, loss=-K.mean(q))
    train = K.function([observation, K.learning_phase()], [actor([observation])], updates=updates)
    return train, [np.random.uniform(-1.5, 1.5, (256, 3)).astype("float32"), 1]


def numbers(text: str) -> np.ndarray:
    return np.array([float(s) for s in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", text)])


def entries(value_text: str) -> np.ndarray:
    """The numbers of a value as the page writes it (its first line is the shape and dtype)."""
    return numbers(value_text.split("\n", 1)[1])


def shown_value(panel: str, label: str) -> np.ndarray:
    """The numbers of the value shown under ``label`` in the panel's text."""
    lines = panel.split(label, 1)[1].splitlines()[2:]  # the rest of the label's line, the shape
    body = []
    for line in lines:
        if not re.match(r"\s*[-\[\d]", line):
            break
        body.append(line)
    return numbers(" ".join(body))


# --- the page's data, read in Python ----------------------------------------------------------


def test_explore_runs_the_function_once_and_keeps_what_it_returned() -> None:
    f, model = sgd_step()
    kernel = model.weights[0]
    before = K.get_value(kernel).copy()
    explorer = explore(f, [X, T])
    assert isinstance(explorer, Explorer) and len(explorer.outputs) == 1
    loss = float(np.mean((X @ before - T) ** 2))  # the bias starts at zero
    assert np.isclose(explorer.outputs[0][0], loss)
    assert not np.allclose(K.get_value(kernel), before)  # exploring is running: it trained once
    assert f.record_values is False  # left as it was


def test_steps_follow_the_plan_then_the_updates_are_written_last() -> None:
    f, _ = sgd_step()
    steps = explore(f, [X, T]).data()["steps"]
    plan = f.plan
    assert [s["op"] for s in steps[: len(plan.steps)]] == [step.op.name for step in plan.steps]
    written = steps[len(plan.steps):]
    assert [s["phase"] for s in written] == ["assign"] * len(plan.updates)
    assert [s["node"] for s in written] == [var.op.name for var, _ in plan.updates]
    phases = {s["op"]: s["phase"] for s in steps[: len(plan.steps)]}
    assert phases["linear/MatMul"] == phases["Mean"] == "forward"
    assert phases["training/gradients/linear/MatMul_grad/MatMul_1"] == "gradient"
    assert phases["training/SGD/update_linear_kernel/Sub"] == "update"  # kernel - lr * grad: not yet written
    first_gradient = min(i for i, s in enumerate(steps) if s["phase"] == "gradient")
    assert max(i for i, s in enumerate(steps) if s["phase"] == "forward") < first_gradient


def test_a_variable_shows_its_value_before_and_after_each_call() -> None:
    f, model = sgd_step()
    kernel = model.weights[0]
    start = K.get_value(kernel).copy()
    explorer = explore(f, [X, T])
    after_first = K.get_value(kernel).copy()
    explorer.add_call([X, T])
    calls = explorer.data()["calls"]
    assert len(calls) == 2 and len(explorer.outputs) == 2
    assert np.allclose(entries(calls[0]["values"]["linear/kernel:0"]), start.ravel(), atol=1e-6)
    assert np.allclose(entries(calls[0]["after"]["linear/kernel:0"]), after_first.ravel(), atol=1e-6)
    assert calls[1]["values"]["linear/kernel:0"] == calls[0]["after"]["linear/kernel:0"]
    assert explorer.outputs[1][0] < explorer.outputs[0][0]  # the weights moved: the loss fell


def test_values_small_in_full_big_as_statistics() -> None:
    small = describe_value(np.arange(6, dtype="float32").reshape(2, 3))
    assert small.startswith("shape (2, 3), float32") and np.array_equal(entries(small), np.arange(6))
    big = describe_value(np.arange(100.0).reshape(10, 10))
    assert "100 entries (summarised)" in big
    assert "min 0  mean 49.5  max 99" in big and "first 8: [0., 1., 2., 3., 4., 5., 6., 7., ...]" in big
    assert describe_value(np.float32(2.5)).endswith("2.5")


def test_values_past_the_cap_are_left_out_and_the_page_says_so(tmp_path: Path) -> None:
    f, _ = sgd_step()
    explorer = explore(f, [X, T], max_value_chars=300)
    calls = explorer.data()["calls"]
    left = [name for name, text in calls[0]["values"].items() if text is None]
    assert left, "a 300-character cap cannot hold every value"
    notes = " ".join(explorer.notes())
    assert f"{len(left) + sum(v is None for v in calls[0]['after'].values())} values were left out" in notes
    page = Path(explorer.save(tmp_path / "step.html")).read_text(encoding="utf-8")
    assert "values were left out" in page and f"more than {FULL_SIZE} entries" in page


def test_the_page_is_one_offline_file_with_no_url(tmp_path: Path) -> None:
    f, _ = sgd_step()
    path = explore(f, [X, T]).save(tmp_path / "step.html")
    assert [p.name for p in tmp_path.iterdir()] == ["step.html"]
    page = Path(path).read_text(encoding="utf-8")
    for pattern in [r"://", r"www\.", r"\bhref\s*=", r"\bsrc\s*=", r"url\(", r"@import", r"\bfetch\(",
                    r"XMLHttpRequest", r"\bimport\(", r"<link\b", r"\.js\b"]:
        assert not re.search(pattern, page, re.I), f"the saved page refers to something outside it: {pattern}"
    assert page.count("<script") == 2  # the JSON and the project's own script, both inline


def test_the_page_draws_the_same_graph_as_plot_graph(tmp_path: Path) -> None:
    f, _ = sgd_step()
    explorer = explore(f, [X, T])
    assert explorer.dot == graph_to_dot(f)
    page = Path(explorer.save(tmp_path / "step.html")).read_text(encoding="utf-8")
    for step in f.plan.steps:
        assert f"<title>{step.op.name}</title>" in page
    for _, fill, _ in STYLES.values():
        assert fill in page  # the same colours
    assert 'id="cluster_' in page or "<title>cluster_" in page  # the same clusters


def test_plot_graph_interactive_is_explore(tmp_path: Path) -> None:
    f, model = sgd_step()
    explorer = plot_graph(f, interactive=True, inputs=[X, T], to_file=str(tmp_path / "f.html"))
    assert isinstance(explorer, Explorer) and (tmp_path / "f.html").exists()
    f.record_values = True
    f([X, T])
    recorded = plot_graph(f, interactive=True)  # no inputs: the last recorded call
    assert len(recorded.outputs) == 1
    with pytest.raises(TypeError, match="steps through a K.function"):
        plot_graph(f.outputs[0], interactive=True)
    kernel = K.get_value(model.weights[0]).copy()
    with pytest.raises(ValueError, match=r"\.html"):
        plot_graph(f, interactive=True, inputs=[X, T], to_file=str(tmp_path / "f.svg"))
    assert np.array_equal(K.get_value(model.weights[0]), kernel)  # refused before the call
    assert not (tmp_path / "f.svg").exists()


def test_a_collapsed_layer_is_one_node_that_runs_all_its_steps() -> None:
    f, _ = sgd_step()
    explorer = explore(f, [X, T], collapse=["linear"])
    data = explorer.data()
    assert [op["name"] for op in data["nodes"]["linear"]["ops"]] == [
        "linear/kernel", "linear/MatMul", "linear/bias", "linear/BiasAdd"]
    assert [s["node"] for s in data["steps"][:2]] == ["linear", "linear"]
    assert '"linear" [' in explorer.dot


def test_bad_uses_say_what_to_do(tmp_path: Path) -> None:
    f, _ = sgd_step()
    with pytest.raises(TypeError, match=r"K\.function"):
        explore(f.outputs[0], [X, T])
    with pytest.raises(ValueError, match="record_values = True"):
        explore(f)
    explorer = explore(f, [X, T])
    with pytest.raises(ValueError, match=r"\.html"):
        explorer.save(tmp_path / "step.png")
    assert not list(tmp_path.iterdir())  # nothing half written


def test_it_displays_inline_in_jupyter_in_its_own_frame() -> None:
    f, _ = sgd_step()
    shown = explore(f, [X, T])._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and "&lt;svg" in shown and "<svg" not in shown


def test_the_script_is_small_and_the_projects_own() -> None:
    script = (ROOT / "minikeras" / "viz" / "explore.js").read_text(encoding="utf-8")
    assert len(script.splitlines()) < 200  # docs/pictures.md says so
    assert "require(" not in script and "import " not in script


# --- in a real browser ------------------------------------------------------------------------

browser = pytest.mark.skipif(
    not (shutil.which("chromedriver") and Path(make_images.CHROMIUM).exists()
         and importlib.util.find_spec("selenium")),
    reason="needs Debian's headless Chromium: apt-get install chromium chromium-driver "
           "(and selenium, in the test extra); .ci/run installs them",
)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Any:
    chromium = make_images.headless_chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.quit()


def open_page(driver: Any, path: str) -> None:
    driver.get(Path(path).as_uri())
    driver.get_log("browser")  # start each page with an empty console


def current(driver: Any) -> str:
    """The id (graphviz's <title>) of the node the page highlights now."""
    return driver.execute_script(
        "const g = document.querySelectorAll('#graph g.node.current');"
        "return g.length === 1 ? g[0].querySelector('title').textContent : g.length;")


def click_node(driver: Any, node: str) -> str:
    driver.execute_script(
        "for (const g of document.querySelectorAll('#graph g.node'))"
        "  if (g.querySelector('title').textContent === arguments[0])"
        "    g.dispatchEvent(new MouseEvent('click', {bubbles: true}));", node)
    return driver.find_element("id", "panel").text


def console_errors(driver: Any) -> list[Any]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


@browser
def test_stepping_highlights_the_op_the_plan_runs(driver: Any, tmp_path: Path) -> None:
    from selenium.webdriver.support.wait import WebDriverWait

    f, _ = sgd_step()
    explorer = explore(f, [X, T])
    open_page(driver, explorer.save(tmp_path / "step.html"))
    ops = [step.op.name for step in f.plan.steps]
    assert current(driver) == ops[0]
    nxt = driver.find_element("id", "next")
    for k in range(1, len(ops)):
        nxt.click()
        assert current(driver) == ops[k], f"step {k + 1}"
        done = driver.execute_script(
            "return [...document.querySelectorAll('#graph g.node.done')].map(g => g.dataset.node)")
        assert set(done) == set(ops[:k])
        assert f"step {k + 1} of " in driver.find_element("id", "position").text
    nxt.click()  # then the updates, written after the outputs
    assert current(driver) == f.plan.updates[0][0].op.name
    assert "the outputs were already returned" in driver.find_element("id", "status").text
    body = driver.find_element("tag name", "body")
    body.send_keys("\ue012")  # left arrow: one step back
    assert current(driver) == ops[-1]
    body.send_keys("\ue014")  # right arrow: forward again
    assert current(driver) == f.plan.updates[0][0].op.name
    driver.execute_script("const s = document.getElementById('slider');"
                          "s.value = 2; s.dispatchEvent(new Event('input'));")
    assert current(driver) == ops[2]
    play = driver.find_element("id", "play")
    play.click()  # play walks on by itself, and pauses when clicked again
    WebDriverWait(driver, 20).until(lambda d: current(d) not in ops[:3])
    play.click()
    paused = driver.find_element("id", "position").text
    time.sleep(1.0)
    assert driver.find_element("id", "position").text == paused and play.text == "play"
    assert console_errors(driver) == []


@browser
def test_clicking_nodes_shows_the_values_the_function_returned(driver: Any, tmp_path: Path) -> None:
    f, model = sgd_step()
    kernel = model.weights[0]
    start = K.get_value(kernel).copy()
    explorer = explore(f, [X, T])
    after_first = K.get_value(kernel).copy()
    explorer.add_call([X, T])
    open_page(driver, explorer.save(tmp_path / "step.html"))

    text = click_node(driver, "Mean")  # the loss, before it is computed ...
    assert "Mean" in text and "op type: Mean" in text and "shape ()" in text and "float32" in text
    assert "not computed yet" in text
    for _ in range(len(f.plan.steps)):
        driver.find_element("id", "next").click()
    text = driver.find_element("id", "panel").text  # ... and after (the panel follows the steps)
    assert np.allclose(shown_value(text, "value (computed at step"), explorer.outputs[0][0], rtol=1e-5)

    text = click_node(driver, "linear/kernel")
    assert "shape (2, 1), dtype float32" in text
    assert np.allclose(shown_value(text, "before the updates"), start.ravel(), atol=1e-6)
    assert "its update is written at step" in text  # not yet: the step writing it comes next
    driver.find_element("id", "next").click()
    driver.find_element("id", "next").click()
    text = driver.find_element("id", "panel").text
    assert np.allclose(shown_value(text, "value after the updates"), after_first.ravel(), atol=1e-6)

    driver.find_element("tag name", "body").send_keys("\ue010")  # End: call 2's last step
    text = driver.find_element("id", "panel").text
    assert "call 2 of 2" in driver.find_element("id", "position").text
    assert np.allclose(shown_value(text, "before the updates of call 2"), after_first.ravel(), atol=1e-6)
    assert console_errors(driver) == []


@browser
def test_pages_with_only_updates_or_nothing_to_run(driver: Any, tmp_path: Path) -> None:
    K.clear_session()
    a, b = K.variable(1.0, name="a"), K.variable(2.0, name="b")
    swap = explore(K.function([], [], updates=[(a, b), (b, a)]), [])
    open_page(driver, swap.save(tmp_path / "swap.html"))
    assert current(driver) == "a" and "a:0 \u2190 b:0" in driver.find_element("id", "status").text
    driver.find_element("id", "next").click()
    text = click_node(driver, "a")
    assert shown_value(text, "before the updates") == [1.0] and shown_value(text, "after the updates") == [2.0]
    x = K.placeholder(shape=(2,), name="x")
    identity = explore(K.function([x], [x]), [np.array([3.0, 4.0])])
    open_page(driver, identity.save(tmp_path / "identity.html"))
    assert "runs no op" in driver.find_element("id", "status").text
    assert shown_value(click_node(driver, "x"), "value (given to the call)").tolist() == [3.0, 4.0]
    assert console_errors(driver) == []


def time_steps(driver: Any, count: int) -> float:
    """Seconds per step: clicking next and waiting for the page to show it."""
    nxt = driver.find_element("id", "next")
    start = time.perf_counter()
    for _ in range(count):
        nxt.click()
    driver.execute_script("return document.getElementById('position').textContent")
    return (time.perf_counter() - start) / count


@browser
@pytest.mark.parametrize("make", [readme_train_function, ddpg_actor_update], ids=["readme", "ddpg"])
def test_big_pages_open_and_step_quickly(driver: Any, tmp_path: Path, make: Any) -> None:
    f, inputs = make()
    explorer = explore(f, inputs)
    explorer.add_call(inputs)
    start = time.perf_counter()
    open_page(driver, explorer.save(tmp_path / "page.html"))
    opened = time.perf_counter() - start
    per_step = time_steps(driver, 30)
    slider = time.perf_counter()
    driver.execute_script("const s = document.getElementById('slider');"
                          "s.value = s.max; s.dispatchEvent(new Event('input'));")
    jump = time.perf_counter() - slider
    print(f"{make.__name__}: {len(f.plan.steps)} plan steps, page {Path(tmp_path / 'page.html').stat().st_size:,}"
          f" bytes, opened in {opened:.2f} s, {per_step * 1000:.0f} ms per step, slider jump {jump * 1000:.0f} ms")
    assert current(driver) == f.plan.updates[-1][0].op.name
    assert per_step < 5.0 and jump < 5.0  # the issue asks for under a second; this bound only catches hangs
    assert console_errors(driver) == []


@browser
def test_the_docs_screenshot_can_be_made(tmp_path: Path) -> None:
    make_images.explore_screenshot(tmp_path / "shot.png")
    assert (tmp_path / "shot.png").read_bytes()[:4] == b"\x89PNG"
    assert (ROOT / "docs" / "images" / "explore_step.png").exists()
