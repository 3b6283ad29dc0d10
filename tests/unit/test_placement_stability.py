"""Once placed, a session or aftercare stays put (core/planning/stability.py).

It moves only when someone became busy then and it is more than the notice period ahead;
inside the notice period it is kept and reported as a conflict. A changed basis (the
project's end, the series' weekday) places it afresh. Whose calendar cannot be read: what
was placed for them stays, nothing new is placed for them. And `plan` says why each is
where it is.
"""
from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st
from zoneinfo import ZoneInfo

from helpers import make_team
from kalender_sync.core.busy import BusyTime
from kalender_sync.core.planning import Placement, plan
from kalender_sync.core.publicholidays import HolidayFacts
from test_no_double_booking import PEOPLE_IDS, busy_times, overlaps, team_configs

AMS = ZoneInfo("Europe/Amsterdam")

# Thursday 6 May 2027 is Ascension Day (Easter: 28 March); 1, 4 and 11 November 2027 are a
# Monday and two Thursdays. The ERP aftercare (+6 weeks) is due Friday 2 April, when jw is
# at a network meeting.
TEAM = """\
  sanne: {name: Sanne Bakker, email: sanne@example.nl, calendar: files}
  bram: {name: Bram de Boer, email: bram@example.nl, calendar: files}
projects:
  - {name: ERP-migratie, team: [maarten, jw], end: 2027-02-19, aftercare: [6 weeks, 6 months], at: "14:00"}
sessions:
  - {name: Bel-uurtje, every: month, participants: [maarten, jw, sanne, bram], prefer: {weekday: thu, start: "14:00"}}
meetings:
  - {name: SAM netwerk, at: "2027-04-02 14:00", duration: 2h, representative: jw, colleagues: [maarten]}
"""
MARCH = date(2027, 3, 1)
NOV = "session/bel-uurtje/2027-11"
ERP = "aftercare/erp-migratie/6-weeks"
BRAM_DOWN = {"bram": "werk (https://dav.example.nl/bram/werk/): 401 Unauthorized"}


def at(day: str, clock: str = "14:00") -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), AMS)


def starts(result, group: str) -> dict[str, datetime]:
    return {e.person: e.start for e in result.events if e.group == group}


def uids(result, group: str) -> set[str]:
    return {e.uid for e in result.events if e.group == group}


class NamelessHolidays(HolidayFacts):
    """Holiday facts that know no names (a library without an English name for a holiday)."""

    def names(self, country, subdivision, year):
        return {}


# -- stays put ---------------------------------------------------------------------------

def test_placements_fed_back_give_the_same_plan():
    team = make_team(TEAM)
    busy = {"sanne": [BusyTime(at("2027-11-04", "13:00"), at("2027-11-04", "15:00"), "Teamoverleg")]}
    first = plan(team, MARCH, busy)
    second = plan(team, MARCH, busy, placed=first.placements)
    assert second.events == first.events
    assert second.placements == first.placements
    assert second.conflicts == [] and second.skipped == first.skipped
    assert set(second.reasons) == set(first.reasons)
    assert all(r.endswith(": kept where it was placed") for r in second.reasons.values())
    # Every session and aftercare shown is in the placements, with what it was placed for.
    assert first.placements[NOV] == Placement(at("2027-11-11"), "2027-11 thu 14:00")
    assert first.placements[ERP] == Placement(at("2027-04-05"), "2027-04-02 14:00")
    assert {e.group for e in first.events if e.kind in ("session", "aftercare")} <= set(first.placements)


