"""When the team can meet: working days, working hours, public holidays and free slots.

- A working day is a day on which everyone involved works (by their working hours) and
  that is not a public holiday in the team's holiday country (and subdivision).
- Times are wall-clock times in the team's time zone, DST-correct: a time that does not
  exist on a day (the hour skipped when the clocks go forward) is never planned.
- Looking for a slot from some day on: the preferred time comes first, and the preferred
  time on a later day beats another time of day, up to a week later. Only then do other
  times count: the start of someone's working hours, or the end of something that keeps
  them busy. The search gives up after 400 days.
- Who is taken when (the `Agenda`): people's own busy times, every occurrence kept where
  an earlier run placed it, and every timed event planned so far. Each kind of rule places
  its events against it and then adds them, in the order of precedence (see the package's
  docstring), so a later kind moves around an earlier one. All-day events take no time of
  day and are never in it.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone

from ..model import Person, Team

_SEARCH_DAYS = 400
_OFFSETS = tuple(timedelta(days=i) for i in range(_SEARCH_DAYS))
_FIRST_WEEK = _OFFSETS[:7]

# Per person id: the times that person is not free (from their own calendars); everything
# but a network meeting's fixed time avoids them. Each is a `core.busy.BusyTime` (with what
# takes the time, and whether it is tentative) or a plain (start, end) pair.
Busy = Mapping[str, Iterable[object]]

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")


def day_text(day: date) -> str:
    """"6 May": how a reason names a day (English, whatever the locale: no strftime)."""
    return f"{day.day} {MONTH_NAMES[day.month - 1][:3]}"


def weekday_text(day: date) -> str:
    """"Fri 2 Apr"."""
    return f"{WEEKDAY_NAMES[day.weekday()][:3]} {day_text(day)}"


def moment_text(moment: datetime) -> str:
    """"Thu 13 May 14:00": how a reason names a start, in the zone it is given in."""
    return f"{weekday_text(moment.date())} {moment:%H:%M}"


def some(phrases: list[str], shown: int = 3) -> str:
    """"a, b and c"; with a whole team in the way, the first few and how many more."""
    if len(phrases) > shown + 1:
        phrases = phrases[:shown] + [f"{len(phrases) - shown} more"]
    return phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])} and {phrases[-1]}"


class Agenda:
    """Who is taken when: the busy times given to the planner, and the timed events planned so far.

    Every placement goes in, also those outside the plan's window [today, until): what
    lands where must not depend on `today`, so a rule looks at the whole time around it.
    """

    def __init__(self, busy: Busy | None = None):
        # Copied: the caller's busy times are theirs, planning adds to its own lists.
        self._times: dict[str, list[tuple[datetime, datetime]]] = {}
        # What takes each time, for reasons: a str is a planned event; otherwise the
        # person's own calendar (a BusyTime, with its title and whether it is tentative).
        self._what: dict[str, list[object]] = {}
        self._sorted: dict[str, tuple[list[datetime], list[tuple], timedelta]] = {}
        for person, entries in (busy or {}).items():
            times, whats = self._times.setdefault(person, []), self._what.setdefault(person, [])
            for entry in entries:
                if hasattr(entry, "start"):
                    times.append((entry.start, entry.end))
                    whats.append(entry)
                else:
                    start, end = entry
                    times.append((start, end))
                    whats.append(None)

    def times(self, people: list[Person]) -> list[tuple[datetime, datetime]]:
        """Every time at which one of `people` is taken."""
        if len(people) == 1:
            return self._times.get(people[0].id, [])
        return [span for person in people for span in self._times.get(person.id, ())]

    def add(self, people: list[Person], start: datetime, end: datetime, what: str) -> None:
        for person in people:
            self._times.setdefault(person.id, []).append((start, end))
            self._what.setdefault(person.id, []).append(what)
            index = self._sorted.get(person.id)
            if index is not None:
                starts, spans, longest = index
                utc_start, utc_end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
                at = bisect_right(starts, utc_start)
                starts.insert(at, utc_start)
                spans.insert(at, (utc_start, utc_end, what))
                self._sorted[person.id] = (starts, spans, max(longest, utc_end - utc_start))

    def taken(self, people: list[Person], start: datetime, end: datetime) -> list[str]:
        """Who of `people` is taken somewhere in [start, end), and by what, as plain English:
        "Ad Verhoeven has network meeting SAM", "Sanne Bakker busy (Teamoverleg)", "Bram tentative"."""
        found = []
        # In UTC, like the index: comparing moments in two different zones asks each zone
        # for its offset, every time.
        start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
        for person in people:
            starts, spans, longest = self._by_start(person.id)
            # Only what starts before `end`, and not so long before `start` that even the
            # longest of this person's spans would be over by then.
            index = bisect_left(starts, end)
            hit = None
            while index > 0 and starts[index - 1] > start - longest:
                index -= 1
                if start < spans[index][1]:
                    hit = spans[index]                # the earliest-starting one wins
            if hit is not None:
                found.append(_taken_text(person.name, hit[2]))
        return found

    def _by_start(self, person: str) -> tuple[list[datetime], list[tuple], timedelta]:
        # A session for a whole department asks about a thousand people's year of busy
        # times for each preferred weekday: sorted once per change, then looked up.
        index = self._sorted.get(person)
        if index is None:
            spans = sorted(((b_start.astimezone(timezone.utc), b_end.astimezone(timezone.utc), what)
                            for (b_start, b_end), what in zip(self._times.get(person, ()), self._what.get(person, ()))),
                           key=lambda span: span[0])
            longest = max((b_end - b_start for b_start, b_end, _ in spans), default=timedelta(0))
            index = self._sorted[person] = ([span[0] for span in spans], spans, longest)
        return index

    def busy(self) -> dict[str, list[tuple[datetime, datetime]]]:
        """Everything taken so far, in the form the contact reminders take their busy times in."""
        return {person: list(times) for person, times in self._times.items()}


def _taken_text(name: str, what: object) -> str:
    if isinstance(what, str):
        return f"{name} has {what}"
    title = getattr(what, "what", "") or ""
    state = "tentative" if getattr(what, "tentative", False) else "busy"
    return f"{name} {state} ({title})" if title else f"{name} {state}"


class WorkCalendar:
    """Working days, hours and public holidays for one team."""

    def __init__(self, team: Team):
        self.team = team
        self.tz = team.timezone
        # Contact reminders for a large team ask about the same few hundred days and
        # times over and over; zone arithmetic and holiday lookups are answered once.
        self._moments: dict[tuple[date, time], datetime | None] = {}
        self._holiday: dict[date, bool] = {}

    def is_holiday(self, day: date) -> bool:
        known = self._holiday.get(day)
        if known is None:
            known = self._holiday[day] = bool(self.team.holiday_country) and day in self.team.public_holidays.dates(
                self.team.holiday_country, self.team.holiday_subdivision, day.year)
        return known

    def holiday_name(self, day: date) -> str:
        """How a reason names the public holiday on `day`: by its name where the holiday facts
        know names (a `names(country, subdivision, year)` -> {date: name}), else generically."""
        names = getattr(self.team.public_holidays, "names", None)
        if callable(names):
            name = names(self.team.holiday_country, self.team.holiday_subdivision, day.year).get(day)
            if name:
                return name
        return "a public holiday"

    def is_working_day(self, day: date, people: list[Person]) -> bool:
        return not self.is_holiday(day) and all(p.working_hours.is_working_day(day) for p in people)

    def moment(self, day: date, clock: time) -> datetime | None:
        """`day` at `clock` in the team's zone; None if that wall time does not exist (DST gap)."""
        try:
            return self._moments[day, clock]
        except KeyError:
            pass
        local = datetime.combine(day, clock, self.tz)
        round_trip = local.astimezone(timezone.utc).astimezone(self.tz)
        moment = local if round_trip.replace(tzinfo=None) == local.replace(tzinfo=None) else None
        self._moments[day, clock] = moment
        return moment

    def slot(self, day: date, people: list[Person], preferred: time, length: timedelta,
             busy: list[tuple[datetime, datetime]] = (), only_preferred: bool = False) -> datetime | None:
        """A start on `day` inside everyone's working hours and clear of `busy`, the preferred time first."""
        if not self.is_working_day(day, people):
            return None
        candidates = [preferred]
        if not only_preferred:
            candidates += sorted({end.astimezone(self.tz).time() for start, end in busy
                                  if end.astimezone(self.tz).date() == day}
                                 | {start for p in people for start, _ in p.working_hours.blocks[day.weekday()]})
        for clock in candidates:
            if all(p.working_hours.fits(day, clock, length) for p in people):
                moment = self.moment(day, clock)
                if moment is not None and not any(b_start < moment + length and moment < b_end
                                                  for b_start, b_end in busy):
                    return moment
        return None

    def next_slot(self, day: date, people: list[Person], preferred: time, length: timedelta,
                  allowed=lambda d: True, busy: list[tuple[datetime, datetime]] = ()) -> datetime | None:
        """The first slot from `day` on. The preferred time on a later day beats another time
        of day, up to a week later: people plan around a familiar time."""
        for offset in _FIRST_WEEK:
            candidate = day + offset
            if allowed(candidate):
                moment = self.slot(candidate, people, preferred, length, busy, only_preferred=True)
                if moment is not None:
                    return moment
        for offset in _OFFSETS:
            candidate = day + offset
            if allowed(candidate):
                moment = self.slot(candidate, people, preferred, length, busy)
                if moment is not None:
                    return moment
        return None

    def next_working_day(self, day: date, people: list[Person], step: int = 1) -> date | None:
        for offset in range(_SEARCH_DAYS):
            candidate = day + timedelta(days=offset * step)
            if self.is_working_day(candidate, people):
                return candidate
        return None
