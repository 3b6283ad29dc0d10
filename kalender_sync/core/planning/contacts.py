"""Contact agreements: when a contact is due, and the reminders in the owner's calendar.

- Due date = last contact (from the config's `last` or the contact log, whichever is
  later) + the interval; a `next` date agreed in the conversation wins.
- An agreement without any `last` or `next` is treated as open and reminded on a fixed
  grid, every `overdue_every` (two weeks by default) from a fixed date, not from today.
  Nothing was ever due, so each of these reminders asks for the first contact.
- The reminder lands on the first working day from the due date at `reminders.at`, clear
  of other planned events and busy times, at most one a day and `max_per_week` (default 2)
  a week.
- If no contact is logged, a kind re-reminder follows every `overdue_every` (default
  2 weeks) counted from the due date, so the reminder does not drift day by day; the
  calendar holds the next `ahead` (default 1) of them.
- Agreed dates are placed first, then due dates, then re-reminders: a backlog of
  overdue contacts never pushes a due reminder away.
- Reminders are planned after every other kind of event and go around them.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .. import texts
from ..durations import Interval
from ..model import ContactAgreement, Team
from .events import Plan, PlannedEvent
from .workcalendar import Busy, WorkCalendar

# The reference point for agreements that have never had a logged contact: their
# reminders fall on a fixed two-weekly grid, so the date does not drift with `today`.
_NEVER_ANCHOR = date(2024, 1, 1)
# How far back reminder anchors are still placed, so that a reminder that was pushed
# past its anchor by spreading keeps its slot instead of jumping to the next anchor.
_LOOKBACK = timedelta(weeks=4)


@dataclass(frozen=True)
class ContactStatus:
    """Where one agreement stands: the basis of reminders and of the team report."""

    agreement: ContactAgreement
    last: date | None
    due: date
    explicit: bool            # the date was agreed ("next"), not computed from the interval

    @property
    def never_contacted(self) -> bool:
        """No contact logged and no date agreed: the due date is only the grid's fixed anchor."""
        return self.last is None and not self.explicit

    def overdue_days(self, today: date) -> int:
        return max(0, (today - self.due).days)


def contact_status(team: Team, agreement: ContactAgreement) -> ContactStatus:
    """Due date = last contact + interval; an agreed next date from the latest record wins;
    a snooze ("not now, remind me on ...") written after the last logged contact wins over both."""
    records = [(agreement.last, agreement.next)] if (agreement.last or agreement.next) else []
    own = [e for e in team.log if e.owner == agreement.owner and e.agreement == agreement.id]
    records += [(e.on, e.next) for e in own]
    dated = [r for r in records if r[0] is not None]
    last = max((r[0] for r in dated), default=None)
    # Log order, not dates, says which came later: a snooze has no day of its own.
    after = max((e.line for e in own), default=0)
    snoozed = [s for s in team.snoozes if s.owner == agreement.owner and s.agreement == agreement.id
               and s.line > after]
    if snoozed:
        return ContactStatus(agreement, last, max(snoozed, key=lambda s: s.line).until, True)
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


def plan_contact_reminders(team: Team, work: WorkCalendar, result: Plan, busy: Busy) -> None:
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
            # Without any contact or agreed date nothing was ever due, so no reminder of it
            # repeats a missed one: each asks for the first contact (and has no "open since").
            repeat = 0 if status.never_contacted else nudge
            result.events.append(PlannedEvent(
                key=key, person=owner, kind="contact",
                title=texts.contact_title(lang, agreement.contact, repeat, agreement.medium),
                description=texts.contact_description(
                    lang, contact=agreement.contact, role=agreement.role, organisation=agreement.organisation,
                    every=agreement.every, last=status.last, due=status.due, on=day, nudge=repeat,
                    medium=agreement.medium, question=agreement.question, length=agreement.duration,
                    owner=owner, done_url=team.links.done_url(owner, agreement.id, day) if team.links else None),
                start=moment, end=moment + agreement.duration, group=key,
                alarm=settings.alarm, busy=False))
