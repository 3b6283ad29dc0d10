"""What a plan is made of: the events for each person's calendar, and what could not be placed.

Every planned event has a key that says what it is (the kind, what it belongs to, which
occurrence, whose calendar), and its UID is derived from that key alone. So planning the
same thing again gives the same UID on every run: calendars update the event instead of
getting a duplicate.

What the rules cannot place (no working day for the team, no free preferred weekday, a
representative already at another meeting) is listed in the plan as skipped, with the
reason (naming who or what is in the way), instead of silently dropped.

Where a session or an aftercare was put is a `Placement`, handed back to the next run so
that what people have in their calendars stays put (see `stability`).
"""
from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

# Changing this namespace would give every event a new UID, i.e. duplicates in every
# calendar that was ever synced: never change it.
UID_NAMESPACE = uuid.UUID("6f1c9a52-3b0e-5a7d-9c61-4b2f0e8d7a13")
UID_DOMAIN = "kalender-sync"

_NAMESPACE_BYTES = UID_NAMESPACE.bytes


def day_of(moment: datetime | date) -> date:
    """The day of a start or end: a timed one's own (local) date, or the date of an all-day one."""
    return moment.date() if isinstance(moment, datetime) else moment


def uid_for(key: str) -> str:
    """The RFC 4122 name-based (SHA-1, version 5) UUID of `key`, as uuid.uuid5 gives it.

    Formatted from the hex digest directly: uuid.uuid5 builds a UUID object per call,
    which is slower, and this runs once for every planned event of every person.
    A property test holds it equal to uuid.uuid5.
    """
    h = hashlib.sha1(_NAMESPACE_BYTES + key.encode("utf-8")).hexdigest()
    variant = "89ab"[int(h[16], 16) & 0x3]          # RFC 4122 variant bits 10xx
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}@{UID_DOMAIN}"


class Dated:
    """What anything with a `start` (a planned event, an invitation) says about its day."""

    start: datetime | date

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def day(self) -> date:
        return day_of(self.start)


@dataclass(frozen=True)
class PlannedEvent(Dated):
    """One event in one person's calendar."""

    key: str                    # identity: kind/what/occurrence/person — UID is derived from it
    person: str
    kind: str                   # contact | aftercare | session | prepare | meeting | report_back
    title: str
    description: str
    start: datetime | date      # aware datetime, or a date for all-day events
    end: datetime | date        # exclusive
    group: str                  # the same for every person of one group event (for invitations)
    attendees: tuple[str, ...] = ()
    location: str | None = None
    alarm: timedelta | None = None
    busy: bool = True

    @cached_property
    def uid(self) -> str:
        # Cached: planning, diff, rendering and output all ask, and uuid5 is a SHA-1.
        return uid_for(self.key)


@dataclass(frozen=True)
class Skipped:
    """Something the rules could not place, said out loud instead of silently dropped."""

    what: str
    reason: str


@dataclass(frozen=True)
class Placement:
    """Where one session or aftercare occurrence (all its participants' events) was put.

    `basis` is what it was placed for: a session's period with its weekday and time
    ("2027-05 thu 14:00"), an aftercare's date and time ("2027-04-01 14:00", from the
    project's end). When that changes, the occurrence is placed afresh.
    """

    start: datetime
    basis: str


@dataclass
class Plan:
    today: date
    until: date
    events: list[PlannedEvent] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    # Per group key, every session and aftercare occurrence placed in this run (also
    # those outside [today, until)): what the next run gets back as `placed`.
    placements: dict[str, Placement] = field(default_factory=dict)
    # Per group key of an occurrence in [today, until): why it is where it is.
    reasons: dict[str, str] = field(default_factory=dict)
    # Occurrences kept where they were although someone became busy then (inside the
    # notice period, or while someone's busy times could not be read): who, and by what.
    conflicts: list[Skipped] = field(default_factory=list)

    def for_person(self, person: str) -> list[PlannedEvent]:
        # Indexed once: a scan per person made `plan` quadratic in the number of people.
        index = self.__dict__.get("_by_person")
        if index is None or self.__dict__.get("_indexed") is not self.events or len(self.events) != index[0]:
            groups: dict[str, list[PlannedEvent]] = defaultdict(list)
            for event in self.events:
                groups[event.person].append(event)
            index = (len(self.events), groups)
            self.__dict__["_by_person"], self.__dict__["_indexed"] = index, self.events
        return list(index[1].get(person, ()))
