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
- Once placed it stays put (see `stability`); its basis is its date and time, so a moved
  project end places it afresh.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from .. import texts
from ..durations import Interval
from ..model import Aftercare, Person, Team
from .events import Plan, PlannedEvent, Skipped
from .stability import Occurrence, Placing, in_window
from .workcalendar import Agenda, WorkCalendar, day_text, moment_text, some, weekday_text

# An aftercare's reason names the days it passed over; more than a week of them says nothing more.
_DAYS_SHOWN = 7


def aftercare_occurrences(team: Team) -> list[tuple[date, Aftercare, Interval, Occurrence]]:
    """Every aftercare of every project, in the order they are placed: the one due first first."""
    wanted = [(offset.after(project.end), p, o, project, offset)
              for p, project in enumerate(team.projects) for o, offset in enumerate(project.offsets)]
    found = []
    for target, _, _, project, offset in sorted(wanted, key=lambda w: w[:3]):
        # The identity is the project and the offset, not the date: a moved end date
        # moves these same events instead of creating new ones. The basis is the date:
        # a moved end date places them afresh.
        found.append((target, project, offset, Occurrence(
            group=f"aftercare/{project.id}/{offset.count}-{offset.unit}",
            label=f"aftercare {project.name} +{offset}", taking=f"aftercare {project.name} +{offset}",
            people=tuple(team.people[p] for p in project.team), length=project.duration,
            basis=f"{target.isoformat()} {project.start:%H:%M}")))
    return found


def plan_aftercare(team: Team, work: WorkCalendar, result: Plan, agenda: Agenda, placing: Placing,
                   occurrences: list[tuple[date, Aftercare, Interval, Occurrence]]) -> None:
    for target, project, offset, occurrence in occurrences:
        people = list(occurrence.people)
        moment = placing.kept.get(occurrence.group)
        if moment is None:
            moment = work.next_slot(target, people, project.start, project.duration, busy=agenda.times(people))
            blind = placing.blind(people)
            if blind:
                # Not placed on missing data. Said only where it would show: one that lands
                # in the past even on what is known is over.
                if moment is None or in_window(result, moment.date()):
                    result.skipped.append(placing.not_placed(occurrence, blind))
                continue
            held = placing.hold(occurrence) if moment is None else None
            if held is not None:
                moment = held
                if in_window(result, moment.date()):
                    result.reasons[occurrence.group] = placing.reason(occurrence, None)
            elif moment is None:
                names = ", ".join(p.name for p in people)
                if work.next_slot(target, people, project.start, project.duration) is None:
                    reason = f"no working day within 400 days on which the whole team ({names}) works"
                else:
                    reason = (f"no time within 400 days at which the whole team ({names}) works and is free: "
                              f"other events or their own calendars take every working day")
                result.skipped.append(Skipped(occurrence.label, placing.reason(occurrence, reason)))
                continue
            else:
                if in_window(result, moment.date()):
                    result.reasons[occurrence.group] = placing.reason(
                        occurrence, _why(work, agenda, project, people, target, moment))
                agenda.add(people, moment, moment + project.duration, occurrence.taking)
                placing.placed_afresh(occurrence, moment)
        elif in_window(result, moment.date()):
            result.reasons[occurrence.group] = placing.reason(occurrence, None)
        if not in_window(result, moment.date()):
            continue
        for person in people:
            lang = person.language
            result.events.append(PlannedEvent(
                key=f"{occurrence.group}/{person.id}", person=person.id, kind="aftercare",
                title=texts.aftercare_title(lang, project.name, offset),
                description=texts.aftercare_description(lang, project.name, project.client,
                                                        project.end, [p.name for p in people]),
                start=moment, end=moment + project.duration, group=occurrence.group,
                attendees=project.team, location=project.location, alarm=team.reminders.alarm))


def _why(work: WorkCalendar, agenda: Agenda, project: Aftercare, people: list[Person], target: date,
         moment: datetime) -> str:
    """"Mon 5 Apr 14:00: the first day on or after Fri 2 Apr when the whole team is free — 2 Apr …".

    Names what takes the project's time on each working day passed over.
    """
    same_time = moment.time() == project.start
    # At another time of day only once the project's time failed for a whole week (next_slot).
    last = moment.date() - timedelta(days=1) if same_time else target + timedelta(days=6)
    passed = []
    day = target
    while day <= last:
        whys = _blocked(work, agenda, project, people, day)
        if whys:
            passed.append(f"{day_text(day)} {some(whys)}")
        day += timedelta(days=1)
    if len(passed) > _DAYS_SHOWN:
        passed = passed[:_DAYS_SHOWN] + [f"{len(passed) - _DAYS_SHOWN} more days"]
    start = (f"{moment_text(moment)}: the first {'day' if same_time else 'time'} on or after "
             f"{weekday_text(target)} when the whole team is free")
    if not same_time:
        start += f" (not at {project.start:%H:%M} within a week)"
    return f"{start} — {', '.join(passed)}" if passed else start


def _blocked(work: WorkCalendar, agenda: Agenda, project: Aftercare, people: list[Person], day: date) -> list[str]:
    """Why the project's time on `day` is no good; [] also on a day nobody of the team works
    (a weekend needs no saying)."""
    if not any(p.working_hours.is_working_day(day) for p in people):
        return []
    if work.is_holiday(day):
        return [f"is {work.holiday_name(day)}"]
    moment = work.moment(day, project.start)
    if moment is None:
        return [f"{project.start:%H:%M} does not exist (the clocks go forward)"]
    away = [p.name for p in people if not (p.working_hours.is_working_day(day)
                                           and p.working_hours.fits(day, project.start, project.duration))]
    whys = [f"{some(away)} {'does' if len(away) == 1 else 'do'} not work then"] if away else []
    return whys + agenda.taken(people, moment, moment + project.duration)
