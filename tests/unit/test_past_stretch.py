"""The past stretch of files and feeds (`past`, 4 weeks; issue 11): last week's reminders stay.

Pure (core.history), then through the real `export` command over consecutive days: the past
is kept byte for byte (no churn), old events drop out, and a first export holds the same
past stretch as a feed.
"""
from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

from icalendar import Calendar

from helpers import EXAMPLE, TODAY, make_team
from support.cli import run_in_process

from kalender_sync.core.history import calendar_plan, past_stretch, with_past
from kalender_sync.core.planning import day_of, plan
from kalender_sync.engine.feeds import render_feed
from kalender_sync.storage.teamfiles import load

SINCE = TODAY - timedelta(weeks=4)          # 2026-10-27

# Piet is due on 2026-11-01 (a Sunday): reminded on Monday 2 November, again every two weeks
# while nobody logs a contact. A monthly session on the first Monday of the month.
TEAM = """\
contacts:
  - {owner: maarten, with: Piet de Vries, every: 4 months, last: 2026-07-01, medium: phone}
  - {owner: jw, with: Anouk Smit, every: 6 months, last: 2026-05-04, medium: coffee}
sessions:
  - name: Teamoverleg
    every: month
    participants: all
    prefer: {weekday: mon, start: "13:00"}
    duration: 30m
"""


def shown(past, person):
    return sorted((e.start, e.kind, e.title) for e in past.for_person(person))


def test_the_past_stretch_is_what_the_calendars_showed():
    past = past_stretch(make_team(TEAM), TODAY)
    assert (past.since, past.today) == (SINCE, TODAY)
    maarten = shown(past, "maarten")
    assert [(s.date(), kind) for s, kind, _ in maarten] == [
        (date(2026, 11, 2), "contact"), (date(2026, 11, 2), "session"), (date(2026, 11, 16), "contact")]
    assert maarten[0][2] == "Contact met Piet de Vries (bellen)"
    assert maarten[2][2].startswith("Nog even: contact met Piet de Vries")      # the re-reminder, as it was
    assert [(s.date(), title) for s, _, title in shown(past, "jw")] == [
        (date(2026, 11, 2), "Teamoverleg"), (date(2026, 11, 4), "Contact met Anouk Smit (koffie drinken)"),
        (date(2026, 11, 18), "Nog even: contact met Anouk Smit (koffie drinken)")]
    for event in past.events:
        assert SINCE <= day_of(event.start) < TODAY
        assert event.alarm is None                     # a past alarm could only fire late
    # Pure: the same input, the same stretch.
    assert past_stretch(make_team(TEAM), TODAY) == past


def test_a_contact_logged_since_ends_its_reminders_but_keeps_the_one_it_answered():
    # Piet was reminded on 2 November and called on the 10th: the re-reminder of the 16th
    # never showed (the plan knew about the call by then), the reminder of the 2nd did.
    team = make_team(TEAM, log="- {who: maarten, with: Piet de Vries, on: 2026-11-10}\n")
    contacts = [e for e in past_stretch(team, TODAY).for_person("maarten") if e.kind == "contact"]
    assert [day_of(e.start) for e in contacts] == [date(2026, 11, 2)]
    assert contacts[0].title == "Contact met Piet de Vries (bellen)"          # planned with the log of then
    # A call on the reminder's own day: that reminder stays, it is what the call answered.
    team = make_team(TEAM, log="- {who: maarten, with: Piet de Vries, on: 2026-11-16}\n")
    contacts = [e for e in past_stretch(team, TODAY).for_person("maarten") if e.kind == "contact"]
    assert [day_of(e.start) for e in contacts] == [date(2026, 11, 2), date(2026, 11, 16)]
    # Today's plan knows about the call: Piet's next reminder is four months after it.
    ahead = [e for e in plan(team, TODAY).for_person("maarten") if "Piet" in e.title]
    assert [day_of(e.start) for e in ahead] == [date(2027, 3, 16)]


def test_the_length_of_the_stretch_is_the_configs():
    team = make_team("past: 1 week\n" + TEAM)
    past = past_stretch(team, TODAY)
    assert past.since == TODAY - timedelta(weeks=1)
    assert past.for_person("maarten") == []                # the re-reminder of 16 November is older
    assert [(day_of(e.start), e.title) for e in past.for_person("jw")] == [
        (date(2026, 11, 18), "Nog even: contact met Anouk Smit (koffie drinken)")]
    assert past_stretch(make_team("past: none\n" + TEAM), TODAY) is None
    assert calendar_plan(make_team("past: none\n" + TEAM), TODAY).shown_for("maarten") == \
        plan(make_team(TEAM), TODAY).for_person("maarten")


