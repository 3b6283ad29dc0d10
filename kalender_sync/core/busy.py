"""Busy times read from people's own calendars: which of their appointments keep a slot taken.

Pure: fetched texts in, busy times out (no clock, files or network). The adapters fetch
(targets/busysources.py), the planner keeps sessions and aftercare off what comes out, and
a BusySnapshot keeps what was read so that `--offline` plans from exactly the same times.

Every time that leaves this module is in UTC, so the same calendar read online or taken
from the snapshot gives equal values (and equal output).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from types import MappingProxyType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .errors import BusySourceError

if TYPE_CHECKING:
    from .model import Team

UTC = timezone.utc
# fingerprint.MARKER, the key our events carry (a test holds the two equal). Not imported:
# fingerprint imports the planner, which may import this module.
OWN_MARKER = "X-KALENDER-SYNC-KEY"
# Outlook's "Show as" (MS-OXCICAL maps it to PidLidBusyStatus). It is what the person chose,
# so it decides before TRANSP, which has two values for its five.
BUSY_STATUS = "X-MICROSOFT-CDO-BUSYSTATUS"
FREE_STATUSES = frozenset({"FREE", "WORKINGELSEWHERE"})
# OUTOFOFFICE: the spelling of older Exchange (CDO) exports.
BUSY_STATUSES = frozenset({"BUSY", "OOF", "OUTOFOFFICE", "TENTATIVE"})
SNAPSHOT_VERSION = 1
# One series may not repeat more often than this in the period read (Radicale's default limit
# for its own free-busy answers): a FREQ=SECONDLY rule would otherwise expand into millions.
MAX_OCCURRENCES = 10_000
# Occurrences are asked for a little beyond the window and clipped here: a date-only event
# is a day in the team's zone, which the expander cannot know, and zones are up to 14 h off UTC.
_MARGIN = timedelta(days=2)
# What reading third-party text can raise: icalendar's and recurring-ical-events' errors are
# ValueErrors, an unknown zone a KeyError; the rest come from malformed values deep inside.
_UNREADABLE = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError, ArithmeticError)


@dataclass(frozen=True, order=True)
class BusyTime:
    """One stretch of time a person is not free, as one of their calendars shows it."""

    start: datetime        # aware; busy_times gives UTC
    end: datetime          # aware, after start
    what: str = ""         # the appointment's title where the calendar shows one ("Teamoverleg")
    tentative: bool = False
    source: str = ""       # id of the calendar it was read from

    def __post_init__(self):
        for moment in (self.start, self.end):
            if not isinstance(moment, datetime) or moment.utcoffset() is None:
                raise ValueError(f"a busy time needs aware date-times, got {moment!r}")
        if not self.start < self.end:
            raise ValueError(f"a busy time must end after it starts: {self.start} .. {self.end}")


@dataclass(frozen=True)
class SourceText:
    """What an adapter fetched for one person from one calendar."""

    person: str
    source: str              # calendar id
    kind: str                # "events": VCALENDAR objects | "freebusy": a VFREEBUSY reply
    texts: tuple[bytes, ...]


def busy_times(fetched: SourceText, *, email: str | None, own_uids: frozenset[str] = frozenset(),
               start: datetime, end: datetime, zone: ZoneInfo) -> list[BusyTime]:
    """The busy times in [start, end) of the person `fetched` was read for, clipped and sorted.

    Both kinds of text are read for both VEVENTs and VFREEBUSYs (a published .ifb is a
    VFREEBUSY served as a calendar); `kind` only says what was asked for. `zone` is the
    team's: all-day events are 00:00-24:00 there, and floating times are read in it.
    Raises BusySourceError (a short reason) when a text cannot be read.
    """
    window = (_instant(start, zone), _instant(end, zone))
    if not window[0] < window[1]:
        return []
    address = _address(email) if email else ""
    events = []
    spans: list[tuple[datetime, datetime, str, bool]] = []
    for text in fetched.texts:
        for calendar in _calendars(text):
            zones = _Zones(calendar, zone)
            for event in calendar.walk("VEVENT"):
                if "DTSTART" not in event:
                    continue        # no time: it cannot keep anyone from a slot
                _localise(event, zones)
                events.append(event)
            for reply in calendar.walk("VFREEBUSY"):
                spans.extend(_free_busy(reply, zones.floating))
    own = (set(own_uids) | {_uid(event) for event in events if OWN_MARKER in event}) - {""}
    series: dict[str, list] = {}
    for number, event in enumerate(events):
        uid = _uid(event)
        if uid in own or OWN_MARKER in event:
            continue
        series.setdefault(uid or f"\x00{number}", []).append(event)
    for components in series.values():
        spans.extend(_occurrences(components, window, zone, address))
    result = []
    for begin, until, what, tentative in spans:
        begin, until = max(begin, window[0]), min(until, window[1])
        if begin < until:
            result.append(BusyTime(begin, until, what, tentative, fetched.source))
    return sorted(result)


def _instant(moment: datetime, zone: tzinfo) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _calendars(text: bytes | str) -> list:
    from icalendar import Calendar

    if isinstance(text, str):
        data = text
    else:
        if b"\x00" in text:
            raise BusySourceError("binary data, not iCalendar")
        # A stray byte in one title must not cost the whole calendar.
        data = text.decode("utf-8", errors="replace")
    data = data.lstrip("\ufeff \t\r\n")
    if not data:
        raise BusySourceError("an empty reply, not iCalendar")
    if data[:15].upper() != "BEGIN:VCALENDAR":
        raise BusySourceError(f"not iCalendar: it begins {_peek(data)}")
    try:
        return Calendar.from_ical(_without_known_zones(data), multiple=True)
    except _UNREADABLE as error:
        raise BusySourceError(f"not valid iCalendar: {_short(error)}") from None


# A content line never starts with a space (that is a folded continuation), so these match
# whole components and properties only, never text inside a value.
_VTIMEZONE = re.compile(r"^BEGIN:VTIMEZONE[ \t]*\r?\n.*?^END:VTIMEZONE[ \t]*(?:\r?\n|\Z)", re.M | re.S | re.I)
_TZID = re.compile(r"^TZID(?:;[^:\r\n]*)?:([^\r\n]*)", re.M | re.I)
_FOLD = re.compile(r"\r?\n[ \t]")


def _without_known_zones(data: str) -> str:
    """The text without the VTIMEZONEs of zones _named_zone knows: their times are read in the
    IANA zone anyway, and parsing a VTIMEZONE costs icalendar more than the event it serves."""
    def keep(match: re.Match) -> str:
        tzid = _TZID.search(_FOLD.sub("", match.group(0)))
        return "" if tzid and _named_zone(tzid.group(1)) is not None else match.group(0)

    return _VTIMEZONE.sub(keep, data)


def _peek(data: str) -> str:
    first = data.split("\n", 1)[0].rstrip("\r")
    shown = "".join(ch if ch.isprintable() else "?" for ch in first[:40])
    return f"'{shown}…'" if len(first) > 40 else f"'{shown}'"


def _short(error: BaseException) -> str:
    text = (str(error).strip().splitlines() or [type(error).__name__])[0]
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= 80 else text[:79] + "…"


def _named_zone(tzid: str) -> tzinfo | None:
    """An IANA zone for a TZID: an IANA name, a Windows name (Outlook's "W. Europe Standard
    Time", through icalendar's table kept from CLDR), or an RFC 5545 §3.2.19 globally unique
    "/vendor/…/Europe/Berlin"."""
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

    name = tzid.strip()
    bare = name.strip("/")
    candidates = [name, bare]
    if bare in WINDOWS_TO_OLSON:
        candidates.append(WINDOWS_TO_OLSON[bare])
    if name.startswith("/"):
        parts = bare.split("/")
        candidates.extend("/".join(parts[index:]) for index in range(1, len(parts)))
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (KeyError, ValueError, OSError, TypeError):
            continue
    return None


class _Zones:
    """The zones one calendar text means by its TZIDs.

    Worked out per text: icalendar keeps the first VTIMEZONE it meets under a name it does
    not know for the rest of the process, so two people's Outlook "Customized Time Zone"s
    would otherwise share whichever definition was parsed first. Known names (IANA, Windows)
    go to the IANA database, which knows the zone's history, not only this year's rule.
    """

    def __init__(self, calendar, zone: tzinfo):
        self._defined = {}
        for component in calendar.walk("VTIMEZONE"):
            tzid = str(component.get("TZID", "")).strip()
            if tzid:
                self._defined.setdefault(tzid, component)
        self._made: dict[str, tzinfo] = {}
        # Google's feeds say in X-WR-TIMEZONE what their floating times mean.
        declared = _first(calendar.get("X-WR-TIMEZONE"))
        self.floating = (_named_zone(str(declared)) if declared else None) or zone

    def zone(self, tzid: str) -> tzinfo:
        tzid = tzid.strip()
        if tzid not in self._made:
            found = _named_zone(tzid)
            if found is None and tzid in self._defined:
                try:
                    found = self._defined[tzid].to_tz(lookup_tzid=False)
                except _UNREADABLE as error:
                    raise BusySourceError(f"time zone {tzid!r} cannot be read: {_short(error)}") from None
            # A TZID nobody defines: the team's zone is the best guess for a colleague's diary.
            self._made[tzid] = found if found is not None else self.floating
        return self._made[tzid]


_TIMED = ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE", "EXDATE")
_RECURRING = ("RRULE", "RDATE", "EXDATE", "RECURRENCE-ID")


def _localise(event, zones: _Zones) -> None:
    """Give every date-time of the event its real zone before expansion, so that the
    expander compares instants: TZIDs as _Zones reads them, floating times in the team's
    (or the feed's declared) zone. Dates stay dates."""
    try:
        for name in _TIMED:
            value = event.get(name)
            if value is None:
                continue
            for item in _items(value):
                tzid = item.params.get("TZID")
                item.dt = _aware(item.dt, str(tzid) if tzid else None, zones)
    except _UNREADABLE as error:
        raise BusySourceError(f"event {_label(event)}: {_short(error)}") from None


def _items(value) -> Iterable:
    if isinstance(value, list):
        for item in value:
            yield from _items(item)
    elif hasattr(value, "dts"):          # RDATE / EXDATE lists
        yield from value.dts
    else:
        yield value


def _aware(value, tzid: str | None, zones: _Zones):
    if isinstance(value, tuple):         # an RDATE period: (start, end) or (start, duration)
        return tuple(_aware(part, tzid, zones) for part in value)
    if not isinstance(value, datetime):
        return value
    if tzid:
        return value.replace(tzinfo=zones.zone(tzid))
    if value.tzinfo is None:
        return value.replace(tzinfo=zones.floating)
    return value


def _occurrences(components: list, window: tuple[datetime, datetime], zone: tzinfo,
                 address: str) -> list[tuple[datetime, datetime, str, bool]]:
    """The busy occurrences of one series (a master with its RECURRENCE-ID overrides)."""
    import recurring_ical_events
    from icalendar import Calendar

    spans = []
    try:
        if any(_most_occurrences(component, window) > MAX_OCCURRENCES for component in components):
            raise BusySourceError(f"event {_label(components[0])} repeats more than {MAX_OCCURRENCES} "
                                  "times in the period read")
        if len(components) == 1 and not any(name in components[0] for name in _RECURRING):
            occurrences = components            # happens once: nothing to expand
        else:
            holder = Calendar()
            for component in components:
                holder.add_component(component)
            occurrences = recurring_ical_events.of(holder).between(window[0] - _MARGIN, window[1] + _MARGIN)
        for occurrence in occurrences:
            tentative = _busy(occurrence, address)
            if tentative is None:
                continue
            begin, until = _moment(occurrence.start, zone), _moment(occurrence.end, zone)
            if begin >= until and isinstance(occurrence.start, datetime) and isinstance(occurrence.end, datetime):
                # An occurrence starting in a spring-forward gap is read with the offset before
                # the gap (RFC 5545 3.3.5), but the expander keeps the end's wall time, which then
                # lies before the start: keep the occurrence's own length instead.
                length = occurrence.end.replace(tzinfo=None) - occurrence.start.replace(tzinfo=None)
                until = begin + length
            if begin < until:
                spans.append((begin, until, _title(occurrence), tentative))
    except _UNREADABLE as error:
        raise BusySourceError(f"event {_label(components[0])}: {_short(error)}") from None
    return spans


_UNIT_SECONDS = MappingProxyType({"SECONDLY": 1, "MINUTELY": 60, "HOURLY": 3600})


def _most_occurrences(component, window: tuple[datetime, datetime]) -> float:
    """At most how many times the component's RRULEs repeat in the window, worked out from the
    rules alone: the expander lists every occurrence before it hands over the first one."""
    rules = component.get("RRULE")
    if rules is None:
        return 1
    days = (window[1] - window[0] + 2 * _MARGIN) / timedelta(days=1)
    total = 0.0
    for rule in rules if isinstance(rules, list) else [rules]:
        frequency = _word(rule.get("FREQ"))
        interval = max(int(_first(rule.get("INTERVAL")) or 1), 1)
        unit = _UNIT_SECONDS.get(frequency, 86400)
        per_day = 1.0
        # Hours in a day, minutes in an hour, seconds in a minute: a BY-list names them, else the
        # frequency steps through them, else there is one.
        for part, seconds, count in (("BYHOUR", 3600, 24), ("BYMINUTE", 60, 60), ("BYSECOND", 1, 60)):
            listed = rule.get(part)
            if listed:
                per_day *= len(listed)
            elif unit <= seconds:
                per_day *= count / (interval if unit == seconds else 1)
        limit = _first(rule.get("COUNT"))
        total += min(per_day * days, float(limit)) if limit is not None else per_day * days
    return total


def _busy(event, address: str) -> bool | None:
    """None when the occurrence leaves the person free; else whether it is only tentative."""
    status = _word(event.get("STATUS"))
    if status == "CANCELLED":
        return None
    answer = _answer(event, address)
    if answer == "DECLINED":
        return None
    shown = _word(event.get(BUSY_STATUS))
    if shown in FREE_STATUSES:
        return None
    if shown not in BUSY_STATUSES and _word(event.get("TRANSP")) == "TRANSPARENT":
        return None
    return status == "TENTATIVE" or answer == "TENTATIVE" or shown == "TENTATIVE"


def _answer(event, address: str) -> str:
    """The person's own PARTSTAT on this event, "" if they are not listed as an attendee."""
    if not address:
        return ""
    attendees = event.get("ATTENDEE", [])
    for attendee in attendees if isinstance(attendees, list) else [attendees]:
        params = getattr(attendee, "params", {})
        if address in (_address(str(attendee)), _address(str(params.get("EMAIL", "")))):
            return _word(params.get("PARTSTAT")) or "NEEDS-ACTION"
    return ""


def _address(value: str) -> str:
    value = value.strip()
    if value[:7].lower() == "mailto:":
        value = value[7:]
    return value.strip().lower()


def _first(value):
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _word(value) -> str:
    value = _first(value)
    return "" if value is None else str(value).strip().upper()


def _title(event) -> str:
    value = _first(event.get("SUMMARY"))
    return " ".join(str(value).split()) if value is not None else ""


def _uid(event) -> str:
    value = _first(event.get("UID"))
    return str(value).strip() if value is not None else ""


def _label(event) -> str:
    uid = _uid(event)
    if not uid:
        return "without UID"
    return repr(uid if len(uid) <= 40 else uid[:39] + "…")


def _moment(value, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        return _instant(value, zone)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=zone).astimezone(UTC)
    raise TypeError(f"not a date or date-time: {value!r}")


def _free_busy(reply, floating: tzinfo) -> list[tuple[datetime, datetime, str, bool]]:
    """The busy periods of a VFREEBUSY (RFC 5545 §3.8.2.6). FBTYPE defaults to BUSY, and any
    type but FREE (BUSY-TENTATIVE, BUSY-UNAVAILABLE, an x-name) counts as busy."""
    # Radicale before 3.8.2 put FBTYPE on the component instead of on each FREEBUSY.
    default = _word(reply.get("FBTYPE")) or "BUSY"
    values = reply.get("FREEBUSY", [])
    spans = []
    try:
        for period in values if isinstance(values, list) else [values]:
            kind = _word(period.params.get("FBTYPE")) or default
            if kind == "FREE":
                continue
            begin, until = period.dt
            if isinstance(until, timedelta):
                until = begin + until
            spans.append((_moment(begin, floating), _moment(until, floating), "", kind == "BUSY-TENTATIVE"))
    except _UNREADABLE as error:
        raise BusySourceError(f"free-busy period cannot be read: {_short(error)}") from None
    return spans


# --- what was read, kept ------------------------------------------------------------------

@dataclass(frozen=True)
class BusySnapshot:
    """The busy times one run read, kept so that a later `--offline` run plans from them."""

    today: date                                    # the --today of the run that read them
    start: datetime                                # the window read
    end: datetime
    busy: Mapping[str, tuple[BusyTime, ...]] = field(default_factory=dict)   # person -> sorted
    unreadable: Mapping[str, str] = field(default_factory=dict)  # person -> why, naming the source

    def __post_init__(self):
        # Normal form (UTC window, people and times in order): equal snapshots give equal bytes.
        for name in ("start", "end"):
            moment = getattr(self, name)
            if not isinstance(moment, datetime) or moment.utcoffset() is None:
                raise ValueError(f"a busy snapshot's {name} must be an aware date-time, got {moment!r}")
            object.__setattr__(self, name, moment.astimezone(UTC))
        object.__setattr__(self, "busy", {person: tuple(sorted(self.busy[person])) for person in sorted(self.busy)})
        object.__setattr__(self, "unreadable",
                           {person: str(self.unreadable[person]) for person in sorted(self.unreadable)})

    def to_json(self) -> bytes:
        document = {
            "version": SNAPSHOT_VERSION,
            "today": self.today.isoformat(),
            "start": _stamp(self.start),
            "end": _stamp(self.end),
            "busy": {person: [{"start": _stamp(item.start), "end": _stamp(item.end), "what": item.what,
                               "tentative": item.tentative, "source": item.source} for item in items]
                     for person, items in self.busy.items()},
            "unreadable": dict(self.unreadable),
        }
        return (json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode()

    @classmethod
    def from_json(cls, data: bytes) -> BusySnapshot:
        try:
            document = json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)
            if not isinstance(document, dict):
                raise ValueError("not a JSON object")
            if document.get("version") != SNAPSHOT_VERSION:
                raise BusySourceError(f"the busy snapshot has version {document.get('version')!r}, "
                                      f"this version reads {SNAPSHOT_VERSION}")
            busy = {}
            for person, items in _mapping(document["busy"]).items():
                busy[person] = tuple(BusyTime(_unstamp(item["start"]), _unstamp(item["end"]),
                                              _text(item["what"]), _flag(item["tentative"]), _text(item["source"]))
                                     for item in _sequence(items))
            unreadable = {person: _text(why) for person, why in _mapping(document["unreadable"]).items()}
            return cls(date.fromisoformat(_text(document["today"])), _unstamp(document["start"]),
                       _unstamp(document["end"]), busy, unreadable)
        except _UNREADABLE as error:
            raise BusySourceError(f"the busy snapshot cannot be read: {_short(error)}") from None


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def _unstamp(value) -> datetime:
    text = _text(value)
    if not text.endswith("Z"):
        raise ValueError(f"not a UTC time: {text!r}")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def _text(value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    return value


def _flag(value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {value!r}")
    return value


def _mapping(value) -> dict:
    if not isinstance(value, dict):
        raise TypeError("expected a JSON object")
    return value


def _sequence(value) -> list:
    if not isinstance(value, list):
        raise TypeError("expected a JSON list")
    return value


def snapshot_from(fetched: Iterable[SourceText], failures: Mapping[str, str], team: Team, today: date,
                  start: datetime, end: datetime, own_uids: frozenset[str] = frozenset()) -> BusySnapshot:
    """Everything read in one run, per person.

    `failures` are the adapters' reasons (person -> "werk (https://…): 401 Unauthorized"); a
    text that turns out unreadable here joins them as "werk: not iCalendar: …". A person
    whose `busy:` names a calendar that was neither read nor failed is unreadable too
    ("werk: not read"): missing data must never look like a free diary. The busy times of
    the sources that were read are kept for unreadable people as well.
    """
    busy: dict[str, list[BusyTime]] = {}
    reasons: dict[str, set[str]] = {person: {why} for person, why in failures.items()}
    read = set()
    for text in fetched:
        person = team.people[text.person]
        read.add((text.person, text.source))
        try:
            times = busy_times(text, email=person.email, own_uids=own_uids, start=start, end=end,
                               zone=team.timezone)
        except BusySourceError as error:
            reasons.setdefault(text.person, set()).add(f"{text.source}: {error}")
            continue
        busy.setdefault(text.person, []).extend(times)
    for person_id, person in team.people.items():
        for source in getattr(person, "busy", ()):
            if (person_id, source) not in read and person_id not in failures:
                reasons.setdefault(person_id, set()).add(f"{source}: not read")
    return BusySnapshot(today, start, end, {person: tuple(times) for person, times in busy.items()},
                        {person: "; ".join(sorted(why)) for person, why in reasons.items()})
