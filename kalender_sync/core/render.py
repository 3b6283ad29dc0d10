"""Planned events -> iCalendar, built with icalendar only (never string templates).

Every rule here comes from a way real clients break (../shared/reference/field-notes.md):
a VTIMEZONE for every TZID, no floating times, an exclusive DTEND for all-day
events, at most one DISPLAY alarm with a relative trigger, CRLF and 75-octet
folding (icalendar does both).
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone

from icalendar import Alarm, Calendar, Event, vDuration

from . import texts
from .planning import PlannedEvent
from .timezones import vtimezone

PRODID = "-//kalender-sync//kalender-sync//NL"
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


def build_event(event: PlannedEvent, stamp: datetime, sequence: int = 0, lang: str = "nl") -> Event:
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", stamp.astimezone(timezone.utc))
    vevent.add("sequence", sequence)
    vevent.add("summary", event.title)
    vevent.add("dtstart", event.start)
    vevent.add("dtend", event.end)
    vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    vevent.add("status", "CONFIRMED")
    vevent.add("transp", "OPAQUE" if event.busy else "TRANSPARENT")
    vevent.add("categories", ["kalender-sync"])
    vevent.add(MARKER, event.key)
    vevent.add(KIND, event.kind)
    vevent.add(HASH, content_hash(event))
    if event.alarm is not None and not event.all_day:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", texts.alarm_text(lang))
        alarm.add("trigger", -event.alarm)
        vevent.add_component(alarm)
    return vevent


def tzids(events: list[PlannedEvent]) -> set[str]:
    return {str(e.start.tzinfo) for e in events if isinstance(e.start, datetime)}


def add_timezones(calendar: Calendar, events: list[PlannedEvent]) -> None:
    """One VTIMEZONE per TZID used, covering exactly the years of these events."""
    years = [e.day.year for e in events]
    for tzid in sorted(tzids(events)):
        calendar.add_component(vtimezone(tzid, min(years), max(years)))


def new_calendar(name: str | None = None, method: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def render_calendar(events: list[PlannedEvent], stamp: datetime, name: str, lang: str,
                    method: str | None = "PUBLISH", versions: dict[str, tuple[int, datetime]] | None = None,
                    refresh: timedelta | None = None) -> bytes:
    """A whole calendar file (one person's): VTIMEZONEs first, then events in a fixed order."""
    calendar = new_calendar(name, method)
    if refresh is not None:
        # Apple honours REFRESH-INTERVAL (RFC 7986), classic Outlook X-PUBLISHED-TTL; emit both.
        calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        # As an RFC 5545 duration (PT12H): a bare timedelta would be written as 12:00:00.
        calendar.add("x-published-ttl", vDuration(refresh))
    ordered = sorted(events, key=lambda e: (e.day, e.uid))
    add_timezones(calendar, ordered)
    for event in ordered:
        sequence, event_stamp = (versions or {}).get(event.uid, (0, stamp))
        calendar.add_component(build_event(event, event_stamp, sequence, lang))
    return calendar.to_ical()


def render_object(event: PlannedEvent, stamp: datetime, sequence: int, lang: str) -> bytes:
    """One CalDAV calendar object resource: one VEVENT, no METHOD (RFC 4791 §4.1)."""
    calendar = new_calendar()
    add_timezones(calendar, [event])
    calendar.add_component(build_event(event, stamp, sequence, lang))
    return calendar.to_ical()
