"""VTIMEZONE components with yearly RRULEs, built from the IANA database.

Outlook mis-maps VTIMEZONEs that list every transition as RDATEs, while
RRULE-style blocks (FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU) work everywhere
(iCalcreator/iCalcreator#86). icalendar's `Timezone.from_tzinfo` writes RDATE
lists (and misses changes, such as Casablanca's Ramadan break), so we derive the
yearly rule ourselves when the zone follows one over the years we need; when it does
not, each change of those years is an observance of its own (no RDATE either).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from icalendar import Timezone


_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _transitions(tz: ZoneInfo, first_year: int, last_year: int):
    """(utc instant, offset before, offset after, name after, is_dst after) for each change."""
    result = []
    moment = datetime(first_year, 1, 1, tzinfo=timezone.utc)
    end = datetime(last_year + 1, 1, 1, tzinfo=timezone.utc)
    previous = moment.astimezone(tz).utcoffset()
    step = timedelta(days=1)
    while moment < end:
        following = moment + step
        offset = following.astimezone(tz).utcoffset()
        if offset != previous:
            # Bisect on whole seconds: the first second with the new offset is the change.
            low, high = int(moment.timestamp()), int(following.timestamp())
            while high - low > 1:
                middle = (low + high) // 2
                if datetime.fromtimestamp(middle, tz).utcoffset() == previous:
                    low = middle
                else:
                    high = middle
            high = datetime.fromtimestamp(high, timezone.utc)
            local = high.astimezone(tz)
            result.append((high, previous, offset, local.tzname(), bool(local.dst())))
            previous = offset
        moment = following
    return result


class VTimezones:
    """VTIMEZONE components, each worked out once per run and shared by every calendar of
    that run (working out the transitions walks the zone day by day). The caller owns it:
    a run, a feed server, a test — no module state."""

    def __init__(self):
        self._made: dict[tuple, Timezone | None] = {}
        self._changes: dict[tuple[str, int], list] = {}

    @staticmethod
    def knows(tzid: str) -> bool:
        try:
            ZoneInfo(tzid)
        except (ZoneInfoNotFoundError, ValueError):
            return False
        return True

    def _year_changes(self, tzid: str, tz: ZoneInfo, year: int) -> list:
        key = (tzid, year)
        if key not in self._changes:
            self._changes[key] = _transitions(tz, year, year)
        return self._changes[key]

    def covering(self, tzid: str, earliest: datetime, latest: datetime) -> Timezone | None:
        """The zone for every instant from `earliest` to `latest` (aware datetimes); None for a
        TZID the IANA database does not know.

        RFC 5545 leaves an instant before a VTIMEZONE's first observance undefined, and the
        parsers part ways there: libical and dateutil take the first TZOFFSETFROM, Mozilla's
        ical.js (Thunderbird) takes offset 0 — an hour late in an Amsterdam winter. So the
        zone starts at the change in force at `earliest`: in that year when the year's first
        change came before it, else in the year before."""
        try:
            tz = ZoneInfo(tzid)
        except (ZoneInfoNotFoundError, ValueError):
            return None
        first_utc, last_utc = earliest.astimezone(timezone.utc), latest.astimezone(timezone.utc)
        first_year, last_year = first_utc.year, max(first_utc.year, last_utc.year)
        changes = [c for year in range(first_year, last_year + 1) for c in self._year_changes(tzid, tz, year)]
        if changes and changes[0][0] > first_utc and first_year > 1 and self._year_changes(tzid, tz, first_year - 1):
            first_year -= 1
            changes = self._year_changes(tzid, tz, first_year) + changes
        # A zone whose first change in these years comes after `earliest` with none in the year
        # before (a zone that starts daylight saving time): an observance from the start of
        # the year stands for the offset until then.
        lead = bool(changes) and changes[0][0] > first_utc
        key = (tzid, first_year, last_year, lead)
        if key not in self._made:
            try:
                self._made[key] = _vtimezone(tzid, tz, first_year, last_year, changes, lead)
            except ValueError:
                self._made[key] = None
        return self._made[key]


def vtimezone(tzid: str, earliest: datetime, latest: datetime) -> Timezone:
    """A VTIMEZONE that covers every instant from `earliest` to `latest` (see VTimezones.covering)."""
    zone = VTimezones().covering(tzid, earliest, latest)
    if zone is None:
        raise ZoneInfoNotFoundError(tzid)
    return zone


def _vtimezone(tzid: str, tz: ZoneInfo, first_year: int, last_year: int, changes: list, lead: bool) -> Timezone:
    # icalendar only when a zone is made: a run that writes nothing need not import it.
    from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur
    component = Timezone()
    component.add("tzid", tzid)
    if not changes:
        probe = datetime(first_year, 7, 1, tzinfo=timezone.utc).astimezone(tz)
        standard = TimezoneStandard()
        standard.add("dtstart", datetime(min(1970, first_year), 1, 1))
        standard.add("tzname", probe.tzname())
        standard.add("tzoffsetfrom", probe.utcoffset())
        standard.add("tzoffsetto", probe.utcoffset())
        component.add_component(standard)
        return component
    groups: dict[tuple, list[datetime]] = {}
    for instant, before, after, name, is_dst in changes:
        onset = (instant + before).replace(tzinfo=None)  # RFC 5545: local time before the change
        groups.setdefault((is_dst, before, after, name, onset.month, onset.time()), []).append(onset)
    years = last_year - first_year + 1
    rules = []
    for (is_dst, before, after, name, month, _), onsets in groups.items():
        week = _weekday_rule(onsets)
        if week is None or len(onsets) != years:
            rules = None
            break
        rules.append((onsets[0], is_dst, before, after, name, month, week))
    if lead:
        instant, before = changes[0][0], changes[0][1]
        start = datetime(min(1970, first_year), 1, 1)     # as for a zone without changes
        probe = (instant - timedelta(seconds=1)).astimezone(tz)
        sub = TimezoneDaylight() if probe.dst() else TimezoneStandard()
        sub.add("dtstart", start)
        sub.add("tzname", probe.tzname())
        sub.add("tzoffsetfrom", before)
        sub.add("tzoffsetto", before)
        component.add_component(sub)
    if rules is None:
        for instant, before, after, name, is_dst in changes:
            sub = TimezoneDaylight() if is_dst else TimezoneStandard()
            sub.add("dtstart", (instant + before).replace(tzinfo=None))
            sub.add("tzname", name)
            sub.add("tzoffsetfrom", before)
            sub.add("tzoffsetto", after)
            component.add_component(sub)
        return component
    for onset, is_dst, before, after, name, month, (ordinal, weekday) in sorted(rules):
        sub = TimezoneDaylight() if is_dst else TimezoneStandard()
        sub.add("dtstart", onset)
        sub.add("rrule", vRecur(freq="YEARLY", bymonth=month, byday=f"{ordinal}{_DAYS[weekday]}"))
        sub.add("tzname", name)
        sub.add("tzoffsetfrom", before)
        sub.add("tzoffsetto", after)
        component.add_component(sub)
    return component


def _weekday_rule(onsets: list[datetime]) -> tuple[int, int] | None:
    """(ordinal, weekday) if every onset is the same n-th or last weekday of its month."""
    weekday = onsets[0].weekday()
    if any(o.weekday() != weekday for o in onsets):
        return None
    def is_last(o: datetime) -> bool:
        return (o + timedelta(days=7)).month != o.month
    if all(is_last(o) for o in onsets):
        return (-1, weekday)
    ordinals = {(o.day - 1) // 7 + 1 for o in onsets}
    return (ordinals.pop(), weekday) if len(ordinals) == 1 else None
