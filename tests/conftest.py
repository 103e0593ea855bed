"""What every test shares: hypothesis profiles, a fresh session, plans checked both ways.

Hypothesis profiles are picked by ``HYPOTHESIS_PROFILE``: ``dev`` (fast, the default on a
laptop), ``ci`` (deterministic; the default when ``CI`` is set) and ``intense`` (long).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from minikeras import backend as K
from minikeras.graph.plan import Plan

# Timing varies on shared machines; a deadline would make gradient tests flaky.
settings.register_profile("dev", max_examples=12, deadline=None)
settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True, database=None,
                          print_blob=True)
settings.register_profile("intense", max_examples=600, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(autouse=True)
def fresh_session(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts in a new graph (names are deterministic: ``dense_1``, ``MatMul``),
    with NumPy's global generator seeded by the module's ``SEED`` (default 1234), and
    leaves floatx and epsilon as it found them."""
    K.clear_session()
    np.random.seed(getattr(request.module, "SEED", 1234))
    yield
    K.set_floatx("float32")
    K.set_epsilon(1e-7)
    K.clear_session()


@pytest.fixture(autouse=True, scope="session")
def plans_run_both_ways() -> Iterator[None]:
    """Every plan the tests run plainly is also run by the reference loop of ``plan.py``,
    and the two must agree exactly: the compiler is a speed pass, never a second meaning."""
    Plan.check_compiled = True
    yield
    Plan.check_compiled = False


@pytest.fixture
def plain_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """For a test that counts what one run does (memory, calls): runs are not doubled."""
    monkeypatch.setattr(Plan, "check_compiled", False)
