"""The test tiers (docs/testes.md), as a plugin conftest.py loads: a test's markers follow
from what it needs, and the tests sharing a session server run on one xdist worker."""

from __future__ import annotations

import pytest

# A test's markers follow from what it needs: whatever uses one of these fixtures, directly
# or through another fixture, gets the marker, so `-m "not notebooks and not browser and not
# postgres"` is an honest fast tier (docs/testes.md). tests/test_markers.py checks the rest
# (what a test does in its body) statically.
MARKER_OF_FIXTURE = {"demo_run": "notebooks", "demo_simulator": "notebooks",
                     "postgres": "postgres", "pec_db": "postgres", "browser": "browser",
                     "sshd": "ssh", "pec_sshd": "ssh"}

# Under pytest-xdist (`-n 2 --dist loadgroup`) the tests sharing one of these session servers
# run on one worker: the demo simulator listens on the fixed ports 18080/18081 (two workers
# would clash), and the demo batch, PostgreSQL and the sshd start once instead of once per
# worker. A test needing several goes with the first of this order (the demo must never be on
# two workers; another sshd or PostgreSQL on a free port is only a cost). Without --dist
# loadgroup the mark is inert.
_GROUP_OF_FIXTURE = {"demo_simulator": "demo", "demo_run": "demo", "postgres": "postgres",
                     "pec_db": "postgres", "sshd": "sshd", "pec_sshd": "sshd"}
_GROUP_ORDER = ("demo", "postgres", "sshd")


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        for fixture in fixtures & MARKER_OF_FIXTURE.keys():
            item.add_marker(MARKER_OF_FIXTURE[fixture])
        groups = {_GROUP_OF_FIXTURE[f] for f in fixtures & _GROUP_OF_FIXTURE.keys()}
        group = next((g for g in _GROUP_ORDER if g in groups), None)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