def test_todays_plan_wins_over_the_past_for_the_same_uid():
    team = make_team(TEAM)
    today = plan(team, TODAY)
    past = past_stretch(team, TODAY)
    # Pretend the plan of today still has the reminder of 2 November (moved to tomorrow).
    [reminder] = [e for e in past.for_person("maarten") if e.start.day == 2 and e.kind == "contact"]
    moved = type(today)(today.today, today.until, today.events + [reminder], today.skipped)
    both = with_past(moved, past)
    uids = [e.uid for e in both.shown_for("maarten")]
    assert len(uids) == len(set(uids)) and reminder.uid in uids
    assert reminder.uid not in {e.uid for e in both.past.for_person("maarten")}


def _events(path: Path) -> dict[str, bytes]:
    return {str(e["uid"]): e.to_ical() for e in Calendar.from_ical(path.read_bytes()).walk("VEVENT")}


def _end_day(component) -> date:
    """The day an event of the file ends, as the engine counts it (an all-day end is exclusive)."""
    return day_of(component.decoded("dtend"))


def _export(config: Path, day: date, out: Path) -> None:
    result = run_in_process("export", "--config", str(config), "--today", day.isoformat(), "--out", str(out))
    assert result.returncode == 0, result.stderr


def test_daily_exports_keep_the_past_as_it_was_written_and_let_old_events_go(tmp_path):
    shutil.copy(EXAMPLE, tmp_path / "team.yaml")
    shutil.copy(EXAMPLE.with_name("contacts-log.yaml"), tmp_path / "contacts-log.yaml")
    config, out = tmp_path / "team.yaml", tmp_path / "out"
    days = [TODAY + timedelta(days=n) for n in range(9)] + [TODAY + timedelta(days=40)]
    before: dict[str, dict[str, tuple[date, bytes]]] = {}
    kept = 0
    for day in days:
        _export(config, day, out)
        since = day - timedelta(weeks=4)
        now = {}
        for path in sorted(out.glob("*.ics")):
            now[path.name] = {str(e["uid"]): (_end_day(e), e.to_ical())
                              for e in Calendar.from_ical(path.read_bytes()).walk("VEVENT")}
        for name, events in now.items():
            assert all(end >= since for end, _ in events.values()), (day, name)    # older ones dropped out
            if not before:
                continue
            earlier = before[name]
            for uid, (end, text) in events.items():
                if end < day:
                    # The past is never added to or rewritten after the first export.
                    assert uid in earlier and earlier[uid][1] == text, (day, name, uid)
                    kept += 1
            for uid, (end, text) in earlier.items():
                if since <= end < day:
                    assert uid in events, (day, name, uid)                    # and none of it is lost
        before = now
    assert kept > 100


def test_a_first_export_holds_the_same_past_as_the_feed(tmp_path):
    _export(EXAMPLE, TODAY, tmp_path)
    team = load(EXAMPLE)
    the_plan = calendar_plan(team, TODAY)
    assert the_plan.past is not None and len(the_plan.past.events) == 16
    for person in team.people:
        exported = _events(tmp_path / f"{person}.ics")
        feed = {str(e["uid"]): e.to_ical() for e in Calendar.from_ical(render_feed(team, the_plan, person))
                .walk("VEVENT")}
        assert exported == feed, person
        days = [day_of(Calendar.from_ical(text).decoded("dtstart")) for text in exported.values()]
        assert min(days) >= SINCE and any(d < TODAY for d in days)


def test_past_is_an_interval_of_at_most_a_year_or_none():
    import pytest

    from kalender_sync.core.errors import ConfigError
    assert make_team("past: none\n").past is None
    assert str(make_team("past: 1 jaar\n").past) == "1 year" and str(make_team("").past) == "4 weeks"
    for text, message in (("13 months", "at most 1 year of the past is kept"), ("367 days", "at most 1 year"),
                          ("200 years", "at most 1 year"), ("0 days", "an interval must be positive, or none"),
                          ("soon", "expected an interval such as '4 months', '6 weeks' or '1 year', or none")):
        with pytest.raises(ConfigError) as caught:
            make_team(f"past: {text}\n")
        assert f": past: {message}" in str(caught.value) and f"(got: {text})" in str(caught.value), text
