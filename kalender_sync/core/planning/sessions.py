"""Sessions: a recurring team session, once per month, quarter, half year or year.

- One session per period (calendar month / quarter / half year / year), on the first
  preferred weekday of the period on which every participant works, is free and is not
  on a public holiday, at the series' time.
- The choice does not depend on `today`, so a session that already happened this period
  is not planned again later in the period.
- A period without such a day is reported as skipped.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from .. import texts
from ..durations import add_months
from ..model import Person, SessionSeries, Team
from .events import Plan, PlannedEvent, Skipped
from .workcalendar import Busy, WorkCalendar


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


def plan_sessions(team: Team, work: WorkCalendar, result: Plan, busy: Busy) -> None:
    for series in team.sessions:
        people = [team.people[p] for p in series.participants]
        for period_start, period_end in session_periods(series, result.today, result.until):
            moment = _session_moment(work, series, people, period_start, period_end, busy)
            label = f"{series.name} {period_start:%Y-%m}"
            if moment is None:
                result.skipped.append(Skipped(label, "no preferred weekday in the period when everyone "
                                                     "is working, free and not on a public holiday"))
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
                    period_start: date, period_end: date, busy: Busy) -> datetime | None:
    day = period_start + timedelta(days=(series.weekday - period_start.weekday()) % 7)
    while day < period_end:
        moment = work.moment(day, series.start)
        if (moment is not None and work.is_working_day(day, people)
                and all(p.working_hours.fits(day, series.start, series.duration) for p in people)
                and not _anyone_busy(busy, people, moment, moment + series.duration)):
            return moment
        day += timedelta(days=7)
    return None


def _anyone_busy(busy: Busy, people: list[Person], start: datetime, end: datetime) -> bool:
    return any(b_start < end and start < b_end for p in people for b_start, b_end in busy.get(p.id, ()))
