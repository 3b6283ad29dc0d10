"""VTIMEZONEs cover every instant they serve (RFC 5545 leaves an instant before a zone's first
observance undefined: Mozilla's ical.js then uses offset 0, libical and dateutil the first
TZOFFSETFROM), and keep yearly RRULEs where the zone has them (Outlook mis-reads RDATE lists)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given, settings, strategies as st
from icalendar import Calendar, Event

from kalender_sync.core.render import compose
from kalender_sync.core.timezones import VTimezones

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Zones with daylight saving time on both hemispheres, one without, one that ended it
# (Sao Paulo, 2019), and ones with irregular rules (Casablanca's Ramadan changes, Tehran).
ZONES = ["Europe/Amsterdam", "Europe/London", "America/New_York", "America/Santiago", "Australia/Sydney",
         "Pacific/Auckland", "Asia/Tokyo", "America/Sao_Paulo", "Africa/Casablanca", "Asia/Tehran",
         "Pacific/Chatham", "America/St_Johns", "Australia/Lord_Howe"]


def _first_onset(vtimezone) -> datetime:
    """The UTC instant of the zone's first observance (DTSTART is local time before the change)."""
    onsets = []
    for sub in vtimezone.subcomponents:
        onsets.append((sub.decoded("dtstart") - sub.decoded("tzoffsetfrom")).replace(tzinfo=timezone.utc))
    return min(onsets)


def _offset_at(vtimezone, moment: datetime) -> timedelta:
    """RFC 5545 §3.6.5 read literally: the TZOFFSETTO of the observance with the latest onset
    at or before `moment` (dateutil's reading mixes up two observances of one kind, as
    Casablanca's Ramadan break has)."""
    from dateutil.rrule import rrulestr
    latest = None
    for sub in vtimezone.subcomponents:
        start, before = sub.decoded("dtstart"), sub.decoded("tzoffsetfrom")
        local_limit = (moment + before).replace(tzinfo=None)
        onsets = [start] if start <= local_limit else []
        if "rrule" in sub:
            rule = rrulestr(sub["rrule"].to_ical().decode(), dtstart=start)
            last = rule.before(local_limit, inc=True)
            onsets += [last] if last is not None else []
        for rdate in sub.get("rdate", []) if isinstance(sub.get("rdate"), list) else [sub["rdate"]] if "rdate" in sub else []:
            onsets += [d.dt for d in rdate.dts if d.dt <= local_limit]
        for onset in onsets:
            instant = (onset - before).replace(tzinfo=timezone.utc)
            if instant <= moment and (latest is None or instant > latest[0]):
                latest = (instant, sub.decoded("tzoffsetto"))
    assert latest is not None, f"{moment} is before every observance"
    return latest[1]


def test_an_event_before_the_last_sunday_of_march_is_covered():
    zones = VTimezones()
    start = datetime(2027, 2, 1, 9, tzinfo=AMSTERDAM)
    zone = zones.covering("Europe/Amsterdam", start, start + timedelta(hours=1))
    assert _first_onset(zone) <= start
    text = zone.to_ical().decode()
    assert "RDATE" not in text and text.count("RRULE:FREQ=YEARLY") == 2      # field note 7
    assert "DTSTART:20261025T030000" in text                                  # the change in force


def test_an_event_after_the_years_first_change_keeps_that_years_zone():
    # No larger zone than needed: a May event starts the zone at that year's March change.
    zone = VTimezones().covering("Europe/Amsterdam", datetime(2027, 5, 3, 9, tzinfo=AMSTERDAM),
                                 datetime(2027, 12, 6, 10, tzinfo=AMSTERDAM))
    assert "DTSTART:20270328T020000" in zone.to_ical().decode()


def _calendar_with(*moments: datetime, alarm: timedelta | None = None) -> bytes:
    events = []
    for index, moment in enumerate(moments):
        event = Event()
        event.add("uid", f"e{index}")
        event.add("dtstamp", datetime(2030, 1, 1, tzinfo=timezone.utc))   # a UTC value: needs no zone
        event.add("dtstart", moment)
        event.add("dtend", moment + timedelta(hours=1))
        if alarm is not None:
            from icalendar import Alarm
            valarm = Alarm()
            valarm.add("action", "DISPLAY")
            valarm.add("description", "x")
            valarm.add("trigger", -alarm)
            event.add_component(valarm)
        events.append(event)
    return compose(events)


