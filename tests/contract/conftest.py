"""The targets the contract runs against: memory, every kind of the registry whose
calendars live in files or folders, and CalDAV on real Radicale and Xandikos."""
from __future__ import annotations

import pytest

from harnesses import CalDAVHarness, KindHarness, MemoryHarness
from kalender_sync.core.schema import CALENDAR_KINDS

# Where a kind of each location type keeps a test's calendars ({n}: one per target made).
_LOCATIONS = {"file": "cal{n}/{person}.ics", "folder": "cal{n}/{person}"}
LOCAL_KINDS = [key for key, kind in CALENDAR_KINDS.items() if kind.value in _LOCATIONS]
SERVERS = ["radicale", "xandikos"]


@pytest.fixture(params=["memory", *LOCAL_KINDS, *SERVERS])
def harness(request, tmp_path):
    if request.param == "memory":
        return MemoryHarness(tmp_path)
    if request.param in SERVERS:
        pytest.importorskip("caldav")
        from support.servers import CalDAVTarget
        server = CalDAVTarget(request.getfixturevalue(f"{request.param}_server"), request.node.name)
        request.addfinalizer(server.close)
        return CalDAVHarness(server)
    kind = CALENDAR_KINDS[request.param]
    return KindHarness(request.param, _LOCATIONS[kind.value], tmp_path)
