"""The planning rules: a pure function of (team, contact log, today) -> planned events.

No clock, no files, no network: `today` and, optionally, people's busy times are
arguments, so every plan can be reproduced exactly.

Each kind of rule lives in its own module:

- `contacts`      contact agreements: due dates, reminders, re-reminders, spreading
- `aftercare`     aftercare after a project ends, moved off holidays
- `sessions`      one recurring session per period, on the first preferred weekday
- `meetings`      network meetings: the meeting, preparation before, report back after
- `workcalendar`  working days and hours, public holidays, DST-safe times, free slots,
                  and the agenda of who is taken when
- `events`        what a plan is made of, and the stable UIDs of its events

Nobody is booked twice: a person's timed events never overlap. The kinds are placed in
this order of precedence, each around everything placed before it (and around the busy
times of people's own calendars), each moving by its own rule:

1. network meetings: their time is fixed by whoever organises them, they never move;
   of two that overlap for one representative, the later one is skipped;
2. aftercare: to the next day and time the whole project team is free (its date follows
   from the project's end; the same time a few days later beats another time of day);
3. sessions: to the next preferred weekday in their period (a whole period to move in);
   series with shorter periods first;
4. contact reminders: to the next free working slot (they are the most flexible).

Preparation and report-back days of a meeting are all-day: they take no time and block
nothing. What finds no place is listed in `Plan.skipped` with the reason. Every placement
is made against all events of the periods concerned, not only those in [today, until), so
where an event lands never depends on `today`.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone

from ..model import Team
from .aftercare import plan_aftercare
from .contacts import ContactStatus, contact_status, plan_contact_reminders
from .events import UID_DOMAIN, UID_NAMESPACE, Plan, PlannedEvent, Skipped, day_of, uid_for
from .meetings import plan_network_meetings
from .sessions import plan_sessions, session_periods
from .workcalendar import Agenda, Busy, WorkCalendar

__all__ = (
    "plan", "PlannedEvent", "Plan", "Skipped", "day_of", "uid_for", "UID_NAMESPACE", "UID_DOMAIN",
    "contact_status", "ContactStatus", "WorkCalendar", "session_periods", "Busy",
)


def plan(team: Team, today: date, busy: Busy | None = None) -> Plan:
    """All events each person should have in [today, today + horizon).

    `busy`: per person id, the times they are taken in their own calendars; everything
    but a network meeting goes around them.
    """
    result = Plan(today=today, until=team.horizon.after(today))
    work = WorkCalendar(team)
    agenda = Agenda(busy)
    # In the order of precedence: each kind goes around what the kinds before it placed.
    plan_network_meetings(team, work, result, agenda)
    plan_aftercare(team, work, result, agenda)
    plan_sessions(team, work, result, agenda)
    # Contact reminders last: they are the flexible ones and go around the rest,
    # also around events outside [today, until) that their spreading looks back on.
    plan_contact_reminders(team, work, result, agenda.busy())
    result.events.sort(key=lambda e: (e.person, _sort_moment(e.start), e.key))
    return result


def _sort_moment(start: datetime | date) -> datetime:
    if isinstance(start, datetime):
        return start.astimezone(timezone.utc).replace(tzinfo=None)
    return datetime.combine(start, time(0))