def test_compose_covers_the_earliest_instant_of_every_event_and_alarm():
    # The alarm of an event at 02:30 on 1 January fires in the previous year.
    text = _calendar_with(datetime(2027, 6, 1, 9, tzinfo=AMSTERDAM), datetime(2027, 1, 1, 0, 30, tzinfo=AMSTERDAM),
                          alarm=timedelta(hours=1))
    calendar = Calendar.from_ical(text)
    (zone,) = calendar.walk("VTIMEZONE")
    assert _first_onset(zone) <= datetime(2026, 12, 31, 22, 30, tzinfo=timezone.utc)
    assert b"DTSTART:20261025T030000" in text


def test_compose_covers_a_recurrence_id_and_exdates_of_someone_elses_component():
    from icalendar import Todo
    todo = Todo()
    todo.add("uid", "todo")
    todo.add("dtstamp", datetime(2027, 1, 1, tzinfo=timezone.utc))
    todo.add("due", datetime(2025, 2, 3, 12, tzinfo=AMSTERDAM))
    text = compose([], others=[todo])
    (zone,) = Calendar.from_ical(text).walk("VTIMEZONE")            # a TZID only the VTODO uses
    assert _first_onset(zone) <= datetime(2025, 2, 3, 11, tzinfo=timezone.utc)
    event = Event()
    event.add("uid", "a")
    event.add("dtstamp", datetime(2027, 1, 1, tzinfo=timezone.utc))
    event.add("dtstart", datetime(2027, 6, 1, 9, tzinfo=AMSTERDAM))
    event.add("dtend", datetime(2027, 6, 1, 10, tzinfo=AMSTERDAM))
    event.add("recurrence-id", datetime(2027, 5, 25, 9, tzinfo=AMSTERDAM))
    event.add("exdate", [datetime(2027, 1, 12, 9, tzinfo=AMSTERDAM)])
    (zone,) = Calendar.from_ical(compose([event])).walk("VTIMEZONE")
    assert _first_onset(zone) <= datetime(2027, 1, 12, 8, tzinfo=timezone.utc)


@settings(max_examples=150, deadline=None)
@given(zone_name=st.sampled_from(ZONES),
       first=st.datetimes(min_value=datetime(2005, 1, 1), max_value=datetime(2040, 12, 31)),
       span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=800)),
       probes=st.lists(st.floats(min_value=0, max_value=1), min_size=1, max_size=8))
def test_every_instant_from_the_earliest_to_the_latest_has_the_iana_offset(zone_name, first, span, probes):
    tz = ZoneInfo(zone_name)
    earliest = first.replace(tzinfo=timezone.utc)
    latest = earliest + span
    zone = VTimezones().covering(zone_name, earliest, latest)
    assert _first_onset(zone) <= earliest
    for fraction in [0.0, 1.0, *probes]:
        moment = earliest + span * fraction
        assert _offset_at(zone, moment) == moment.astimezone(tz).utcoffset(), (zone_name, moment)


def test_every_known_zone_can_be_made_for_this_year_and_the_next():
    zones = VTimezones()
    start = datetime(2026, 11, 24, tzinfo=timezone.utc)
    for name in sorted(available_timezones()):
        if name.startswith(("Etc/", "SystemV/")) or name in ("Factory", "localtime"):
            continue
        zone = zones.covering(name, start, start + timedelta(days=400))
        assert zone is not None, name
        assert _first_onset(zone) <= start, name


def test_the_same_span_gives_the_same_component():
    zones = VTimezones()
    a = zones.covering("Europe/Amsterdam", datetime(2027, 1, 5, tzinfo=timezone.utc), datetime(2027, 9, 1, tzinfo=timezone.utc))
    b = zones.covering("Europe/Amsterdam", datetime(2027, 2, 5, tzinfo=timezone.utc), datetime(2027, 8, 1, tzinfo=timezone.utc))
    assert a is b
    assert date(2026, 10, 25) == a.subcomponents[-1].decoded("dtstart").date()
