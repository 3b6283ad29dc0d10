"""The planning rules: a pure function of (team, contact log, today) -> planned events.

No clock, no files, no network: `today` and, optionally, people's busy times, where an
earlier run placed things and whose calendars could not be read are arguments, so every
plan can be reproduced exactly.

Each kind of rule lives in its own module:

- `contacts`      contact agreements: due dates, reminders, re-reminders, spreading
- `aftercare`     aftercare after a project ends, moved off holidays
- `sessions`      one recurring session per period, on the first preferred weekday
- `meetings`      network meetings: the meeting, preparation before, report back after
- `stability`     what was placed before stays put: when it moves, when it is kept anyway
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

What an earlier run placed (`placed`) is settled before anything is placed afresh (see
`stability`): it stays where it is unless someone became busy then and it is far enough
ahead; what is placed afresh goes around all of it.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timezone

from ..model import Team
from .aftercare import aftercare_occurrences, plan_aftercare
from .contacts import ContactStatus, contact_status, plan_contact_reminders
from .events import UID_DOMAIN, UID_NAMESPACE, Placement, Plan, PlannedEvent, Skipped, day_of, uid_for
from .meetings import plan_network_meetings
from .sessions import plan_sessions, session_occurrences, session_periods
from .stability import Placing
from .workcalendar import Agenda, Busy, WorkCalendar

__all__ = (
    "plan", "PlannedEvent", "Plan", "Placement", "Skipped", "day_of", "uid_for", "UID_NAMESPACE", "UID_DOMAIN",
    "contact_status", "ContactStatus", "WorkCalendar", "session_periods", "Busy",
)


def plan(team: Team, today: date, busy: Busy | None = None, placed: Mapping[str, Placement] | None = None,
         unreadable: Mapping[str, str] | None = None) -> Plan:
    """All events each person should have in [today, today + horizon).

    `busy`: per person id, the times they are taken in their own calendars (BusyTime or
    (start, end)); everything but a network meeting goes around them.
    `placed`: per group key, where an earlier run placed a session or aftercare occurrence
    (`Plan.placements` of that run); it stays there by the rules of `stability`.
    `unreadable`: per person id, why their busy times could not be read, naming the source:
    nothing placed for them moves, nothing new is placed for them.
    """
    result = Plan(today=today, until=team.horizon.after(today))
    work = WorkCalendar(team)
    agenda = Agenda(busy)
    # In the order of precedence: each kind goes around what the kinds before it placed.
    plan_network_meetings(team, work, result, agenda)
    placing = Placing(team, work, result, agenda, dict(placed or {}), dict(unreadable or {}))
    aftercare = aftercare_occurrences(team)
    sessions = session_occurrences(team, result)
    # What stays where an earlier run placed it is settled first, in the same order.
    placing.settle([a[-1] for a in aftercare] + [s[-1] for s in sessions])
    plan_aftercare(team, work, result, agenda, placing, aftercare)
    plan_sessions(team, work, result, agenda, placing, sessions)
    # Contact reminders last: they are the flexible ones and go around the rest,
    # also around events outside [today, until) that their spreading looks back on.
    plan_contact_reminders(team, work, result, agenda.busy())
    result.events.sort(key=lambda e: (e.person, _sort_moment(e.start), e.key))
    placing.finish()
    return result


def _sort_moment(start: datetime | date) -> datetime:
    if isinstance(start, datetime):
        return start.astimezone(timezone.utc).replace(tzinfo=None)
    return datetime.combine(start, time(0))
