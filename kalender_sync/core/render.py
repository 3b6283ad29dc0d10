"""Planned events -> iCalendar, built with icalendar only (never string templates).

Every rule here comes from a way real clients break (Outlook, Google, Thunderbird, CalDAV
servers; the README's compatibility notes): a VTIMEZONE for every TZID, no floating times, an exclusive DTEND for all-day
events, at most one DISPLAY alarm with a relative trigger, CRLF and 75-octet
folding (icalendar does both).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from icalendar import Alarm, Calendar, Event, vDuration

from . import texts
from .fingerprint import HASH, KIND, MARKER, content_hash, observed_hash  # noqa: F401 (re-exported)
from .planning import PlannedEvent, day_of
from .timezones import VTimezones

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


def _start(component) -> date:
    return day_of(component.decoded("dtstart"))


def _tzids(component) -> set[str]:
    found = set()
    for name in ("dtstart", "dtend"):
        value = component.get(name)
        tzid = value.params.get("TZID") if value is not None and hasattr(value, "params") else None
        if tzid:
            found.add(str(tzid))
    return found


def compose(events: list, zones: VTimezones | None = None, name: str | None = None,
            method: str | None = "PUBLISH", refresh: timedelta | None = None, others: list = ()) -> bytes:
    """A whole calendar from VEVENT components: a VTIMEZONE for every TZID, then the events in
    a fixed order (day, UID), then any other components (`others`: what someone else put in
    a file, such as a VTODO, or the VTIMEZONE of a zone the IANA database does not know)."""
    calendar = new_calendar(name, method)
    if refresh is not None:
        # Apple honours REFRESH-INTERVAL (RFC 7986), classic Outlook X-PUBLISHED-TTL; emit both.
        calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        # As an RFC 5545 duration (PT12H): a bare timedelta would be written as 12:00:00.
        calendar.add("x-published-ttl", vDuration(refresh))
    ordered = sorted(events, key=lambda c: (_start(c), str(c["uid"])))
    zones = zones if zones is not None else VTimezones()
    if ordered:
        years = [_start(c).year for c in ordered]
        for tzid in sorted(set().union(*(_tzids(c) for c in ordered))):
            zone = zones.get(tzid, min(years), max(years))
            if zone is not None:
                calendar.add_component(zone)
    for component in ordered:
        calendar.add_component(component)
    for component in others:
        calendar.add_component(component)
    return calendar.to_ical()


def render_calendar(events: list[PlannedEvent], stamp: datetime, name: str, lang: str,
                    zones: VTimezones | None = None, method: str | None = "PUBLISH",
                    refresh: timedelta | None = None) -> bytes:
    """A whole calendar (one person's feed): every planned event, SEQUENCE 0, DTSTAMP `stamp`."""
    return compose([build_event(event, stamp, 0, lang) for event in events], zones, name, method, refresh)


def render_object(event: PlannedEvent, stamp: datetime, sequence: int, lang: str,
                  zones: VTimezones | None = None) -> bytes:
    """One CalDAV calendar object resource: one VEVENT, no METHOD (RFC 4791 §4.1)."""
    return compose([build_event(event, stamp, sequence, lang)], zones, method=None)
