"""Hypothesis settings profiles: ``dev`` (the default) and ``ci``.

Choose one with ``HYPOTHESIS_PROFILE=ci`` or ``pytest --hypothesis-profile=ci``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=50)
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
