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


# RFC 5545 §3.2.19: the properties that take a TZID.
_ZONED = ("DTSTART", "DTEND", "DUE", "RECURRENCE-ID", "EXDATE", "RDATE")


def _zoned_moments(component):
    """(TZID, aware datetime) for every value with a TZID in `component` and its
    subcomponents, and for each alarm with a relative trigger the instant it fires, under
    the zone of what it is relative to. DTSTAMP and other UTC values need no zone."""
    for sub in (component, *component.subcomponents):
        for name in _ZONED:
            value = sub.get(name)
            if value is None:
                continue
            for item in value if isinstance(value, list) else (value,):
                tzid = item.params.get("TZID")
                if tzid:
                    for moment in ([v.dt for v in item.dts] if hasattr(item, "dts") else (item.dt,)):
                        if isinstance(moment, datetime) and moment.tzinfo is not None:
                            yield str(tzid), moment
        for alarm in sub.subcomponents:
            trigger = alarm.get("trigger") if alarm.name == "VALARM" else None
            if trigger is None or not isinstance(trigger.dt, timedelta):
                continue
            anchor = sub.get("dtend" if trigger.params.get("RELATED") == "END" else "dtstart")
            if anchor is not None and anchor.params.get("TZID") and isinstance(anchor.dt, datetime) \
                    and anchor.dt.tzinfo is not None:
                yield str(anchor.params["TZID"]), anchor.dt + trigger.dt


def add_timezones(calendar: Calendar, components, zones: VTimezones) -> None:
    """A VTIMEZONE for every TZID the components use, each covering every instant they give
    it (a client shows an instant before a zone's first observance an hour off)."""
    spans: dict[str, list[datetime]] = {}
    for component in components:
        for tzid, moment in _zoned_moments(component):
            span = spans.setdefault(tzid, [moment, moment])
            span[0], span[1] = min(span[0], moment), max(span[1], moment)
    for tzid in sorted(spans):
        zone = zones.covering(tzid, *spans[tzid])
        if zone is not None:
            calendar.add_component(zone)


def compose(events: list, zones: VTimezones | None = None, name: str | None = None,
            method: str | None = "PUBLISH", refresh: timedelta | None = None, others: list = ()) -> bytes:
    """A whole calendar from VEVENT components: a VTIMEZONE for every TZID (add_timezones), then the events in
    a fixed order (day, UID), then any other components (`others`: what someone else put in
    a file, such as a VTODO, or the VTIMEZONE of a zone the IANA database does not know)."""
    calendar = new_calendar(name, method)
    if refresh is not None:
        # Apple honours REFRESH-INTERVAL (RFC 7986), classic Outlook X-PUBLISHED-TTL; emit both.
        calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        # As an RFC 5545 duration (PT12H): a bare timedelta would be written as 12:00:00.
        calendar.add("x-published-ttl", vDuration(refresh))
    ordered = sorted(events, key=lambda c: (_start(c), str(c["uid"])))
    add_timezones(calendar, [*ordered, *others], zones if zones is not None else VTimezones())
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
