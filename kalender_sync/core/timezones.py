"""VTIMEZONE components with yearly RRULEs, built from the IANA database.

Outlook mis-maps VTIMEZONEs that list every transition as RDATEs, while
RRULE-style blocks (FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU) work everywhere
(iCalcreator/iCalcreator#86). icalendar's `Timezone.from_tzinfo` writes RDATE
lists, so we derive the yearly rule ourselves when the zone follows one over the
years we need, and fall back to icalendar's output when it does not.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
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
        self._made: dict[tuple[str, int, int], Timezone] = {}

    @staticmethod
    def knows(tzid: str) -> bool:
        try:
            ZoneInfo(tzid)
        except (ZoneInfoNotFoundError, ValueError):
            return False
        return True

    def get(self, tzid: str, first_year: int, last_year: int) -> Timezone | None:
        """The zone for these years; None for a TZID the IANA database does not know."""
        key = (tzid, first_year, last_year)
        if key not in self._made:
            try:
                self._made[key] = vtimezone(tzid, first_year, last_year)
            except (ZoneInfoNotFoundError, ValueError):
                self._made[key] = None
        return self._made[key]


def vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    # icalendar only when a zone is made: a run that writes nothing need not import it.
    from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur
    tz = ZoneInfo(tzid)
    changes = _transitions(tz, first_year, last_year)
    component = Timezone()
    component.add("tzid", tzid)
    if not changes:
        probe = datetime(first_year, 7, 1, tzinfo=timezone.utc).astimezone(tz)
        standard = TimezoneStandard()
        standard.add("dtstart", datetime(1970, 1, 1))
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
            return Timezone.from_tzinfo(tz, tzid, date(first_year, 1, 1), date(last_year + 1, 1, 1))
        rules.append((onsets[0], is_dst, before, after, name, month, week))
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
