"""Planned events -> iCalendar, built with icalendar only (never string templates).

Every rule here comes from a way real clients break (../shared/reference/field-notes.md):
a VTIMEZONE for every TZID, no floating times, an exclusive DTEND for all-day
events, at most one DISPLAY alarm with a relative trigger, CRLF and 75-octet
folding (icalendar does both).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from icalendar import Alarm, Calendar, Event, vDuration

from . import texts
from .fingerprint import HASH, KIND, MARKER, content_hash, observed_hash  # noqa: F401 (re-exported)
from .planning import PlannedEvent
from .timezones import vtimezone

PRODID = "-//kalender-sync//kalender-sync//NL"

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
