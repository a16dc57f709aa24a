"""Shared pytest configuration: hypothesis profiles.

The default profile keeps the whole run near a minute; ``--hypothesis-profile=long``
(or ``HYPOTHESIS_PROFILE=long``) runs ten times as many examples.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
