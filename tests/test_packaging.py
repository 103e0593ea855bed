"""The source distribution is the whole kit: build it, install it in a fresh venv, run its tests.

Also the command line's help and one-line errors, which a pip user meets first.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tarfile
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``python -m build``: the sdist, then the wheel built *from the sdist* (so it is complete)."""
    pytest.importorskip("build")
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (sdist,) = out.glob("minikeras-*.tar.gz")
    (wheel,) = out.glob("minikeras-*.whl")
    return sdist, wheel


@pytest.mark.slow
def test_the_sdist_holds_the_lessons_docs_tests_and_benchmarks(built: tuple[Path, Path]) -> None:
    sdist, _ = built
    with tarfile.open(sdist) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
        pkg_info = tar.extractfile(next(m for m in tar.getmembers() if m.name.endswith("/PKG-INFO")))
        metadata = pkg_info.read().decode() if pkg_info else ""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    wanted = [f for f in tracked if (f.startswith(("lessons/", "docs/", "tests/", "benchmarks/", "minikeras/"))
                                     and not f.endswith(".orig"))  # a stray merge leftover is not the kit
              or f in ("mkdocs.yml", "LICENSE", "README.md", "pyproject.toml", ".ci/run")]
    if wanted:  # in a clone: every tracked file of the kit is in the sdist
        assert sorted(set(wanted) - names) == []
    assert {"lessons/01_scalars_and_the_chain_rule.py", "docs/index.md", "tests/assignments/conftest.py",
            "benchmarks/mlp.py", "mkdocs.yml", "LICENSE", "minikeras/datasets/digits.npz"} <= names
    assert not [n for n in names if n.endswith((".ipynb", ".pyc")) or "_pictures" in n or "__pycache__" in n]
    assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata


@pytest.mark.slow
def test_the_sdist_installs_and_its_tests_pass_in_a_fresh_venv(built: tuple[Path, Path], tmp_path: Path) -> None:
    sdist, wheel = built
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # The test dependencies come from this venv (a path on sys.path, not a site dir: our own
    # editable install of minikeras is not seen); minikeras itself from the wheel.
    purelib = Path(sysconfig.get_paths()["purelib"])
    target = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip())
    (target / "deps.pth").write_text(str(purelib) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    str(wheel)], check=True, capture_output=True, timeout=300)
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp_path / "src", filter="data")
    (src,) = (tmp_path / "src").iterdir()
    # graphviz-pure's renderer is a script of this venv, found on PATH
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1",
           "PATH": sysconfig.get_path("scripts") + os.pathsep + os.environ.get("PATH", "")}
    env.pop("PYTHONPATH", None)
    where = subprocess.run([str(python), "-P", "-c", "import minikeras; print(minikeras.__file__)"], cwd=src,
                           capture_output=True, text=True, check=True, env=env).stdout.strip()
    assert Path(where).is_relative_to(env_dir), where  # the installed copy, not the source tree
    # -P: the source tree is not put first on sys.path, so the tests import the installed package.
    collected = subprocess.run([str(python), "-P", "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                               cwd=src, capture_output=True, text=True, timeout=300, env=env)
    assert collected.returncode == 0, collected.stdout[-3000:]
    assert int(collected.stdout.strip().splitlines()[-1].split()[0]) > 1000
    run = subprocess.run([str(python), "-P", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
                          "tests/test_readme.py", "tests/test_seeds.py", "tests/test_errors_that_teach.py",
                          "tests/test_lessons.py", "-k", "not lesson or 01_"],
                         cwd=src, capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout.splitlines()[-1] and "failed" not in run.stdout.splitlines()[-1]


def test_python_m_minikeras_help_and_one_line_errors(tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "minikeras", *args], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)

    for flag in ("--help", "-h"):
        done = run(flag)
        assert done.returncode == 0 and "usage: python -m minikeras" in done.stdout
        assert "demo" in done.stdout and "plot" in done.stdout and "assignments" in done.stdout
    missing = run("plot", "nope.h5")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.strip().splitlines() == ["python -m minikeras plot: error: nope.h5: no such file."]
    unknown = run("bogus")
    assert unknown.returncode == 2 and unknown.stderr.strip().endswith("unknown command 'bogus'")
