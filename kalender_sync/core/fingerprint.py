"""What tells our events apart from everyone else's, and an edit from our own version.

Kept apart from render.py so the no-op paths (diff, sync, files through the index) need not
import icalendar: a no-op `sync` is mostly start-up time.
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone

from .planning import PlannedEvent

# The ownership marker. An event is ours only if it carries this key AND its UID is
# the one derived from that key (planning.uid_for), so copying the marker is not enough.
MARKER = "X-KALENDER-SYNC-KEY"
KIND = "X-KALENDER-SYNC-KIND"
# What the content was when we wrote it: a later difference means someone else edited it.
HASH = "X-KALENDER-SYNC-HASH"


def _fingerprint(title: str, description: str, start, end, location: str, alarm: timedelta | None,
                 busy: bool) -> str:
    parts = [title, description, _moment(start), _moment(end), location,
             str(int(alarm.total_seconds())) if alarm is not None else "", "busy" if busy else "free"]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _moment(value: datetime | date) -> str:
    if isinstance(value, datetime):
        # The instant plus the zone: a user who moves the event to another zone edited it.
        return f"{value.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}/{getattr(value.tzinfo, 'key', value.tzinfo)}"
    return value.isoformat()


def content_hash(event: PlannedEvent) -> str:
    """What the person sees, hashed: a change here is a real update (new SEQUENCE)."""
    return _fingerprint(event.title, event.description, event.start, event.end, event.location or "",
                        event.alarm if not event.all_day else None, event.busy)


def observed_hash(vevent) -> str | None:
    """The same fingerprint, read back from an event as a server or file holds it now.

    Servers reorder properties and add VTIMEZONEs (Radicale, Xandikos), so bytes cannot
    be compared; the values the person sees can. If this differs from the X-KALENDER-SYNC-HASH
    the event carries, someone edited it after we wrote it.
    """
    try:
        start = vevent.decoded("dtstart")
        end = vevent.decoded("dtend") if "dtend" in vevent else start
        alarms = vevent.walk("VALARM")
        alarm = None
        if alarms and "trigger" in alarms[0]:
            trigger = alarms[0].decoded("trigger")
            alarm = -trigger if isinstance(trigger, timedelta) else None
        return _fingerprint(str(vevent.get("summary", "")), str(vevent.get("description", "")), start, end,
                            str(vevent.get("location", "")), alarm,
                            str(vevent.get("transp", "OPAQUE")).upper() != "TRANSPARENT")
    except (KeyError, ValueError, TypeError):
        return None
