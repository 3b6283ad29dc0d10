"""One harness per kind of calendar target: how to make a fresh, empty one, and how
"someone else" (another person's calendar app) puts items into it behind our back.

The contract suite (test_targets.py) runs every test against every harness, so a new
target kind passes the same contract by adding its harness here (targets of a kind that
stores its calendars in a folder or a file get theirs from the kind's registry entry).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from pathlib import Path

from icalendar import Calendar, Event

from kalender_sync.core.model import Calendar as CalendarConfig, Person, WorkingHours
from kalender_sync.targets.base import CalendarTarget
from kalender_sync.targets.memory import MemoryCalendar
from kalender_sync.targets.registry import TargetContext, open_target

PERSON = Person("anna", "Anna de Wit", "anna@example.nl", "cal", WorkingHours(((),) * 7), "nl")


def foreign_body(summary: str = "Klantafspraak", uid: str | None = None) -> tuple[str, bytes]:
    """Someone else's event, as their calendar app would write it."""
    uid = uid or f"foreign-{uuid.uuid4().hex}@example.org"
    calendar = Calendar()
    calendar.add("prodid", "-//someone else//EN")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", datetime(2026, 11, 1, tzinfo=timezone.utc))
    event.add("dtstart", datetime(2026, 12, 3, 9, tzinfo=timezone.utc))
    event.add("dtend", datetime(2026, 12, 3, 10, tzinfo=timezone.utc))
    event.add("summary", summary)
    calendar.add_component(event)
    return uid, calendar.to_ical()


class MemoryHarness:
    name = "memory"

    def __init__(self, tmp_path: Path):
        self.stores: dict[str, MemoryCalendar] = {}

    def new(self) -> CalendarTarget:
        target = MemoryCalendar(f"m{len(self.stores)}")
        self.stores[target.identity()] = target
        return target

    def reopen(self, target) -> CalendarTarget:
        return self.stores[target.identity()]     # memory lives as long as the object

    def put_foreign(self, target, uid: str, body: bytes) -> None:
        target.put_foreign(f"{uid.split('@')[0]}.ics", body)

    def foreign_bytes(self, target, uid: str) -> bytes:
        return next(b for b in target.bodies().values() if uid.encode() in b)


class KindHarness:
    """A registered kind whose calendars are files or folders below the config's folder."""

    def __init__(self, kind: str, location: str, tmp_path: Path):
        self.name = kind
        self.kind, self.location, self.tmp = kind, location, tmp_path
        self.configs: dict[str, CalendarConfig] = {}     # by target identity

    def _open(self, config: CalendarConfig) -> CalendarTarget:
        target = open_target(config, PERSON, TargetContext(self.tmp, "Contract"))
        self.configs[target.identity()] = config
        return target

    def new(self) -> CalendarTarget:
        return self._open(CalendarConfig("cal", self.kind, self.location.replace("{n}", str(len(self.configs)))))

    def reopen(self, target) -> CalendarTarget:
        return self._open(self.configs[target.identity()])

    def path(self, target) -> Path:
        return self.tmp / self.configs[target.identity()].location.replace("{person}", PERSON.id)

    def put_foreign(self, target, uid: str, body: bytes) -> None:
        path = self.path(target)
        if self.kind == "ics":
            # A person who pasted someone else's event into the file: it stays as it is.
            existing = Calendar.from_ical(path.read_bytes()) if path.exists() else None
            calendar = Calendar.from_ical(body)
            if existing is not None:
                for component in calendar.walk("VEVENT"):
                    existing.add_component(component)
                calendar = existing
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(calendar.to_ical())
        else:
            path.mkdir(parents=True, exist_ok=True)
            (path / f"{uid.split('@')[0]}.ics").write_bytes(body)

    def foreign_bytes(self, target, uid: str) -> bytes:
        path = self.path(target)
        if self.kind == "ics":
            event = next(e for e in Calendar.from_ical(path.read_bytes()).walk("VEVENT") if str(e["uid"]) == uid)
            return event.to_ical()
        return (path / f"{uid.split('@')[0]}.ics").read_bytes()


class CalDAVHarness:
    def __init__(self, server):
        self.name = server.kind
        self.server = server

    def new(self) -> CalendarTarget:
        from kalender_sync.targets.caldav import CalDAVTarget
        url = self.server.new_calendar("contract")
        return CalDAVTarget(url, self.server.username, "not-a-secret", lang="nl")

    def reopen(self, target) -> CalendarTarget:
        from kalender_sync.targets.caldav import CalDAVTarget
        return CalDAVTarget(target.url, self.server.username, "not-a-secret", lang="nl")

    def put_foreign(self, target, uid: str, body: bytes) -> None:
        reply = self.server.request("PUT", target.url + f"{uid.split('@')[0]}.ics", body,
                                    {"If-None-Match": "*", "Content-Type": "text/calendar"})
        assert reply.status in (201, 204), reply

    def foreign_bytes(self, target, uid: str) -> bytes:
        reply = self.server.request("GET", target.url + f"{uid.split('@')[0]}.ics")
        assert reply.status == 200
        return reply.body + reply.headers.get("etag", "").encode()   # bytes and ETag unchanged