def test_a_new_busy_time_far_ahead_moves_the_occurrence_for_everyone():
    team = make_team(TEAM)
    first = plan(team, MARCH)
    assert set(starts(first, NOV).values()) == {at("2027-11-04")}
    busy = {"sanne": [BusyTime(at("2027-11-04", "13:00"), at("2027-11-04", "15:00"), "Teamoverleg")]}
    second = plan(team, MARCH, busy, placed=first.placements)
    # All four move to the next Thursday: the same events (keys, UIDs), a new time.
    assert starts(second, NOV) == {p: at("2027-11-11") for p in ("maarten", "jw", "sanne", "bram")}
    assert uids(second, NOV) == uids(first, NOV) and len(uids(first, NOV)) == 4
    assert second.placements[NOV] == Placement(at("2027-11-11"), "2027-11 thu 14:00")
    assert second.reasons[NOV] == ("Thu 11 Nov 14:00: first Thursday of November when all are free — 4 Nov Sanne "
                                   "Bakker busy (Teamoverleg) (moved from Thu 4 Nov 14:00: Sanne Bakker busy "
                                   "(Teamoverleg))")
    assert second.conflicts == []
    # Nothing else moved.
    others = lambda result: {e.key: e.start for e in result.events if e.group != NOV}   # noqa: E731
    assert others(second) == others(first)


def test_one_that_must_move_and_finds_no_place_stays_where_it_was_as_a_conflict():
    team = make_team(TEAM)
    first = plan(team, MARCH)
    thursdays = [date(2027, 11, 4) + timedelta(weeks=k) for k in range(4)]
    busy = {"sanne": [BusyTime(at(str(d), "09:00"), at(str(d), "17:00"), "Cursus") for d in thursdays]}
    result = plan(team, MARCH, busy, placed=first.placements)
    # Deleting it from four calendars would lose the session; it stays, and the plan says why.
    assert starts(result, NOV) == starts(first, NOV) and result.placements[NOV] == first.placements[NOV]
    assert not [s for s in result.skipped if s.what == "Bel-uurtje 2027-11"]
    [conflict] = [c for c in result.conflicts if c.what == "Bel-uurtje 2027-11"]
    assert conflict.reason == "kept at Thu 4 Nov 14:00 although Sanne Bakker busy (Cursus): no other time is free"
    assert result.reasons[NOV] == ("Thu 4 Nov 14:00: kept where it was placed although Sanne Bakker busy (Cursus): "
                                   "no other time is free")
    # A fresh plan (nothing placed yet) has nowhere to put it, and says so.
    fresh = plan(team, MARCH, busy)
    [skip] = [s for s in fresh.skipped if s.what == "Bel-uurtje 2027-11"]
    assert skip.reason.startswith("no Thursday in the period at 14:00 when everyone is working, free")


def test_inside_the_notice_period_it_is_kept_and_the_conflict_names_who():
    team = make_team(TEAM)
    placed = plan(team, MARCH).placements
    busy = {"sanne": [BusyTime(at("2027-11-04", "13:00"), at("2027-11-04", "15:00"), "Teamoverleg")],
            "bram": [BusyTime(at("2027-11-04", "14:30"), at("2027-11-04", "16:00"), tentative=True)]}
    # 21 October: 4 November is 14 days ahead, not more.
    kept = plan(team, date(2027, 10, 21), busy, placed=placed)
    assert set(starts(kept, NOV).values()) == {at("2027-11-04")}
    assert kept.placements[NOV] == placed[NOV]
    assert [(c.what, c.reason) for c in kept.conflicts] == [
        ("Bel-uurtje 2027-11", "kept at Thu 4 Nov 14:00 (inside the 14-day notice period) although Sanne Bakker "
                               "busy (Teamoverleg) and Bram de Boer tentative")]
    assert kept.reasons[NOV] == ("Thu 4 Nov 14:00: kept where it was placed, inside the 14-day notice period, "
                                 "although Sanne Bakker busy (Teamoverleg) and Bram de Boer tentative")
    # A day earlier it is 15 days ahead: it moves.
    moved = plan(team, date(2027, 10, 20), busy, placed=placed)
    assert set(starts(moved, NOV).values()) == {at("2027-11-11")}
    assert moved.conflicts == []


def test_the_notice_period_is_the_teams():
    team = make_team(TEAM + "busy_notice: 1 week\n")
    placed = plan(team, MARCH).placements
    busy = {"sanne": [BusyTime(at("2027-11-04", "13:00"), at("2027-11-04", "15:00"), "Teamoverleg")]}
    assert set(starts(plan(team, date(2027, 10, 28), busy, placed=placed), NOV).values()) == {at("2027-11-04")}
    assert set(starts(plan(team, date(2027, 10, 27), busy, placed=placed), NOV).values()) == {at("2027-11-11")}
    # No notice at all: only what is today stays.
    team = make_team(TEAM + "busy_notice: none\n")
    assert set(starts(plan(team, date(2027, 11, 3), busy, placed=placed), NOV).values()) == {at("2027-11-11")}
    today = plan(team, date(2027, 11, 4), busy, placed=placed)
    assert set(starts(today, NOV).values()) == {at("2027-11-04")}
    assert "(it is today)" in today.conflicts[0].reason


