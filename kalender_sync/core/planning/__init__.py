"""The planning rules: a pure function of (team, contact log, today) -> planned events.

No clock, no files, no network: `today` and, optionally, people's busy times are
arguments, so every plan can be reproduced exactly.
"""
from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property

from .. import texts
from ..durations import Interval
from ..model import ContactAgreement, Person, SessionSeries, Team

# Changing this namespace would give every event a new UID, i.e. duplicates in every
# calendar that was ever synced: never change it.
UID_NAMESPACE = uuid.UUID("6f1c9a52-3b0e-5a7d-9c61-4b2f0e8d7a13")
UID_DOMAIN = "kalender-sync"
# The reference point for agreements that have never had a logged contact: their
# reminders fall on a fixed two-weekly grid, so the date does not drift with `today`.
_NEVER_ANCHOR = date(2024, 1, 1)
# How far back reminder anchors are still placed, so that a reminder that was pushed
# past its anchor by spreading keeps its slot instead of jumping to the next anchor.
_LOOKBACK = timedelta(weeks=4)
_SEARCH_DAYS = 400
_OFFSETS = tuple(timedelta(days=i) for i in range(_SEARCH_DAYS))
_FIRST_WEEK = _OFFSETS[:7]


_NAMESPACE_BYTES = UID_NAMESPACE.bytes


def uid_for(key: str) -> str:
    """The RFC 4122 name-based (SHA-1, version 5) UUID of `key`, as uuid.uuid5 gives it.

    Formatted from the hex digest directly: uuid.uuid5 builds a UUID object per call,
    three times slower, and this runs once per planned event (120,000 for 10,000 people).
    A property test holds it equal to uuid.uuid5.
    """
    h = hashlib.sha1(_NAMESPACE_BYTES + key.encode("utf-8")).hexdigest()
    variant = "89ab"[int(h[16], 16) & 0x3]          # RFC 4122 variant bits 10xx
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}@{UID_DOMAIN}"


@dataclass(frozen=True)
class PlannedEvent:
    """One event in one person's calendar."""

    key: str                    # identity: kind/what/occurrence/person — UID is derived from it
    person: str
    kind: str                   # contact | aftercare | session | prepare | meeting | report_back
    title: str
    description: str
    start: datetime | date      # aware datetime, or a date for all-day events
    end: datetime | date        # exclusive
    group: str                  # the same for every person of one group event (for invitations)
    attendees: tuple[str, ...] = ()
    location: str | None = None
    alarm: timedelta | None = None
    busy: bool = True

    @cached_property
    def uid(self) -> str:
        # Cached: planning, diff, rendering and output all ask, and uuid5 is a SHA-1.
        return uid_for(self.key)

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def day(self) -> date:
        return self.start.date() if isinstance(self.start, datetime) else self.start


@dataclass(frozen=True)
class Skipped:
    """Something the rules could not place, said out loud instead of silently dropped."""

    what: str
    reason: str


@dataclass
class Plan:
    today: date
    until: date
    events: list[PlannedEvent] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def for_person(self, person: str) -> list[PlannedEvent]:
        # Indexed once: a scan per person made `plan` quadratic (5 minutes for 10,000 people).
        index = self.__dict__.get("_by_person")
        if index is None or self.__dict__.get("_indexed") is not self.events or len(self.events) != index[0]:
            groups: dict[str, list[PlannedEvent]] = defaultdict(list)
            for event in self.events:
                groups[event.person].append(event)
            index = (len(self.events), groups)
            self.__dict__["_by_person"], self.__dict__["_indexed"] = index, self.events
        return list(index[1].get(person, ()))


