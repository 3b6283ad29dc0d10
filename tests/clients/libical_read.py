#!/usr/bin/python3
"""libical (Evolution, GNOME Calendar, KDE's KCalendarCore) reading .ics texts.

Runs under Debian's /usr/bin/python3 with gir1.2-ical-3.0 and python3-gi: the GObject
bindings are not on PyPI, so this is not imported by the test's own interpreter.

stdin:  JSON [{"name": ..., "text": ...}, ...]
stdout: JSON [{"name": ..., "events": [{uid, recurrence_id, start, end, all_day, alarms}], "error"}]
Timed values are UTC instants ("2027-02-01T08:00:00Z"), all-day values dates ("2027-02-01").
A TZID is resolved against the text's own VTIMEZONEs (icalcomponent_get_dtstart looks in the
enclosing VCALENDAR), as a client importing that one file does.
"""
import json
import sys
from datetime import datetime, timedelta, timezone

import gi

gi.require_version("ICalGLib", "3.0")
from gi.repository import ICalGLib as ical  # noqa: E402

Kind = ical.ComponentKind


def _instant(value) -> str:
    if value.is_date():
        return f"{value.get_year():04d}-{value.get_month():02d}-{value.get_day():02d}"
    zone = value.get_timezone()
    if zone is None and not value.is_utc():
        raise ValueError(f"floating time {value.as_ical_string()}")
    seconds = value.as_timet_with_zone(zone) if zone is not None else value.as_timet()
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _alarms(vevent, start, end) -> list[str]:
    found = []
    valarm = vevent.get_first_component(Kind.VALARM_COMPONENT)
    while valarm is not None:
        prop = valarm.get_first_property(ical.PropertyKind.TRIGGER_PROPERTY)
        if prop is not None:
            trigger = prop.get_trigger()
            if not trigger.get_time().is_null_time():
                found.append(_instant(trigger.get_time()))
            else:
                related = prop.get_first_parameter(ical.ParameterKind.RELATED_PARAMETER)
                anchor = end if related is not None and related.get_related() == ical.ParameterRelated.END else start
                moved = datetime.strptime(_instant(anchor), "%Y-%m-%dT%H:%M:%SZ") + timedelta(
                    seconds=trigger.get_duration().as_int())
                found.append(moved.strftime("%Y-%m-%dT%H:%M:%SZ"))
        valarm = vevent.get_next_component(Kind.VALARM_COMPONENT)
    return found


def _events(text: str) -> list[dict]:
    root = ical.Component.new_from_string(text)
    if root is None:
        raise ValueError("libical could not parse the text")
    if root.isa() == Kind.VCALENDAR_COMPONENT:
        calendars = [root]
    else:
        raise ValueError(f"not a VCALENDAR: {root.isa()}")
    events = []
    for calendar in calendars:
        vevent = calendar.get_first_component(Kind.VEVENT_COMPONENT)
        while vevent is not None:
            start, end = vevent.get_dtstart(), vevent.get_dtend()
            recurrence = vevent.get_recurrenceid()
            events.append({
                "uid": vevent.get_uid(),
                "recurrence_id": None if recurrence.is_null_time() else _instant(recurrence),
                "start": _instant(start),
                "end": _instant(end),
                "all_day": bool(start.is_date()),
                "alarms": _alarms(vevent, start, end),
            })
            vevent = calendar.get_next_component(Kind.VEVENT_COMPONENT)
    return events


def main() -> None:
    out = []
    for item in json.load(sys.stdin):
        try:
            out.append({"name": item["name"], "events": _events(item["text"]), "error": None})
        except Exception as exc:  # noqa: BLE001 - reported per text, the batch goes on
            out.append({"name": item["name"], "events": [], "error": f"{type(exc).__name__}: {exc}"})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
