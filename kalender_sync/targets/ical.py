"""iCalendar objects read back into `Item`s: shared by every target that stores iCalendar
(CalDAV, .ics files, vdir folders, memory). A target with another format (a JSON API)
writes its own reader; the engine only sees `Item`."""
from __future__ import annotations

from datetime import date, datetime

from ..core.fingerprint import HASH, MARKER, observed_hash
from ..core.planning import day_of
from .base import Item


def first_event(data: bytes | str):
    """The first VEVENT of an iCalendar object, or None if there is none or it is unreadable."""
    from icalendar import Calendar   # not imported by a no-op sync, which parses nothing
    try:
        calendar = Calendar.from_ical(data)
    except ValueError:
        return None
    events = calendar.walk("VEVENT")
    return events[0] if events else None


def end_day(vevent) -> date | None:
    try:
        value = vevent.decoded("dtend") if "dtend" in vevent else vevent.decoded("dtstart")
    except (KeyError, ValueError):
        return None
    return day_of(value)


def start_text(vevent) -> str | None:
    try:
        return vevent.decoded("dtstart").isoformat()
    except (KeyError, ValueError, AttributeError):
        return None


def item_from_event(href: str, etag: str | None, vevent) -> Item:
    """What one VEVENT says, in the engine's words."""
    if vevent is None or "uid" not in vevent:
        return Item(href, etag, None)
    stamp = vevent.get("dtstamp")
    stamp_value = (stamp.dt.strftime("%Y%m%dT%H%M%SZ") if stamp is not None and isinstance(stamp.dt, datetime)
                   else "")
    try:
        sequence = int(vevent.get("sequence", 0) or 0)
    except (TypeError, ValueError):
        sequence = 0
    return Item(href=href, etag=etag, uid=str(vevent["uid"]),
                key=str(vevent[MARKER]) if MARKER in vevent else None,
                written_hash=str(vevent[HASH]) if HASH in vevent else None,
                seen_hash=observed_hash(vevent), sequence=sequence, stamp=stamp_value,
                end=end_day(vevent), title=str(vevent.get("summary", "")), start=start_text(vevent))


def read_item(href: str, etag: str | None, data: bytes | str | None) -> Item | None:
    """One calendar object resource (one event, maybe with overrides) as an Item; None if absent."""
    if data is None:
        return None
    return item_from_event(href, etag, first_event(data))
