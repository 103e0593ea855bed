"""Hypothesis profiles, picked by ``HYPOTHESIS_PROFILE``: ``dev`` (fast, the default on a
laptop), ``ci`` (deterministic; the default when ``CI`` is set) and ``intense`` (long).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Timing varies on shared machines; a deadline would make gradient tests flaky.
settings.register_profile("dev", max_examples=12, deadline=None)
settings.register_profile("ci", max_examples=30, deadline=None, derandomize=True, database=None,
                          print_blob=True)
settings.register_profile("intense", max_examples=600, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
