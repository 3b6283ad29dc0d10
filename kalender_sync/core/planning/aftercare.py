"""Aftercare ("nazorg"): the follow-up moments after a project has ended.

- Each entry of a project's `aftercare` list (e.g. `[6 weeks, 6 months]`) gives one
  aftercare event for the whole project team: project end + that offset.
- It is moved to the first day on which the whole project team works, that is not a
  public holiday and on which they are all free at the project's time; the same time a
  few days later (up to a week) beats another time of day. Free: nobody of the team has
  a network meeting, another aftercare or a busy time of their own calendar then.
- Aftercare comes after network meetings (their time is fixed) and before sessions: its
  date follows from the project's end and it moves by a day where a session would have to
  move by a week (to its next preferred weekday). Among themselves, the one due first is
  placed first (on the same date: the first in the config), and the others go around it.
- Every aftercare of every project is placed, also those outside [today, until), so
  where one lands never depends on `today`.
- Its identity is the project and the offset, so when the end date moves, the same events
  move (same UIDs) instead of new ones appearing.
- If there is no such time within 400 days, the aftercare is reported as skipped.
"""
from __future__ import annotations

from .. import texts
from ..model import Team
from .events import Plan, PlannedEvent, Skipped
from .workcalendar import Agenda, WorkCalendar


def plan_aftercare(team: Team, work: WorkCalendar, result: Plan, agenda: Agenda) -> None:
    wanted = [(offset.after(project.end), p, o, project, offset)
              for p, project in enumerate(team.projects) for o, offset in enumerate(project.offsets)]
    for target, _, _, project, offset in sorted(wanted, key=lambda w: w[:3]):
        people = [team.people[p] for p in project.team]
        label = f"aftercare {project.name} +{offset}"
        moment = work.next_slot(target, people, project.start, project.duration, busy=agenda.times(people))
        if moment is None:
            names = ", ".join(p.name for p in people)
            if work.next_slot(target, people, project.start, project.duration) is None:
                reason = f"no working day within 400 days on which the whole team ({names}) works"
            else:
                reason = (f"no time within 400 days at which the whole team ({names}) works and is free: "
                          f"other events or their own calendars take every working day")
            result.skipped.append(Skipped(label, reason))
            continue
        agenda.add(people, moment, moment + project.duration, label)
        if not result.today <= moment.date() < result.until:
            continue
        # The identity is the project and the offset, not the date: a moved end date
        # moves these same events instead of creating new ones.
        group = f"aftercare/{project.id}/{offset.count}-{offset.unit}"
        for person in people:
            lang = person.language
            result.events.append(PlannedEvent(
                key=f"{group}/{person.id}", person=person.id, kind="aftercare",
                title=texts.aftercare_title(lang, project.name, offset),
                description=texts.aftercare_description(lang, project.name, project.client,
                                                        project.end, [p.name for p in people]),
                start=moment, end=moment + project.duration, group=group,
                attendees=project.team, location=project.location, alarm=team.reminders.alarm))