class WorkCalendar:
    """Working days, hours and public holidays for one team."""

    def __init__(self, team: Team):
        self.team = team
        self.tz = team.timezone
        # Contact reminders for 10,000 people ask about the same few hundred days and
        # times over and over; zone arithmetic and holiday lookups are answered once.
        self._moments: dict[tuple[date, time], datetime | None] = {}
        self._holiday: dict[date, bool] = {}

    def is_holiday(self, day: date) -> bool:
        known = self._holiday.get(day)
        if known is None:
            known = self._holiday[day] = bool(self.team.holiday_country) and day in self.team.public_holidays.dates(
                self.team.holiday_country, self.team.holiday_subdivision, day.year)
        return known

    def is_working_day(self, day: date, people: list[Person]) -> bool:
        return not self.is_holiday(day) and all(p.working_hours.is_working_day(day) for p in people)

    def moment(self, day: date, clock: time) -> datetime | None:
        """`day` at `clock` in the team's zone; None if that wall time does not exist (DST gap)."""
        try:
            return self._moments[day, clock]
        except KeyError:
            pass
        local = datetime.combine(day, clock, self.tz)
        round_trip = local.astimezone(timezone.utc).astimezone(self.tz)
        moment = local if round_trip.replace(tzinfo=None) == local.replace(tzinfo=None) else None
        self._moments[day, clock] = moment
        return moment

    def slot(self, day: date, people: list[Person], preferred: time, length: timedelta,
             busy: list[tuple[datetime, datetime]] = (), only_preferred: bool = False) -> datetime | None:
        """A start on `day` inside everyone's working hours and clear of `busy`, the preferred time first."""
        if not self.is_working_day(day, people):
            return None
        candidates = [preferred]
        if not only_preferred:
            candidates += sorted({end.astimezone(self.tz).time() for start, end in busy
                                  if end.astimezone(self.tz).date() == day}
                                 | {start for p in people for start, _ in p.working_hours.blocks[day.weekday()]})
        for clock in candidates:
            if all(p.working_hours.fits(day, clock, length) for p in people):
                moment = self.moment(day, clock)
                if moment is not None and not any(b_start < moment + length and moment < b_end
                                                  for b_start, b_end in busy):
                    return moment
        return None

    def next_slot(self, day: date, people: list[Person], preferred: time, length: timedelta,
                  allowed=lambda d: True, busy: list[tuple[datetime, datetime]] = ()) -> datetime | None:
        """The first slot from `day` on. The preferred time on a later day beats another time
        of day, up to a week later: people plan around a familiar time."""
        for offset in _FIRST_WEEK:
            candidate = day + offset
            if allowed(candidate):
                moment = self.slot(candidate, people, preferred, length, busy, only_preferred=True)
                if moment is not None:
                    return moment
        for offset in _OFFSETS:
            candidate = day + offset
            if allowed(candidate):
                moment = self.slot(candidate, people, preferred, length, busy)
                if moment is not None:
                    return moment
        return None

    def next_working_day(self, day: date, people: list[Person], step: int = 1) -> date | None:
        for offset in range(_SEARCH_DAYS):
            candidate = day + timedelta(days=offset * step)
            if self.is_working_day(candidate, people):
                return candidate
        return None


Busy = dict[str, list[tuple[datetime, datetime]]]


def plan(team: Team, today: date, busy: Busy | None = None) -> Plan:
    """All events each person should have in [today, today + horizon)."""
    result = Plan(today=today, until=team.horizon.after(today))
    work = WorkCalendar(team)
    _plan_aftercare(team, work, result)
    _plan_sessions(team, work, result, busy or {})
    _plan_meetings(team, work, result)
    # Contact reminders last: they are the flexible ones and go around the rest.
    _plan_contacts(team, work, result, busy or {})
    result.events.sort(key=lambda e: (e.person, _sort_moment(e.start), e.key))
    return result


def _sort_moment(start: datetime | date) -> datetime:
    if isinstance(start, datetime):
        return start.astimezone(timezone.utc).replace(tzinfo=None)
    return datetime.combine(start, time(0))


# -- contact agreements -------------------------------------------------------

@dataclass(frozen=True)
class ContactStatus:
    """Where one agreement stands: the basis of reminders and of the team report."""

    agreement: ContactAgreement
    last: date | None
    due: date
    explicit: bool            # the date was agreed ("next"), not computed from the interval

    def overdue_days(self, today: date) -> int:
        return max(0, (today - self.due).days)