def test_a_moved_project_end_places_the_aftercare_afresh_even_inside_the_notice():
    team = make_team(TEAM)
    placed = plan(team, MARCH).placements
    assert placed[ERP].start == at("2027-04-05")
    later_end = make_team(TEAM.replace("end: 2027-02-19", "end: 2027-02-26"))
    # 1 April: the aftercare of Monday 5 April is four days ahead, but it was placed for
    # 2 April and is now due 9 April.
    result = plan(later_end, date(2027, 4, 1), placed=placed)
    assert starts(result, ERP) == {"maarten": at("2027-04-09"), "jw": at("2027-04-09")}
    assert result.placements[ERP] == Placement(at("2027-04-09"), "2027-04-09 14:00")
    assert uids(result, ERP) == uids(plan(team, MARCH), ERP)
    assert result.reasons[ERP] == ("Fri 9 Apr 14:00: the first day on or after Fri 9 Apr when the whole team is "
                                   "free (placed afresh: it was placed for 2027-04-02 14:00, now it is for "
                                   "2027-04-09 14:00)")
    assert result.conflicts == []


def test_a_changed_weekday_places_the_sessions_afresh():
    team = make_team(TEAM)
    placed = plan(team, MARCH).placements
    tuesdays = make_team(TEAM.replace("weekday: thu", "weekday: tue"))
    result = plan(tuesdays, date(2027, 10, 30), placed=placed)
    assert set(starts(result, NOV).values()) == {at("2027-11-02")}
    assert result.placements[NOV].basis == "2027-11 tue 14:00"


def test_a_placement_now_on_a_public_holiday_moves_when_far_enough_ahead():
    # Placed on Thursday 6 May when that was not known as a holiday (another country's
    # facts, an older library): far ahead it moves, close by it is kept and reported.
    team = make_team(TEAM)
    may = "session/bel-uurtje/2027-05"
    placed = {**plan(team, MARCH).placements, may: Placement(at("2027-05-06"), "2027-05 thu 14:00")}
    far = plan(team, MARCH, placed=placed)
    assert set(starts(far, may).values()) == {at("2027-05-13")}
    assert far.reasons[may].endswith("(moved from Thu 6 May 14:00: 6 May is Ascension Day)")
    close = plan(team, date(2027, 5, 1), placed=placed)
    assert set(starts(close, may).values()) == {at("2027-05-06")}
    assert [c.reason for c in close.conflicts] == [
        "kept at Thu 6 May 14:00 (inside the 14-day notice period) although 6 May is Ascension Day"]


def test_something_new_goes_around_what_is_kept_whatever_its_kind():
    # A new project's aftercare is due Thursday 1 April at 14:00, where jw and sanne already
    # have April's session. Placed together, the aftercare would win (precedence); the
    # session people have stays, and the new aftercare goes around it.
    team = make_team(TEAM)
    april = "session/bel-uurtje/2027-04"
    placed = plan(team, MARCH).placements
    assert placed[april].start == at("2027-04-01")
    with_dijk = make_team(TEAM.replace("sessions:", "  - {name: Dijk, team: [jw, sanne], end: 2027-02-18, "
                                                    "aftercare: [6 weeks], at: \"14:00\"}\nsessions:"))
    fresh = plan(with_dijk, MARCH)
    assert set(starts(fresh, "aftercare/dijk/6-weeks").values()) == {at("2027-04-01")}
    assert set(starts(fresh, april).values()) == {at("2027-04-08")}
    result = plan(with_dijk, MARCH, placed=placed)
    assert set(starts(result, april).values()) == {at("2027-04-01")}
    # 2 April: jw's meeting; 5 April: jw's ERP aftercare; so Tuesday 6 April.
    assert set(starts(result, "aftercare/dijk/6-weeks").values()) == {at("2027-04-06")}
    assert overlaps(result.events) == [] and result.conflicts == []


