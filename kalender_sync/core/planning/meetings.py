"""Network meetings: a representative goes on behalf of the team and reports back.

- The representative gets the meeting itself, a "collect input" day and a "report back"
  day; each colleague gets an "input for …" day, `prepare` before the meeting.
- The preparation day is moved earlier, never later, off a public holiday or a day on
  which the representative or a colleague does not work, so the colleagues keep their
  lead time.
- The report-back day is `report_back` after the meeting, moved later when the
  representative does not work that day or it is a public holiday.
- The preparation and report-back days are all-day events; only the meeting itself
  has a place and an alarm, and only it takes the representative's time.
- A meeting's time is fixed by whoever organises it, so meetings are planned first and
  never move: every other kind goes around them (the busy times from people's own
  calendars do not move them either). One person cannot attend two meetings at once: of
  two meetings of one representative that overlap, the one that starts first (at the same
  time: the first in the config) is planned, the other is skipped with the reason, and
  none of its days are planned.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from .. import texts
from ..model import NetworkMeeting, Person, Team
from .events import Plan, PlannedEvent, Skipped, day_of
from .workcalendar import Agenda, WorkCalendar


def plan_network_meetings(team: Team, work: WorkCalendar, result: Plan, agenda: Agenda) -> None:
    attending: dict[str, list[tuple[datetime, datetime, NetworkMeeting]]] = {}
    # Every meeting is looked at, also those outside [today, until): which of two
    # clashing meetings is kept must not depend on `today`.
    order = sorted(range(len(team.meetings)), key=lambda i: (team.meetings[i].at, i))
    for index in order:
        meeting = team.meetings[index]
        rep = team.people[meeting.representative]
        start, end = meeting.at, meeting.at + meeting.duration
        parts = _parts(team, work, meeting)
        clash = next((other for o_start, o_end, other in attending.get(rep.id, ())
                      if o_start < end and start < o_end), None)
        if clash is not None:
            if any(result.today <= day_of(part[2]) < result.until for part in parts):
                result.skipped.append(Skipped(
                    f"network meeting {meeting.name} {start.date()}",
                    f"{rep.name} already represents the team at {clash.name} "
                    f"({clash.at:%Y-%m-%d %H:%M}) at that time; choose another representative"))
            continue
        attending.setdefault(rep.id, []).append((start, end, meeting))
        agenda.add([rep], start, end, f"network meeting {meeting.name}")
        for part, person, part_start, part_end, kind, attendees in parts:
            if not result.today <= day_of(part_start) < result.until:
                continue
            title, description = texts.meeting_texts(person.language, part, meeting.name, rep.name, start.date())
            result.events.append(PlannedEvent(
                key=f"meeting/{meeting.id}/{part}/{person.id}", person=person.id, kind=kind, title=title,
                description=description, start=part_start, end=part_end, group=f"meeting/{meeting.id}/{part}",
                attendees=attendees, location=meeting.location if part == "meeting" else None,
                alarm=team.reminders.alarm if part == "meeting" else None))


def _parts(team: Team, work: WorkCalendar, meeting: NetworkMeeting) -> list[tuple]:
    """(part, person, start, end, kind, attendees) of every event of one meeting."""
    rep = team.people[meeting.representative]
    colleagues = [team.people[c] for c in meeting.colleagues]
    day = meeting.at.date()
    everyone = (meeting.representative,) + meeting.colleagues
    parts: list[tuple[str, Person, object, object, str, tuple[str, ...]]] = [
        ("meeting", rep, meeting.at, meeting.at + meeting.duration, "meeting", ())]
    if meeting.prepare_before is not None:
        # Going back, not forward, from a holiday: the colleagues keep their lead time.
        prepare = work.next_working_day(meeting.prepare_before.before(day), [rep] + colleagues, step=-1)
        if prepare is not None:
            parts.append(("collect", rep, prepare, prepare + timedelta(days=1), "prepare", everyone))
            for colleague in colleagues:
                parts.append(("prepare", colleague, prepare, prepare + timedelta(days=1), "prepare", everyone))
    if meeting.report_back_after is not None:
        back = work.next_working_day(meeting.report_back_after.after(day), [rep])
        if back is not None:
            parts.append(("report_back", rep, back, back + timedelta(days=1), "report_back", ()))
    return parts
