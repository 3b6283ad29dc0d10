"""Stability: what is in people's calendars stays put.

An earlier run hands back where it placed each session and aftercare occurrence (a
`Placement` per group key: its start and what it was placed for, its basis). In this run:

- An occurrence placed before with the same basis stays where it is, for everyone.
- It moves only when that time is no longer good: a participant has become busy then (their
  own calendar, a network meeting, or an occurrence of higher precedence kept there), or it
  has become a public holiday or a day or time someone does not work (a changed team or
  working hours). Even then it moves only when it is more than the notice period
  (`busy_notice`, 14 days by default) ahead of today: people have planned around what is
  close. Inside the notice period it is kept and reported in `Plan.conflicts`, naming who
  is busy with what.
- A moved occurrence is placed afresh by its kind's rule (same group key, so same UIDs:
  calendars update the events). Finding no place at all, it is skipped like any other.
- A changed basis (the project's end moved, so the aftercare's date did; the series' weekday
  or time changed) means it was placed for something that no longer holds: it is placed
  afresh, also inside the notice period.
- Something placed afresh goes around everything kept, whatever its kind: precedence decides
  between occurrences placed in the same run, and which of two kept ones gives way. A new
  aftercare does not push a session people already have out of their calendars.
- Whose busy times could not be read (`unreadable`): what was placed for them stays exactly
  where it is (even with a changed basis: nothing moves on missing data; the old basis is
  handed on, so it is placed afresh once their calendar can be read again). Nothing new is
  placed for them: a `Skipped` names the person and the source.

Kept occurrences are settled first, in the order of precedence (aftercare, then sessions),
each against the busy times, the network meetings and the occurrences kept before it. Only
then are the others placed, each kind by its own rule, around all of those.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..model import Person, Team
from .events import Placement, Plan, Skipped
from .workcalendar import Agenda, WorkCalendar, day_text, moment_text, some


@dataclass(frozen=True)
class Occurrence:
    """One session or aftercare occurrence: one event for each of its people."""

    group: str                 # the group key: what `placed` and `Plan.placements` are keyed by
    label: str                 # how skips and conflicts name it ("Bel-uurtje 2027-05")
    taking: str                # how it is named as what takes someone's time ("session Bel-uurtje")
    people: tuple[Person, ...]
    length: timedelta
    basis: str


class Placing:
    """The placements of an earlier run, and what becomes of each in this one."""

    def __init__(self, team: Team, work: WorkCalendar, result: Plan, agenda: Agenda,
                 placed: dict[str, Placement] | None, unreadable: dict[str, str] | None):
        self.work, self.result, self.agenda = work, result, agenda
        self.notice: timedelta = team.busy_notice
        self.placed = placed or {}
        self.unreadable = unreadable or {}
        self.kept: dict[str, datetime] = {}
        self._kept_why: dict[str, str] = {}
        # Why an occurrence that was placed before is placed afresh, for its reason.
        self._afresh: dict[str, str] = {}

    def settle(self, occurrences: list[Occurrence]) -> None:
        """Keep what stays where it was placed (in the order of precedence) and put it in the agenda."""
        if not self.placed:
            return
        for occurrence in occurrences:
            placement = self.placed.get(occurrence.group)
            if placement is not None:
                self._settle(occurrence, placement)

    def _settle(self, occurrence: Occurrence, placement: Placement) -> None:
        start = self._local(placement.start)
        where = moment_text(start)
        blind = self.blind(occurrence.people)
        if placement.basis != occurrence.basis:
            if not blind:
                self._afresh[occurrence.group] = (f"placed afresh: it was placed for {placement.basis}, "
                                                  f"now it is for {occurrence.basis}")
                return
            # Nothing moves on missing data; the old basis goes on, so that it is placed
            # afresh once the calendar can be read again.
            self._conflict(occurrence, start, f"kept at {where} although it is now for {occurrence.basis} "
                                              f"(it was placed for {placement.basis}): {self.blind_text(blind)}")
            self._keep(occurrence, start, placement.basis, "kept where it was placed: " + self.blind_text(blind))
            return
        problems = self.problems(occurrence, start)
        if not problems:
            why = "kept where it was placed"
            if blind:
                why += "; " + self.blind_text(blind)
        elif blind:
            why = f"kept where it was placed although {some(problems)}: {self.blind_text(blind)}"
            self._conflict(occurrence, start, f"kept at {where} although {some(problems)}: {self.blind_text(blind)}")
        elif start.date() - self.result.today <= self.notice:
            inside = (f"inside the {_duration_text(self.notice)} notice period" if self.notice
                      else "it is today")
            why = f"kept where it was placed, {inside}, although {some(problems)}"
            self._conflict(occurrence, start, f"kept at {where} ({inside}) although {some(problems)}")
        else:
            self._afresh[occurrence.group] = f"moved from {where}: {some(problems)}"
            return
        self._keep(occurrence, start, placement.basis, why)

    def hold(self, occurrence: Occurrence) -> datetime | None:
        """Where an occurrence that had to move but found no other time stays: where it was
        placed, reported as a conflict. Taking it out of everyone's calendar would help nobody,
        and a deleted session is a lost one. None if it was not placed before for this basis."""
        placement = self.placed.get(occurrence.group)
        if placement is None or placement.basis != occurrence.basis:
            return None
        start = self._local(placement.start)
        problems = some(self.problems(occurrence, start)) or "it had to move"
        self._afresh.pop(occurrence.group, None)
        self._conflict(occurrence, start, f"kept at {moment_text(start)} although {problems}: "
                                          "no other time is free")
        self._keep(occurrence, start, placement.basis,
                   f"kept where it was placed although {problems}: no other time is free")
        return start

    def _keep(self, occurrence: Occurrence, start: datetime, basis: str, why: str) -> None:
        self.agenda.add(list(occurrence.people), start, start + occurrence.length, occurrence.taking)
        self.kept[occurrence.group] = start
        self._kept_why[occurrence.group] = f"{moment_text(start)}: {why}"
        self.result.placements[occurrence.group] = Placement(start, basis)

    def _conflict(self, occurrence: Occurrence, start: datetime, reason: str) -> None:
        # Only what the plan shows: a clash in the past or beyond the horizon asks nothing of anyone.
        if self.result.today <= start.date() < self.result.until:
            self.result.conflicts.append(Skipped(occurrence.label, reason))

    def problems(self, occurrence: Occurrence, start: datetime) -> list[str]:
        """What is wrong with `start` for `occurrence` now, naming who and what; [] if nothing."""
        day = start.date()
        found = []
        if self.work.is_holiday(day):
            found.append(f"{day_text(day)} is {self.work.holiday_name(day)}")
        away = [p.name for p in occurrence.people
                if not (p.working_hours.is_working_day(day)
                        and p.working_hours.fits(day, start.time(), occurrence.length))]
        if away:
            found.append(f"{some(away)} {'does' if len(away) == 1 else 'do'} not work then")
        return found + self.agenda.taken(list(occurrence.people), start, start + occurrence.length)

    def _local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self.work.tz)
        return moment.astimezone(self.work.tz)

    # -- what the kinds' rules ask ---------------------------------------------------------

    def blind(self, people) -> list[Person]:
        """Those of `people` whose busy times could not be read."""
        return [p for p in people if p.id in self.unreadable] if self.unreadable else []

    def blind_text(self, blind: list[Person]) -> str:
        return "; ".join(f"{p.name}'s busy times could not be read: {self.unreadable[p.id]}" for p in blind)

    def not_placed(self, occurrence: Occurrence, blind: list[Person]) -> Skipped:
        return Skipped(occurrence.label, "not placed: " + self.blind_text(blind))

    def placed_afresh(self, occurrence: Occurrence, start: datetime) -> None:
        self.result.placements[occurrence.group] = Placement(start, occurrence.basis)

    def reason(self, occurrence: Occurrence, fresh: str | None) -> str:
        """Why the occurrence is where it is: kept (and why), or `fresh`, its kind's reason
        (where it went, or why it went nowhere), with why it was not kept."""
        kept = self._kept_why.get(occurrence.group)
        if kept is not None:
            return kept
        note = self._afresh.get(occurrence.group)
        return f"{fresh} ({note})" if note else fresh

    def finish(self) -> None:
        # Sorted: the order a plan is made in says nothing, and callers store these.
        self.result.placements = dict(sorted(self.result.placements.items()))
        self.result.reasons = dict(sorted(self.result.reasons.items()))


def _duration_text(span: timedelta) -> str:
    if span % timedelta(days=1) == timedelta(0):
        return f"{span.days}-day"
    return str(span)


def in_window(result: Plan, day: date) -> bool:
    return result.today <= day < result.until
