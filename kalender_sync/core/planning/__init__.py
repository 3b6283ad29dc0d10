"""The planning rules: a pure function of (team, contact log, today) -> planned events.

No clock, no files, no network: `today` and, optionally, people's busy times are
arguments, so every plan can be reproduced exactly.

Each kind of rule lives in its own module:

- `contacts`      contact agreements: due dates, reminders, re-reminders, spreading
- `aftercare`     aftercare after a project ends, moved off holidays
- `sessions`      one recurring session per period, on the first preferred weekday
- `meetings`      network meetings: the meeting, preparation before, report back after
- `workcalendar`  working days and hours, public holidays, DST-safe times, free slots
- `events`        what a plan is made of, and the stable UIDs of its events
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone

from ..model import Team
from .aftercare import plan_aftercare
from .contacts import ContactStatus, contact_status, plan_contact_reminders
from .events import UID_DOMAIN, UID_NAMESPACE, Plan, PlannedEvent, Skipped, day_of, uid_for
from .meetings import plan_network_meetings
from .sessions import plan_sessions, session_periods
from .workcalendar import Busy, WorkCalendar

__all__ = (
    "plan", "PlannedEvent", "Plan", "Skipped", "day_of", "uid_for", "UID_NAMESPACE", "UID_DOMAIN",
    "contact_status", "ContactStatus", "WorkCalendar", "session_periods", "Busy",
)


def plan(team: Team, today: date, busy: Busy | None = None) -> Plan:
    """All events each person should have in [today, today + horizon)."""
    result = Plan(today=today, until=team.horizon.after(today))
    work = WorkCalendar(team)
    plan_aftercare(team, work, result)
    plan_sessions(team, work, result, busy or {})
    plan_network_meetings(team, work, result)
    # Contact reminders last: they are the flexible ones and go around the rest.
    plan_contact_reminders(team, work, result, busy or {})
    result.events.sort(key=lambda e: (e.person, _sort_moment(e.start), e.key))
    return result


def _sort_moment(start: datetime | date) -> datetime:
    if isinstance(start, datetime):
        return start.astimezone(timezone.utc).replace(tzinfo=None)
    return datetime.combine(start, time(0))