def contact_status(team: Team, agreement: ContactAgreement) -> ContactStatus:
    """Due date = last contact + interval; an agreed next date from the latest record wins."""
    records = [(agreement.last, agreement.next)] if (agreement.last or agreement.next) else []
    records += [(e.on, e.next) for e in team.log if e.owner == agreement.owner and e.agreement == agreement.id]
    dated = [r for r in records if r[0] is not None]
    last = max((r[0] for r in dated), default=None)
    if dated:
        latest = max(dated, key=lambda r: (r[0], r[1] is not None))
        if latest[1] is not None:
            return ContactStatus(agreement, last, latest[1], True)
        return ContactStatus(agreement, last, agreement.every.after(last), False)
    if agreement.next is not None:
        return ContactStatus(agreement, None, agreement.next, True)
    return ContactStatus(agreement, None, _NEVER_ANCHOR, False)


def _anchors(status: ContactStatus, every: Interval, today: date, until: date,
             nudges_until: date) -> list[tuple[int, date]]:
    """Reminder anchors: the due date, then one every `every` until a contact is logged.

    Anchors come from fixed date windows, not "the next few": a count would shift with
    `today` and move other reminders with it. Re-reminders further ahead than the
    calendar shows are left out; they are placed after everything else, so leaving them
    out moves nothing that is shown.
    """
    start = today - _LOOKBACK
    result: list[tuple[int, date]] = []
    if start <= status.due < until:
        result.append((0, status.due))
    k = 1
    if status.due < start:
        # Jump close to the window without walking years of fortnights one by one.
        step_days = (every.after(status.due) - status.due).days
        k = max(1, ((start - status.due).days // max(step_days, 1)) - 1)
    while True:
        anchor = every.after(status.due, k)
        if anchor >= min(until, nudges_until):
            break
        if anchor >= start:
            result.append((k, anchor))
        k += 1
    return result


def _plan_contacts(team: Team, work: WorkCalendar, result: Plan, busy: Busy) -> None:
    settings = team.reminders
    by_owner: dict[str, list[ContactAgreement]] = defaultdict(list)
    for agreement in team.contacts:
        by_owner[agreement.owner].append(agreement)
    nudges_until = settings.overdue_every.after(result.today, settings.ahead + 1) + timedelta(weeks=2)
    timed: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for event in result.events:
        if not event.all_day:
            timed[event.person].append((event.start, event.end))
    for owner, agreements in sorted(by_owner.items()):
        person = team.people[owner]
        taken = list(timed.get(owner, ()))
        taken += busy.get(owner, [])
        wanted = []
        for agreement in agreements:
            status = contact_status(team, agreement)
            for nudge, anchor in _anchors(status, settings.overdue_every, result.today, result.until, nudges_until):
                wanted.append((anchor, agreement.id, nudge, status))
        # Dates agreed in a conversation are placed first, then due dates, then re-reminders
        # of overdue contacts: the later kinds move around the earlier ones, never the
        # other way round, so a nagging backlog cannot push a due reminder away.
        wanted.sort(key=lambda w: (not (w[3].explicit and w[2] == 0), w[2] > 0, w[0], w[1], w[2]))
        per_week: dict[int, int] = defaultdict(int)
        taken_days: set[date] = set()
        shown: dict[str, int] = defaultdict(int)
        for anchor, _, nudge, status in wanted:
            agreement = status.agreement

            def free(day: date) -> bool:
                # (ordinal - 1) // 7 numbers the Monday-to-Sunday weeks: the ISO week, cheaper.
                return day not in taken_days and per_week[(day.toordinal() - 1) // 7] < settings.max_per_week

            moment = work.next_slot(anchor, [person], settings.at, agreement.duration, free, taken)
            if moment is None or moment.date() >= result.until:
                continue
            day = moment.date()
            taken_days.add(day)
            per_week[(day.toordinal() - 1) // 7] += 1
            if day < result.today or shown[agreement.id] >= settings.ahead:
                continue
            shown[agreement.id] += 1
            lang = person.language
            key = f"contact/{owner}/{agreement.id}/{status.due.isoformat()}/{nudge}"
            result.events.append(PlannedEvent(
                key=key, person=owner, kind="contact",
                title=texts.contact_title(lang, agreement.contact, nudge, agreement.medium),
                description=texts.contact_description(
                    lang, contact=agreement.contact, role=agreement.role, organisation=agreement.organisation,
                    every=agreement.every, last=status.last, due=status.due, anchor=anchor, nudge=nudge,
                    medium=agreement.medium, question=agreement.question, length=agreement.duration,
                    owner=owner),
                start=moment, end=moment + agreement.duration, group=key,
                alarm=settings.alarm, busy=False))


# -- aftercare ------------------------------------------------------------------

def _plan_aftercare(team: Team, work: WorkCalendar, result: Plan) -> None:
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


# -- sessions -----------------------------------------------------------------------

def session_periods(series: SessionSeries, start: date, until: date) -> list[tuple[date, date]]:
    """Calendar periods (month, quarter, ...) that overlap [start, until)."""
    months = 12 // series.periods_per_year
    from ..durations import add_months
    period_start = date(start.year, ((start.month - 1) // months) * months + 1, 1)
    result = []
    while period_start < until:
        period_end = add_months(period_start, months)
        result.append((period_start, period_end))
        period_start = period_end
    return result


def _plan_sessions(team: Team, work: WorkCalendar, result: Plan, busy: Busy) -> None:
    for series in team.sessions:
        people = [team.people[p] for p in series.participants]
        for period_start, period_end in session_periods(series, result.today, result.until):
            moment = _session_moment(work, series, people, period_start, period_end, busy)
            label = f"{series.name} {period_start:%Y-%m}"
            if moment is None:
                result.skipped.append(Skipped(label, "no preferred weekday in the period when everyone "
                                                     "is working, free and not on a public holiday"))
                continue
            # The period's date is chosen without looking at `today`, so a session that
            # already took place this period is not planned a second time later on.
            if not result.today <= moment.date() < result.until:
                continue
            group = f"session/{series.id}/{period_start:%Y-%m}"
            for person in people:
                lang = person.language
                result.events.append(PlannedEvent(
                    key=f"{group}/{person.id}", person=person.id, kind="session", title=series.name,
                    description=texts.session_description(lang, series.name, series.description,
                                                          series.periods_per_year, [p.name for p in people]),
                    start=moment, end=moment + series.duration, group=group, attendees=series.participants,
                    location=series.location, alarm=team.reminders.alarm))


def _session_moment(work: WorkCalendar, series: SessionSeries, people: list[Person],
                    period_start: date, period_end: date, busy: Busy) -> datetime | None:
    day = period_start + timedelta(days=(series.weekday - period_start.weekday()) % 7)
    while day < period_end:
        moment = work.moment(day, series.start)
        if (moment is not None and work.is_working_day(day, people)
                and all(p.working_hours.fits(day, series.start, series.duration) for p in people)
                and not _anyone_busy(busy, people, moment, moment + series.duration)):
            return moment
        day += timedelta(days=7)
    return None


def _anyone_busy(busy: Busy, people: list[Person], start: datetime, end: datetime) -> bool:
    return any(b_start < end and start < b_end for p in people for b_start, b_end in busy.get(p.id, ()))


# -- network meetings ---------------------------------------------------------------------

def _plan_meetings(team: Team, work: WorkCalendar, result: Plan) -> None:
    for meeting in team.meetings:
        rep = team.people[meeting.representative]
        colleagues = [team.people[c] for c in meeting.colleagues]
        day = meeting.at.date()
        group = f"meeting/{meeting.id}"
        everyone = (meeting.representative,) + meeting.colleagues

        def add(part: str, person: Person, start, end, kind: str, attendees=()) -> None:
            if not result.today <= (start.date() if isinstance(start, datetime) else start) < result.until:
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
