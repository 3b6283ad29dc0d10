"""Sessions: a recurring team session, once per month, quarter, half year or year.

- One session per period (calendar month / quarter / half year / year), on the first
  preferred weekday of the period on which every participant works, is free and is not
  on a public holiday, at the series' time.
- Free: no participant has a network meeting, an aftercare, a session of a series placed
  before this one, or a busy time of their own calendar then. Sessions come after
  meetings and aftercare: a session has a whole period of preferred weekdays to move to,
  aftercare is tied to its date. Among the series, those with the shorter period go first
  (a monthly series has four or five days to choose from, a yearly one fifty-two), and
  then the order of the config.
- The choice does not depend on `today`, so a session that already happened this period
  is not planned again later in the period. To keep that with series that go around each
  other, every period of each calendar year the plan touches is placed, not only those in
  [today, until): every period length divides the year, so a year holds whole periods of
  every series.
- A period without such a day is reported as skipped, with what blocks each day.
- Once placed it stays put (see `stability`); its basis is its period with the preferred
  weekday and time, so a changed preference places it afresh.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from .. import texts
from ..durations import add_months
from ..model import Person, SessionSeries, Team
from .events import Plan, PlannedEvent, Skipped
from .stability import Occurrence, Placing, in_window
from .workcalendar import MONTH_NAMES, WEEKDAY_NAMES, Agenda, WorkCalendar, day_text, moment_text, some

# A skip's reason names the days a blocker takes; more than a few says nothing more.
_DAYS_SHOWN = 3

# Per preferred weekday passed over: the day, the public holiday's name if it is one, and
# what else is wrong with it (who does not work, who is taken by what).
Blocked = list[tuple[date, "str | None", list[str]]]


def session_periods(series: SessionSeries, start: date, until: date) -> list[tuple[date, date]]:
    """Calendar periods (month, quarter, ...) that overlap [start, until)."""
    months = 12 // series.periods_per_year
    period_start = date(start.year, ((start.month - 1) // months) * months + 1, 1)
    result = []
    while period_start < until:
        period_end = add_months(period_start, months)
        result.append((period_start, period_end))
        period_start = period_end
    return result


def session_occurrences(team: Team, result: Plan) -> list[tuple[int, date, date, Occurrence]]:
    """(series index, period start, period end, occurrence) of every period of each calendar
    year the plan touches, in the order they are placed."""
    order = sorted(range(len(team.sessions)), key=lambda i: (-team.sessions[i].periods_per_year, i))
    people_of = [tuple(team.people[p] for p in series.participants) for series in team.sessions]
    found = []
    for year in range(result.today.year, (result.until - timedelta(days=1)).year + 1):
        for index in order:
            series = team.sessions[index]
            for period_start, period_end in session_periods(series, date(year, 1, 1), date(year + 1, 1, 1)):
                # The period is in the key (one session per period), and with the
                # preferred weekday and time it is the basis: a changed preference
                # places the session afresh.
                found.append((index, period_start, period_end, Occurrence(
                    group=f"session/{series.id}/{period_start:%Y-%m}", label=f"{series.name} {period_start:%Y-%m}",
                    taking=f"session {series.name}",
                    people=people_of[index], length=series.duration,
                    basis=(f"{period_start:%Y-%m} {WEEKDAY_NAMES[series.weekday][:3].lower()} "
                           f"{series.start:%H:%M}"))))
    return found


def plan_sessions(team: Team, work: WorkCalendar, result: Plan, agenda: Agenda, placing: Placing,
                  occurrences: list[tuple[int, date, date, Occurrence]]) -> None:
    # Per (series, period): the start, a skip's reason, or None: nothing to show or say.
    outcomes: dict[tuple[int, date], datetime | str | None] = {}
    passed: dict[tuple[int, date], Blocked] = {}
    by_period: dict[tuple[int, date], Occurrence] = {}
    for index, period_start, period_end, occurrence in occurrences:
        series, people = team.sessions[index], list(occurrence.people)
        by_period[index, period_start] = occurrence
        kept = placing.kept.get(occurrence.group)
        if kept is not None:
            outcomes[index, period_start] = kept
            continue
        moment, blocked = _session_moment(work, series, people, period_start, period_end, agenda)
        blind = placing.blind(people)
        if blind:
            # Not placed on missing data; said where it could show (not for a session
            # that, even on what is known, took place already).
            outcomes[index, period_start] = (placing.not_placed(occurrence, blind).reason
                                             if moment is None or in_window(result, moment.date()) else None)
        elif moment is None:
            held = placing.hold(occurrence)
            outcomes[index, period_start] = (held if held is not None
                                             else placing.reason(occurrence, _no_day(series, blocked)))
        else:
            outcomes[index, period_start], passed[index, period_start] = moment, blocked
            agenda.add(people, moment, moment + series.duration, occurrence.taking)
            placing.placed_afresh(occurrence, moment)
    for index, series in enumerate(team.sessions):
        for period_start, period_end in session_periods(series, result.today, result.until):
            moment = outcomes[index, period_start]
            occurrence = by_period[index, period_start]
            if moment is None:
                continue
            if not isinstance(moment, datetime):
                result.skipped.append(Skipped(occurrence.label, moment))
                continue
            # The period's date is chosen without looking at `today`, so a session that
            # already took place this period is not planned a second time later on.
            if not in_window(result, moment.date()):
                continue
            blocked = passed.get((index, period_start))
            result.reasons[occurrence.group] = placing.reason(
                occurrence, None if blocked is None else _why(series, period_start, moment, blocked))
            people = occurrence.people
            for person in people:
                lang = person.language
                result.events.append(PlannedEvent(
                    key=f"{occurrence.group}/{person.id}", person=person.id, kind="session", title=series.name,
                    description=texts.session_description(lang, series.name, series.description,
                                                          series.periods_per_year, [p.name for p in people]),
                    start=moment, end=moment + series.duration, group=occurrence.group,
                    attendees=series.participants, location=series.location, alarm=team.reminders.alarm))


def _session_moment(work: WorkCalendar, series: SessionSeries, people: list[Person],
                    period_start: date, period_end: date, agenda: Agenda) -> tuple[datetime | None, Blocked]:
    """The session's start in the period (None: there is none), and what blocks each
    preferred weekday before it."""
    day = period_start + timedelta(days=(series.weekday - period_start.weekday()) % 7)
    blocked: Blocked = []
    while day < period_end:
        moment = work.moment(day, series.start)
        holiday = None
        if moment is None:
            why = [f"{series.start:%H:%M} does not exist that day (the clocks go forward)"]
        elif work.is_holiday(day):
            holiday, why = work.holiday_name(day), []
        else:
            away = [p.name for p in people if not (p.working_hours.is_working_day(day)
                                                    and p.working_hours.fits(day, series.start, series.duration))]
            why = [f"{some(away)} {'does' if len(away) == 1 else 'do'} not work then"] if away else []
            why += agenda.taken(people, moment, moment + series.duration)
        if not why and holiday is None:
            return moment, blocked
        blocked.append((day, holiday, why))
        day += timedelta(days=7)
    return None, blocked


def _no_day(series: SessionSeries, blocked: Blocked) -> str:
    """A skip's reason: what blocks each preferred weekday of the period."""
    grouped: dict[str, list[date]] = {}
    for day, holiday, why in blocked:
        # Per day, not per person: with a whole department in a session, a list of who is
        # busy when would be as long as the department.
        grouped.setdefault(holiday if holiday is not None else some(why), []).append(day)
    details = "; ".join(f"{text} ({_days(days)})" for text, days in grouped.items())
    return (f"no {WEEKDAY_NAMES[series.weekday]} in the period at {series.start:%H:%M} when everyone is working, "
            f"free and not on a public holiday: {details or 'the period has none'}")


def _why(series: SessionSeries, period_start: date, moment: datetime, blocked: Blocked) -> str:
    """"Thu 13 May 14:00: first Thursday of May when all are free — 6 May is Ascension Day"."""
    months = 12 // series.periods_per_year
    if months == 1:
        period = MONTH_NAMES[period_start.month - 1]
    elif months == 12:
        period = str(period_start.year)
    else:
        last = add_months(period_start, months - 1)
        period = f"{MONTH_NAMES[period_start.month - 1][:3]}–{MONTH_NAMES[last.month - 1][:3]}"
    text = f"{moment_text(moment)}: first {WEEKDAY_NAMES[series.weekday]} of {period} when all are free"
    passed = [f"{day_text(day)} is {holiday}" if holiday is not None else f"{day_text(day)} {some(why)}"
              for day, holiday, why in blocked]
    return f"{text} — {', '.join(passed)}" if passed else text


def _days(days: list[date]) -> str:
    shown = ", ".join(d.isoformat() for d in days[:_DAYS_SHOWN])
    return shown if len(days) <= _DAYS_SHOWN else f"{shown} and {len(days) - _DAYS_SHOWN} more"
