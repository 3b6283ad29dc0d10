"""Aftercare ("nazorg"): the follow-up moments after a project has ended.

- Each entry of a project's `aftercare` list (e.g. `[6 weeks, 6 months]`) gives one
  aftercare event for the whole project team: project end + that offset.
- It is moved to the first day on which the whole project team works and that is not a
  public holiday, at the project's time; the same time a few days later (up to a week)
  beats another time of day.
- Its identity is the project and the offset, so when the end date moves, the same events
  move (same UIDs) instead of new ones appearing.
- If there is no such day within 400 days, the aftercare is reported as skipped.
"""
from __future__ import annotations

from .. import texts
from ..model import Team
from .events import Plan, PlannedEvent, Skipped
from .workcalendar import WorkCalendar


def plan_aftercare(team: Team, work: WorkCalendar, result: Plan) -> None:
    for project in team.projects:
        people = [team.people[p] for p in project.team]
        for offset in project.offsets:
            target = offset.after(project.end)
            moment = work.next_slot(target, people, project.start, project.duration)
            label = f"aftercare {project.name} +{offset}"
            if moment is None:
                result.skipped.append(Skipped(label, "no working day for the whole team within 400 days"))
                continue
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
