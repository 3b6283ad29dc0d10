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
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from .. import texts
from ..durations import add_months
from ..model import Person, SessionSeries, Team
from .events import Plan, PlannedEvent, Skipped
from .workcalendar import Agenda, WorkCalendar

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# A skip's reason names the days a blocker takes; more than a few says nothing more.
_DAYS_SHOWN = 3


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


def plan_sessions(team: Team, work: WorkCalendar, result: Plan, agenda: Agenda) -> None:
    order = sorted(range(len(team.sessions)), key=lambda i: (-team.sessions[i].periods_per_year, i))
    people_of = [[team.people[p] for p in series.participants] for series in team.sessions]
    placed: dict[tuple[int, date], datetime | str] = {}
    for year in range(result.today.year, (result.until - timedelta(days=1)).year + 1):
        for index in order:
            series, people = team.sessions[index], people_of[index]
            for period_start, period_end in session_periods(series, date(year, 1, 1), date(year + 1, 1, 1)):
                outcome = _session_moment(work, series, people, period_start, period_end, agenda)
                placed[index, period_start] = outcome
                if isinstance(outcome, datetime):
                    agenda.add(people, outcome, outcome + series.duration, f"session {series.name}")
    for index, series in enumerate(team.sessions):
        people = people_of[index]
        for period_start, period_end in session_periods(series, result.today, result.until):
            moment = placed[index, period_start]
            if not isinstance(moment, datetime):
                result.skipped.append(Skipped(f"{series.name} {period_start:%Y-%m}", moment))
                continue
            # The period's date is chosen without looking at `today`, so a session that
            # already took place this period is not planned a second time later on.
            if not result.today <= moment.date() < result.until:
                continue
            group = f"session/{series.id}/{period_start:%Y-%m}"
            for person in people:
                lang = person.language
                result.events.append(PlannedEvent(
                    key=f"{group}/{person.id}", person=person.id, kind="session", title=series.name,
                    description=texts.session_description(lang, series.name, series.description,
                                                          series.periods_per_year, [p.name for p in people]),
                    start=moment, end=moment + series.duration, group=group, attendees=series.participants,
                    location=series.location, alarm=team.reminders.alarm))


def _session_moment(work: WorkCalendar, series: SessionSeries, people: list[Person],
                    period_start: date, period_end: date, agenda: Agenda) -> datetime | str:
    """The session's start in the period, or the reason there is none."""
    day = period_start + timedelta(days=(series.weekday - period_start.weekday()) % 7)
    blocked: dict[str, list[date]] = {}
    while day < period_end:
        moment = work.moment(day, series.start)
        if moment is None:
            why = [f"{series.start:%H:%M} does not exist that day (the clocks go forward)"]
        elif work.is_holiday(day):
            why = ["a public holiday"]
        else:
            away = [p.name for p in people if not (p.working_hours.is_working_day(day)
                                                    and p.working_hours.fits(day, series.start, series.duration))]
            why = [f"{', '.join(away)} {'does' if len(away) == 1 else 'do'} not work then"] if away else []
            why += agenda.taken(people, moment, moment + series.duration)
        if not why:
            return moment
        for text in why:
            blocked.setdefault(text, []).append(day)
        day += timedelta(days=7)
    details = "; ".join(f"{text} ({_days(days)})" for text, days in blocked.items())
    return (f"no {_WEEKDAYS[series.weekday]} in the period at {series.start:%H:%M} when everyone is working, "
            f"free and not on a public holiday: {details or 'the period has none'}")


def _days(days: list[date]) -> str:
    shown = ", ".join(d.isoformat() for d in days[:_DAYS_SHOWN])
    return shown if len(days) <= _DAYS_SHOWN else f"{shown} and {len(days) - _DAYS_SHOWN} more"
