"""Property tests of the planning rules over generated teams."""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings, strategies as st

from helpers import make_team
from kalender_sync.core.planning import WorkCalendar, contact_status, plan

INTERVALS = ["2 weeks", "1 month", "3 months", "4 months", "6 months", "1 year"]


@st.composite
def teams(draw):
    count = draw(st.integers(1, 12))
    lines = ["reminders: {max_per_week: %d}" % draw(st.integers(1, 3)), "contacts:"]
    for index in range(count):
        owner = draw(st.sampled_from(["maarten", "jw"]))
        every = draw(st.sampled_from(INTERVALS))
        kind = draw(st.sampled_from(["last", "next", "none"]))
        when = date(2025, 6, 1) + timedelta(days=draw(st.integers(0, 900)))
        extra = f", {kind}: {when.isoformat()}" if kind != "none" else ""
        length = draw(st.sampled_from(["30m", "1h", "1h30m"]))
        lines.append(f"  - {{owner: {owner}, with: Contact {index}, every: {every}{extra}, duration: {length}}}")
    if draw(st.booleans()):
        lines.append("sessions:\n  - {name: Bel-uurtje, every: quarter, participants: all, "
                     "prefer: {weekday: thu, start: \"09:00\"}}")
    return make_team("\n".join(lines) + "\n")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(teams(), st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)))
def test_reminders_respect_working_time_holidays_and_spreading(team, today):
    result = plan(team, today)
    work = WorkCalendar(team)
    assert result.events == plan(team, today).events                      # deterministic
    assert len({e.uid for e in result.events}) == len(result.events)      # no duplicate UIDs
    per_week: Counter = Counter()
    per_day: Counter = Counter()
    per_agreement: Counter = Counter()
    for event in result.events:
        person = team.people[event.person]
        assert today <= event.day < result.until
        assert not work.is_holiday(event.day)
        assert person.working_hours.is_working_day(event.day)
        if not event.all_day:
            assert person.working_hours.fits(event.day, event.start.time(), event.end - event.start)
        if event.kind == "contact":
            per_week[(event.person, event.day.isocalendar()[:2])] += 1
            per_day[(event.person, event.day)] += 1
            per_agreement[event.key.split("/")[2]] += 1
    assert all(n <= team.reminders.max_per_week for n in per_week.values())
    assert all(n == 1 for n in per_day.values())
    assert all(n <= team.reminders.ahead for n in per_agreement.values())
    # No timed event overlaps another timed event of the same person, whatever the kinds
    # (all kinds together, with meetings and aftercare: test_no_double_booking.py).
    timed = sorted((e.person, e.start, e.end, e.kind) for e in result.events if not e.all_day)
    for (p1, s1, e1, k1), (p2, s2, e2, k2) in zip(timed, timed[1:]):
        if p1 == p2:
            assert e1 <= s2


@settings(max_examples=60, deadline=None)
@given(teams(), st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)))
def test_every_agreement_has_a_reminder_within_the_horizon(team, today):
    """Nothing is silently lost: each agreement is in the calendar (the horizon is a year)."""
    result = plan(team, today)
    reminded = {e.key.split("/")[2] for e in result.events if e.kind == "contact"}
    for agreement in team.contacts:
        due = contact_status(team, agreement).due
        # Spreading may push a reminder by a week per contact at most (12 contacts, 1 a week).
        if due < result.until - timedelta(weeks=13):
            assert agreement.id in reminded


@given(st.text(max_size=80))
def test_uid_is_uuid5_of_the_key(key):
    # UIDs must never change (a changed UID duplicates every synced event), so the
    # fast formatting is held to the standard library's uuid5 for any key.
    import uuid
    from kalender_sync.core.planning import UID_NAMESPACE, uid_for
    text = key.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    assert uid_for(text) == f"{uuid.uuid5(UID_NAMESPACE, text)}@kalender-sync"


def test_uid_of_a_known_key_never_changes():
    from kalender_sync.core.planning import uid_for
    # Pinned: the UID this key got from the first release on.
    assert uid_for("contact/maarten/piet-de-vries/2027-03-23/0") == "eef67c41-a0c8-5403-8291-6a656c74928a@kalender-sync"