# -- a calendar that cannot be read ------------------------------------------------------

def test_whose_calendar_cannot_be_read_keeps_what_was_placed_and_gets_nothing_new():
    team = make_team(TEAM)
    first = plan(team, MARCH)
    # Now sanne is busy on November's session (far ahead: it would move), bram's calendar
    # cannot be read, and a new series for jw and bram has come.
    with_intervisie = make_team(TEAM.replace("meetings:", "  - {name: Intervisie, every: month, participants: "
                                                          "[jw, bram], prefer: {weekday: tue, start: \"10:00\"}}\n"
                                                          "meetings:"))
    busy = {"sanne": [BusyTime(at("2027-11-04", "13:00"), at("2027-11-04", "15:00"), "Teamoverleg")]}
    result = plan(with_intervisie, MARCH, busy, placed=first.placements, unreadable=BRAM_DOWN)
    # Nothing that involves bram is dropped or moved.
    had = {e.key: (e.start, e.end) for e in first.events}
    assert {e.key: (e.start, e.end) for e in result.events if e.key in had} == had
    assert {g: p for g, p in result.placements.items() if g in first.placements} == first.placements
    assert [(c.what, c.reason) for c in result.conflicts] == [
        ("Bel-uurtje 2027-11", "kept at Thu 4 Nov 14:00 although Sanne Bakker busy (Teamoverleg): Bram de Boer's "
                               "busy times could not be read: werk (https://dav.example.nl/bram/werk/): 401 "
                               "Unauthorized")]
    # The new series is not placed on missing data: each of its months says why.
    assert not any(e.group.startswith("session/intervisie/") for e in result.events)
    assert not any(g.startswith("session/intervisie/") for g in result.placements)
    intervisie = [s for s in result.skipped if s.what.startswith("Intervisie ")]
    assert [s.what for s in intervisie] == [f"Intervisie {m:%Y-%m}" for m in
                                            (date(2027 + (k + 2) // 12, (k + 2) % 12 + 1, 1) for k in range(12))]
    assert {s.reason for s in intervisie} == {
        "not placed: Bram de Boer's busy times could not be read: werk (https://dav.example.nl/bram/werk/): "
        "401 Unauthorized"}
    # Those whose calendars were read are placed as ever: the new aftercare-free maarten and jw.
    assert result.placements[ERP] == first.placements[ERP]


def test_a_changed_basis_does_not_move_anything_for_whom_cannot_be_read():
    team = make_team(TEAM)
    placed = plan(team, MARCH).placements
    later_end = make_team(TEAM.replace("end: 2027-02-19", "end: 2027-02-26"))
    jw_down = {"jw": "outlook (https://outlook.example.nl/jw/calendar.ics): connection refused"}
    result = plan(later_end, date(2027, 3, 20), placed=placed, unreadable=jw_down)
    # Kept, with the old basis: once jw's calendar can be read, it is placed afresh.
    assert starts(result, ERP) == {"maarten": at("2027-04-05"), "jw": at("2027-04-05")}
    assert result.placements[ERP] == placed[ERP]
    assert [c.what for c in result.conflicts] == ["aftercare ERP-migratie +6 weeks", "aftercare ERP-migratie +6 months"]
    assert "now for 2027-04-09 14:00 (it was placed for 2027-04-02 14:00)" in result.conflicts[0].reason
    assert "outlook (https://outlook.example.nl/jw/calendar.ics): connection refused" in result.conflicts[0].reason


def test_nothing_is_placed_without_data_only_where_it_would_show():
    # bram unreadable, nothing placed before: no session this year; only the periods the
    # plan shows are reported, and nothing for the aftercare he is not part of.
    team = make_team(TEAM)
    result = plan(team, MARCH, unreadable=BRAM_DOWN)
    assert not any(e.kind == "session" for e in result.events)
    assert len([s for s in result.skipped if s.what.startswith("Bel-uurtje")]) == 12
    assert "Bel-uurtje 2027-01" not in {s.what for s in result.skipped}
    assert result.placements[ERP] == plan(team, MARCH).placements[ERP]


# -- why it is where it is ---------------------------------------------------------------

def test_the_reasons_of_the_issues_examples():
    team = make_team(TEAM)
    # In UTC, as core.busy gives them.
    utc = lambda day, clock: at(day, clock).astimezone(timezone.utc)   # noqa: E731
    busy = {"sanne": [BusyTime(utc("2027-11-04", "13:00"), utc("2027-11-04", "15:00"), "Teamoverleg", source="werk")],
            "bram": [BusyTime(utc("2027-11-11", "14:00"), utc("2027-11-11", "15:00"), tentative=True)]}
    result = plan(team, MARCH, busy)
    assert result.reasons["session/bel-uurtje/2027-05"] == (
        "Thu 13 May 14:00: first Thursday of May when all are free — 6 May is Ascension Day")
    assert result.reasons[NOV] == ("Thu 18 Nov 14:00: first Thursday of November when all are free — 4 Nov Sanne "
                                   "Bakker busy (Teamoverleg), 11 Nov Bram de Boer tentative")
    assert result.reasons["session/bel-uurtje/2027-06"] == "Thu 3 Jun 14:00: first Thursday of June when all are free"
    # The weekend is no working day for anyone and needs no saying.
    assert result.reasons[ERP] == ("Mon 5 Apr 14:00: the first day on or after Fri 2 Apr when the whole team is "
                                   "free — 2 Apr Jan-Willem van den Brink has network meeting SAM netwerk")
    # Without names in the holiday facts, a holiday is said as one.
    plain = plan(dataclasses.replace(make_team(TEAM), public_holidays=NamelessHolidays()), MARCH, busy)
    assert plain.reasons["session/bel-uurtje/2027-05"].endswith("— 6 May is a public holiday")
    # A reason for every session and aftercare shown, and for nothing else.
    assert set(result.reasons) == {e.group for e in result.events if e.kind in ("session", "aftercare")}


def test_the_reason_of_an_aftercare_at_another_time_of_day():
    # maarten is busy every afternoon from 13:00 for two weeks: the aftercare takes the
    # first morning the team is free, after a week of 14:00s.
    team = make_team(TEAM)
    busy = {"maarten": [(at(f"2027-04-{d:02d}", "13:00"), at(f"2027-04-{d:02d}", "17:00")) for d in range(1, 15)]}
    result = plan(team, MARCH, busy)
    assert set(starts(result, ERP).values()) == {at("2027-04-02", "09:00")}
    assert result.reasons[ERP] == (
        "Fri 2 Apr 09:00: the first time on or after Fri 2 Apr when the whole team is free (not at 14:00 within a "
        "week) — 2 Apr Maarten van Os busy and Jan-Willem van den Brink has network meeting SAM netwerk, 5 Apr "
        "Maarten van Os busy, 6 Apr Maarten van Os busy, 7 Apr Maarten van Os busy, 8 Apr Maarten van Os busy")


def test_quarters_and_years_are_named_in_reasons():
    team = make_team("""\
sessions:
  - {name: Kwartaal, every: quarter, participants: [maarten], prefer: {weekday: mon, start: "10:00"}}
  - {name: Jaar, every: year, participants: [jw], prefer: {weekday: fri, start: "10:00"}}
""")
    result = plan(team, MARCH)
    assert result.reasons["session/kwartaal/2027-04"] == "Mon 5 Apr 10:00: first Monday of Apr–Jun when all are free"
    assert result.reasons["session/jaar/2028-01"] == "Fri 7 Jan 10:00: first Friday of 2028 when all are free"


# -- busy times as BusyTime or plain pairs -----------------------------------------------

def test_busy_times_and_plain_pairs_place_alike_and_reminders_avoid_them():
    team = make_team(TEAM + """\
reminders: {at: "14:00"}
contacts:
  - {owner: sanne, with: Piet de Vries, every: 3 months, next: 2027-11-04, duration: 1h}
""")
    times = [BusyTime(at("2027-11-04", "13:00"), at("2027-11-04", "15:00"), "Teamoverleg"),
             BusyTime(at("2027-11-05", "14:00"), at("2027-11-05", "16:00"), tentative=True)]
    rich = plan(team, MARCH, {"sanne": times})
    plain = plan(team, MARCH, {"sanne": [(b.start, b.end) for b in times]})
    assert rich.events == plain.events and rich.placements == plain.placements
    # The contact reminder avoids sanne's own busy times (4 and 5 Nov) and her session (11 Nov).
    reminder = next(e for e in rich.events if e.kind == "contact")
    assert reminder.start == at("2027-11-08")
    assert plain.reasons[NOV].endswith("— 4 Nov Sanne Bakker busy")


# -- the properties ----------------------------------------------------------------------

def _people_and_label(team, group: str) -> tuple[set[str], str]:
    kind, what, which = group.split("/")
    if kind == "session":
        series = next(s for s in team.sessions if s.id == what)
        return set(series.participants), f"{series.name} {which}"
    project = next(p for p in team.projects if p.id == what)
    offset = next(o for o in project.offsets if f"{o.count}-{o.unit}" == which)
    return set(project.team), f"aftercare {project.name} +{offset}"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_placements_fed_back_are_a_fixed_point(data):
    config, base = data.draw(team_configs())
    team = make_team(config)
    busy = data.draw(st.none() | busy_times(base))
    today = base + timedelta(days=data.draw(st.integers(-200, 300)))
    first = plan(team, today, busy)
    second = plan(team, today, busy, placed=first.placements)
    assert second.events == first.events
    assert second.placements == first.placements
    assert [s.what for s in second.skipped] == [s.what for s in first.skipped]
    assert second.conflicts == []
    # Only what the plan shows is what callers remember: that must do as well.
    shown = {g: p for g, p in first.placements.items() if today <= p.start.date() < first.until}
    assert plan(team, today, busy, placed=shown).events == first.events


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_new_busy_times_move_nothing_inside_the_notice_nor_for_whom_cannot_be_read(data):
    config, base = data.draw(team_configs())
    team = make_team(config)
    today = base + timedelta(days=data.draw(st.integers(-60, 250)))
    first = plan(team, today)
    groups = sorted(g for g, p in first.placements.items() if today <= p.start.date() < first.until)
    # New busy times: some right on placed occurrences (for one of their people), some anywhere.
    busy: dict[str, list] = {p: list(t) for p, t in data.draw(busy_times(base)).items()}
    for group in data.draw(st.lists(st.sampled_from(groups), unique=True, max_size=6)) if groups else ():
        people, _ = _people_and_label(team, group)
        start = first.placements[group].start
        busy.setdefault(data.draw(st.sampled_from(sorted(people))), []).append(
            BusyTime(start, start + timedelta(minutes=30), "Overleg"))
    unreadable = {p: f"werk (https://dav.example.nl/{p}/werk/): 503 Service Unavailable"
                  for p in data.draw(st.lists(st.sampled_from(PEOPLE_IDS), unique=True, max_size=2))}
    second = plan(team, today, busy, placed=first.placements, unreadable=unreadable)
    conflicts = {c.what for c in second.conflicts}
    assert overlaps(second.events) == []
    for group, placement in first.placements.items():
        people, label = _people_and_label(team, group)
        close = placement.start.date() - today <= team.busy_notice
        if close or people & set(unreadable):
            assert second.placements.get(group) == placement, group
            if today <= placement.start.date() < first.until:
                assert {e.key: e.start for e in first.events if e.group == group} == \
                       {e.key: e.start for e in second.events if e.group == group}
    # Nothing new for whom cannot be read.
    for group, placement in second.placements.items():
        people, _ = _people_and_label(team, group)
        if people & set(unreadable):
            assert first.placements.get(group) == placement, group
    # Whoever is busy at a session or aftercare of theirs: it was kept, and that is said.
    for event in second.events:
        if event.kind in ("session", "aftercare"):
            clash = [b for b in busy.get(event.person, ())
                     if (b.start if hasattr(b, "start") else b[0]) < event.end
                     and event.start < (b.end if hasattr(b, "end") else b[1])]
            if clash:
                assert second.placements[event.group] == first.placements[event.group], event.key
                assert _people_and_label(team, event.group)[1] in conflicts, event.key
