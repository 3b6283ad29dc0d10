"""Network meetings: a representative goes on behalf of the team and reports back.

- The representative gets the meeting itself, a "collect input" day and a "report back"
  day; each colleague gets an "input for …" day, `prepare` before the meeting.
- The preparation day is moved earlier, never later, off a public holiday or a day on
  which the representative or a colleague does not work, so the colleagues keep their
  lead time.
- The report-back day is `report_back` after the meeting, moved later when the
  representative does not work that day or it is a public holiday.
- The preparation and report-back days are all-day events; only the meeting itself
  has a place and an alarm.
"""
from __future__ import annotations

from datetime import timedelta

from .. import texts
from ..model import Person, Team
from .events import Plan, PlannedEvent, day_of
from .workcalendar import WorkCalendar


def plan_network_meetings(team: Team, work: WorkCalendar, result: Plan) -> None:
    for meeting in team.meetings:
        rep = team.people[meeting.representative]
        colleagues = [team.people[c] for c in meeting.colleagues]
        day = meeting.at.date()
        group = f"meeting/{meeting.id}"
        everyone = (meeting.representative,) + meeting.colleagues

        def add(part: str, person: Person, start, end, kind: str, attendees=()) -> None:
            if not result.today <= day_of(start) < result.until:
                return
            title, description = texts.meeting_texts(person.language, part, meeting.name, rep.name, day)
            result.events.append(PlannedEvent(
                key=f"{group}/{part}/{person.id}", person=person.id, kind=kind, title=title,
                description=description, start=start, end=end, group=f"{group}/{part}",
                attendees=attendees, location=meeting.location if part == "meeting" else None,
                alarm=team.reminders.alarm if part == "meeting" else None))

        add("meeting", rep, meeting.at, meeting.at + meeting.duration, "meeting")
        if meeting.prepare_before is not None:
            # Going back, not forward, from a holiday: the colleagues keep their lead time.
            prepare = work.next_working_day(meeting.prepare_before.before(day), [rep] + colleagues, step=-1)
            if prepare is not None:
                add("collect", rep, prepare, prepare + timedelta(days=1), "prepare", everyone)
                for colleague in colleagues:
                    add("prepare", colleague, prepare, prepare + timedelta(days=1), "prepare", everyone)
        if meeting.report_back_after is not None:
            back = work.next_working_day(meeting.report_back_after.after(day), [rep])
            if back is not None:
                add("report_back", rep, back, back + timedelta(days=1), "report_back")
