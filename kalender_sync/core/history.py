"""The past stretch: the recent past that exported files and feeds keep, `past` (4 weeks).

A CalDAV calendar keeps every event that ended (diff's keep_history): it is the person's
record of what they did. A file or a feed is rewritten from the plan, which starts today,
so last week's reminders would vanish from a subscribed calendar. They keep [today −
past, today) as well:

* A feed has no memory, so its past comes from planning: the plan made on the first day
  of the stretch, with the contact log as it stood then (contacts from before that day),
  shows what was in the calendar during the stretch. Its re-reminders are all kept (each
  was the next one until its day came), and a contact reminder is left out from the day
  after a contact with that person was logged: once logged, the reminder was gone. Where
  today's plan has an event with the same UID, today's plan wins. So the past stretch of
  a feed follows from the config, the log and today alone: the same input gives the same
  bytes.
* A file remembers: an event of ours it holds that ended in the stretch stays exactly as
  it was written, so a daily export does not rewrite the past (the history is what the
  person saw, not what today's config would make of it). Only a file that holds none of
  our events yet (a first export) starts with the planned past stretch, as a feed does.
  Events that ended before the stretch drop out.
* Planned past events carry no alarm: it could only fire late, and a client may show the
  alarms of a newly subscribed calendar's recent past all at once, as missed ones. A
  file's own past events keep what they were written with.

Pure: no clock, files or network.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property
from typing import Callable

from .diff import Existing
from .fingerprint import content_hash
from .invitations import for_calendars
from .model import Team
from .planning import Plan, PlannedEvent, day_of, plan


@dataclass(frozen=True)
class PastStretch:
    """The events of [since, today) as they were planned, one list for the whole team."""

    since: date
    today: date
    planned: tuple[PlannedEvent, ...] = ()      # as planned then, alarms and all
    _by_person: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        index: dict[str, list[tuple[PlannedEvent, PlannedEvent]]] = {}
        for event in self.planned:
            shown = replace(event, alarm=None) if event.alarm is not None else event
            index.setdefault(event.person, []).append((event, shown))
        object.__setattr__(self, "_by_person", index)

    @property
    def events(self) -> list[PlannedEvent]:
        """The events as a calendar shows them now they are past: without alarms."""
        return [shown for pairs in self._by_person.values() for _, shown in pairs]

    def for_person(self, person: str) -> list[PlannedEvent]:
        return [shown for _, shown in self._by_person.get(person, ())]

    def holds(self, existing: Existing) -> bool:
        """Whether an event a calendar holds ended inside the stretch."""
        return existing.end is not None and self.since <= existing.end < self.today

    def for_calendar(self, person: str, planned: list[PlannedEvent],
                     existing: dict[str, Existing]) -> tuple[list[PlannedEvent], dict[str, Existing]]:
        """For a calendar that holds only what it is given (a file): the events to bring it to,
        and the existing events the diff is to see.

        Events of ours it holds that ended in the stretch are left out of what the diff sees,
        so they stay as they are. Where the planned past has the very same event (as it was
        written while it was ahead, with its alarm, or as a first export wrote it, without),
        that event is planned instead: kept, and written again as it is without reading the
        file back. A calendar with none of our events gets the planned past stretch.
        """
        wanted = {event.uid for event in planned}
        first = not any(old.owned for old in existing.values())
        kept = {uid for uid, old in existing.items() if uid not in wanted and old.owned and self.holds(old)}
        shown = list(planned)
        for then, now in self._by_person.get(person, ()):
            if now.uid in wanted:
                continue
            old = existing.get(now.uid)
            if old is None:
                if first:
                    shown.append(now)
            elif now.uid in kept:
                same = next((e for e in (then, now) if old.hash == content_hash(e)), None)
                if same is not None:
                    shown.append(same)
                    kept.discard(now.uid)
        return shown, {uid: old for uid, old in existing.items() if uid not in kept}


@dataclass
class CalendarPlan(Plan):
    """The plan for calendars, with the past stretch that files and feeds keep."""

    # The past stretch is planned when first asked for: calendars that keep their own history
    # (CalDAV, vdir) never ask, and planning it is a second whole plan.
    stretch: Callable[[], PastStretch | None] | None = field(default=None, compare=False, repr=False)

    @cached_property
    def past(self) -> PastStretch | None:
        if self.stretch is None:
            return None
        past = self.stretch()
        if past is not None:
            # An event today's plan also has is today's.
            planned = {event.uid for event in self.events}
            past = replace(past, planned=tuple(e for e in past.planned if e.uid not in planned))
        return past

    def shown_for(self, person: str) -> list[PlannedEvent]:
        """What a stateless calendar of `person` (a feed) holds: the past stretch, then the plan."""
        return (self.past.for_person(person) if self.past else []) + self.for_person(person)


def calendar_plan(team: Team, today: date, busy=None, placed=None, unreadable=None) -> CalendarPlan:
    """The plan as calendars show it: without the group events people get as e-mail
    invitations (invitations.for_calendars), with the past stretch for files and feeds.

    `busy`, `placed`, `unreadable`: as planning.plan takes them. The past stretch is planned
    with `placed` only: it shows where occurrences were, and busy times are read from today on."""
    if busy is None and placed is None and unreadable is None:
        return lazy_past(for_calendars(plan(team, today), team), lambda: past_stretch(team, today))
    planned = plan(team, today, busy=busy, placed=placed, unreadable=unreadable)
    return lazy_past(for_calendars(planned, team), lambda: past_stretch(team, today, placed=placed))


def stretch_start(team: Team, today: date) -> date | None:
    """The first day of the past stretch; None when the config keeps no past (`past: none`)."""
    return team.past.before(today) if team.past is not None else None


def past_stretch(team: Team, today: date, since: date | None = None, placed=None) -> PastStretch | None:
    """The events of [since, today) as the calendars showed them: planned on `since`, with the
    contact log of before `since`, without the reminders of contacts logged since."""
    since = stretch_start(team, today) if since is None else since
    if since is None or since >= today:
        return None
    # Snoozes carry no day of their own: the past is planned without them.
    then = replace(team, log=tuple(entry for entry in team.log if entry.on < since), snoozes=(),
                   reminders=replace(team.reminders, ahead=team.reminders.ahead + _steps(team, since, today)))
    earlier = for_calendars(plan(then, since, placed=placed) if placed else plan(then, since), then)
    logged: dict[tuple[str, str], list[date]] = {}
    for entry in team.log:
        if since <= entry.on < today:
            logged.setdefault((entry.owner, entry.agreement), []).append(entry.on)
    events = []
    for event in earlier.events:
        if not since <= day_of(event.start) < today:
            continue
        if event.kind == "contact" and _superseded(event, logged):
            continue
        events.append(event)
    return PastStretch(since, today, tuple(events))


def with_past(calendar_plan: Plan, past: PastStretch | None) -> CalendarPlan:
    """`calendar_plan` with the past stretch; an event today's plan also has is today's."""
    return lazy_past(calendar_plan, lambda: past)


def lazy_past(calendar_plan: Plan, stretch: Callable[[], PastStretch | None]) -> CalendarPlan:
    """`calendar_plan` with the past stretch that `stretch()` plans when it is first asked for."""
    fields = {name: getattr(calendar_plan, name) for name in Plan.__dataclass_fields__}
    return CalendarPlan(**fields, stretch=stretch)


def _steps(team: Team, since: date, today: date) -> int:
    """How many re-reminders of one agreement can fall in [since, today)."""
    every, steps = team.reminders.overdue_every, 1
    while every.after(since, steps) < today:
        steps += 1
    return steps


def _superseded(event: PlannedEvent, logged: dict[tuple[str, str], list[date]]) -> bool:
    """A reminder for a day after a contact with that person was logged: the calendar no
    longer showed it. On the contact's own day it stays: it is what the contact answered."""
    _, owner, agreement, *_ = event.key.split("/")
    return any(on < day_of(event.start) for on in logged.get((owner, agreement), ()))
