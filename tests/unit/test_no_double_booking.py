"""Nobody is booked twice: a person's timed events never overlap, whatever their kinds.

Precedence: network meetings (fixed) > aftercare > sessions > contact reminders; each
later kind moves by its own rule around the earlier ones (see core/planning/__init__.py).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings, strategies as st
from zoneinfo import ZoneInfo

from helpers import make_team
from kalender_sync.core.planning import WorkCalendar, plan, session_periods

AMS = ZoneInfo("Europe/Amsterdam")

# Two more people next to maarten and jw: ad works the team's hours, sanne is part-time
# (no Wednesdays, Friday mornings only). The lines continue the `people:` mapping.
PEOPLE = """\
  ad: {name: Ad Verhoeven, email: ad@example.nl, calendar: files}
  sanne:
    name: Sanne Bakker
    email: sanne@example.nl
    calendar: files
    working_hours:
      - {days: [mon, tue, thu], start: "08:30", end: "17:00"}
      - {days: [fri], start: "08:30", end: "12:30"}
"""

ISSUE_SCENARIO = PEOPLE + """\
projects:
  - {name: ERP-migratie, team: [maarten, jw], end: 2027-02-18, aftercare: [6 weeks], at: "14:00"}
  - {name: Dijkversterking, team: [jw, ad], end: 2027-02-18, aftercare: [6 weeks], at: "14:00"}
sessions:
  - {name: Bel-uurtje, every: month, participants: [maarten, jw, ad], prefer: {weekday: thu, start: "14:00"}}
  - {name: Intervisie, every: month, participants: [jw, ad], prefer: {weekday: thu, start: "14:00"}}
meetings:
  - {name: SAM netwerk, at: "2027-04-01 14:00", duration: 2h, representative: jw,
     colleagues: [maarten, ad], prepare: 3 weeks before, report_back: 1 day after}
"""


def at(day: str, clock: str = "14:00") -> datetime:
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), AMS)


def overlaps(events) -> list[tuple]:
    """Pairs of timed events of one person that overlap."""
    by_person = defaultdict(list)
    for event in events:
        if not event.all_day:
            by_person[event.person].append(event)
    found = []
    for person, timed in by_person.items():
        timed.sort(key=lambda e: (e.start, e.end, e.key))
        for i, first in enumerate(timed):
            for second in timed[i + 1:]:
                if second.start >= first.end:
                    break
                found.append((first.key, second.key))
    return found


def starts(result, group_prefix: str) -> dict[str, datetime]:
    return {e.person: e.start for e in result.events if e.group.startswith(group_prefix)}


def test_the_issues_team_books_nobody_twice():
    # All five want jw on Thursday 1 April 2027 at 14:00: the meeting (jw represents the
    # team, 14:00-16:00), both aftercares (both projects ended 18 February, + 6 weeks),
    # and both monthly sessions (1 April is April's first Thursday).
    team = make_team(ISSUE_SCENARIO)
    result = plan(team, date(2027, 3, 1))
    assert overlaps(result.events) == []
    # The meeting is fixed.
    assert starts(result, "meeting/sam-netwerk/meeting") == {"jw": at("2027-04-01")}
    # Aftercare, the one due first first (a tie: config order): ERP-migratie cannot have
    # jw on the 1st; the same time the next day is free (jw's report-back day is all-day
    # and does not block).
    assert starts(result, "aftercare/erp-migratie/") == {"maarten": at("2027-04-02"), "jw": at("2027-04-02")}
    # Dijkversterking: not the 1st (jw's meeting), not the 2nd (jw's ERP aftercare), the
    # weekend is no working day: Monday 5 April at 14:00.
    assert starts(result, "aftercare/dijkversterking/") == {"jw": at("2027-04-05"), "ad": at("2027-04-05")}
    # Sessions go around meetings and aftercare, and the second series around the first:
    # April's Bel-uurtje on the next Thursday, Intervisie the Thursday after that.
    assert set(starts(result, "session/bel-uurtje/2027-04").values()) == {at("2027-04-08")}
    assert set(starts(result, "session/intervisie/2027-04").values()) == {at("2027-04-15")}
    # In March only the two series meet: Bel-uurtje keeps the first Thursday, Intervisie
    # takes the second, although that is the meeting's preparation day (all-day).
    assert set(starts(result, "session/bel-uurtje/2027-03").values()) == {at("2027-03-04")}
    assert set(starts(result, "session/intervisie/2027-03").values()) == {at("2027-03-11")}
    assert {e.start for e in result.events if e.kind == "prepare"} == {date(2027, 3, 11)}
    assert result.skipped == []


def test_where_things_land_does_not_depend_on_today():
    team = make_team(ISSUE_SCENARIO)
    early = plan(team, date(2027, 3, 1))
    # On 10 April, April's Bel-uurtje (8 April) is past; Intervisie still is on the 15th,
    # it does not take the 8th that has become free "for today".
    late = plan(team, date(2027, 4, 10))
    assert "session/bel-uurtje/2027-04" not in {e.group for e in late.events}
    assert set(starts(late, "session/intervisie/2027-04").values()) == {at("2027-04-15")}
    assert starts(late, "aftercare/") == {}
    later = {e.key: (e.start, e.end) for e in late.events if e.kind != "contact"}
    for event in early.events:
        if event.key in later:
            assert later[event.key] == (event.start, event.end), event.key


def test_the_same_team_without_precedence_would_double_book_jw():
    # The scenario is a real test of the rule: each event on its own wants 1 April 14:00.
    for body in ("projects:\n  - {name: ERP-migratie, team: [maarten, jw], end: 2027-02-18, "
                 "aftercare: [6 weeks], at: \"14:00\"}\n",
                 "sessions:\n  - {name: Intervisie, every: month, participants: [jw, ad], "
                 "prefer: {weekday: thu, start: \"14:00\"}}\n"):
        alone = plan(make_team(PEOPLE + body), date(2027, 3, 1))
        assert at("2027-04-01") in {e.start for e in alone.events}


def test_a_series_with_a_shorter_period_goes_first():
    # Listed first, but quarterly: it has thirteen Thursdays to choose from, the monthly
    # one four or five, so the monthly one keeps the first Thursday of April.
    team = make_team(PEOPLE + """\
sessions:
  - {name: Kwartaaloverleg, every: quarter, participants: [jw, ad], prefer: {weekday: thu, start: "14:00"}}
  - {name: Bel-uurtje, every: month, participants: [maarten, jw], prefer: {weekday: thu, start: "14:00"}}
""")
    result = plan(team, date(2027, 3, 1))
    assert overlaps(result.events) == []
    assert set(starts(result, "session/bel-uurtje/2027-04").values()) == {at("2027-04-01")}
    assert set(starts(result, "session/kwartaaloverleg/2027-04").values()) == {at("2027-04-08")}


def test_two_meetings_at_once_for_one_representative_skip_the_later_one():
    team = make_team(PEOPLE + """\
meetings:
  - {name: Waternetwerk, at: "2027-04-01 15:00", duration: 2h, representative: ad, colleagues: [jw]}
  - {name: SAM netwerk, at: "2027-04-01 14:00", duration: 2h, representative: ad, colleagues: [jw],
     prepare: 1 week before}
  - {name: Regiodag, at: "2027-04-01 16:00", duration: 1h, representative: ad, colleagues: [jw]}
""")
    result = plan(team, date(2027, 3, 1))
    assert overlaps(result.events) == []
    # The one that starts first keeps its place; Regiodag starts when SAM ends.
    assert {e.group for e in result.events if e.kind == "meeting"} == {
        "meeting/sam-netwerk/meeting", "meeting/regiodag/meeting"}
    skipped = {s.what: s.reason for s in result.skipped}
    assert list(skipped) == ["network meeting Waternetwerk 2027-04-01"]
    assert "Ad Verhoeven" in skipped["network meeting Waternetwerk 2027-04-01"]
    assert "SAM netwerk" in skipped["network meeting Waternetwerk 2027-04-01"]
    # Nothing of the skipped meeting is planned: no preparation day for a meeting nobody attends.
    assert not any(e.group.startswith("meeting/waternetwerk") for e in result.events)


def test_a_session_with_no_free_preferred_weekday_is_skipped_naming_what_blocks():
    # A monthly Friday-morning session for sanne and ad, while ad's (fixed) network
    # meetings take every Friday morning of June 2027.
    fridays = [date(2027, 6, 4) + timedelta(weeks=k) for k in range(4)]
    meetings = "".join(f"  - {{name: Overleg {d.day}, at: \"{d} 09:00\", duration: 3h, representative: ad, "
                       f"colleagues: [maarten]}}\n" for d in fridays)
    team = make_team(PEOPLE + "sessions:\n  - {name: Koffie, every: month, participants: [sanne, ad], "
                              "prefer: {weekday: fri, start: \"10:00\"}}\nmeetings:\n" + meetings)
    result = plan(team, date(2027, 5, 1))
    assert overlaps(result.events) == []
    skipped = {s.what: s.reason for s in result.skipped}
    assert list(skipped) == ["Koffie 2027-06"]
    reason = skipped["Koffie 2027-06"]
    assert "Ad Verhoeven" in reason and "Overleg 4" in reason and "Overleg 25" in reason
    # The months around it still have their session on the first Friday.
    assert {e.start for e in result.events if e.group.startswith("session/koffie/2027-0")
            and e.start.month in (5, 7)} == {at("2027-05-07", "10:00"), at("2027-07-02", "10:00")}


def test_aftercare_that_finds_no_free_time_is_skipped_with_a_reason():
    # maarten works only Mondays, jw only Tuesdays: they never work on the same day.
    team = make_team("""\
  ma: {name: Ma, email: ma@example.nl, calendar: files, working_hours: {days: [mon], start: "09:00", end: "17:00"}}
  di: {name: Di, email: di@example.nl, calendar: files, working_hours: {days: [tue], start: "09:00", end: "17:00"}}
projects:
  - {name: Brug, team: [ma, di], end: 2027-01-01, aftercare: [6 weeks]}
""")
    result = plan(team, date(2027, 1, 1))
    assert [s.what for s in result.skipped] == ["aftercare Brug +6 weeks"]
    assert "Ma" in result.skipped[0].reason and "Di" in result.skipped[0].reason


def test_external_busy_times_still_count_and_planned_events_join_them():
    team = make_team(ISSUE_SCENARIO)
    # maarten's own calendar: busy all of Friday 2 April afternoon.
    busy = {"maarten": [(at("2027-04-02", "12:00"), at("2027-04-02", "17:00"))]}
    result = plan(team, date(2027, 3, 1), busy)
    assert overlaps(result.events) == []
    # ERP-migratie moves on to Monday 5 April at 14:00, and so Dijkversterking (jw, ad)
    # gets Friday 2 April at 14:00, the first day after jw's meeting.
    assert set(starts(result, "aftercare/erp-migratie/").values()) == {at("2027-04-05")}
    assert set(starts(result, "aftercare/dijkversterking/").values()) == {at("2027-04-02")}
    for event in result.events:
        if event.person == "maarten" and not event.all_day:
            assert not (event.start < at("2027-04-02", "17:00") and at("2027-04-02", "12:00") < event.end)
    # The caller's busy times are not changed by planning.
    assert busy == {"maarten": [(at("2027-04-02", "12:00"), at("2027-04-02", "17:00"))]}


def test_contact_reminders_go_around_every_planned_kind():
    team = make_team(ISSUE_SCENARIO + """\
reminders: {at: "14:00"}
contacts:
  - {owner: jw, with: Piet de Vries, every: 3 months, next: 2027-04-01, duration: 1h}
""")
    result = plan(team, date(2027, 3, 1))
    assert overlaps(result.events) == []
    reminder = next(e for e in result.events if e.kind == "contact")
    # 1 April: jw's meeting until 16:00, 2 April: ERP aftercare 14:00-15:00: the reminder
    # keeps its time, 14:00, on the first day jw has it free... which is Tuesday 6 April
    # (5 April: Dijkversterking).
    assert reminder.start == at("2027-04-06")


# -- the property, over every kind together --------------------------------------------

# And kees, who works Wednesdays only: he and sanne never work on the same day.
KEES = """\
  kees: {name: Kees Vos, email: kees@example.nl, calendar: files,
         working_hours: {days: [wed], start: "09:00", end: "17:00"}}
"""
PEOPLE_IDS = ["maarten", "jw", "ad", "sanne", "kees"]
PERIODS = ["month", "quarter", "3 times a year", "half year", "year", "6 times a year"]


def _fits_sanne(weekday: str, start: str, minutes: int) -> bool:
    if weekday == "wed":
        return False
    end = (datetime.combine(date(2024, 1, 1), time.fromisoformat(start)) + timedelta(minutes=minutes)).time()
    return time.fromisoformat(start) >= time(8, 30) and end <= (time(12, 30) if weekday == "fri" else time(17))


@st.composite
def team_configs(draw):
    """Small teams' configs, full of clashes: shared people, Thursdays at 14:00, ends close together."""
    people = st.lists(st.sampled_from(PEOPLE_IDS), min_size=1, max_size=4, unique=True).map(sorted)
    base = date(2026, 9, 1) + timedelta(days=draw(st.integers(0, 500)))
    lines = [(PEOPLE + KEES).rstrip("\n"),
             "reminders: {max_per_week: %d, at: \"%s\"}" % (draw(st.integers(1, 3)),
                                                             draw(st.sampled_from(["09:00", "14:00"])))]
    lines.append("projects:")
    for index in range(draw(st.integers(0, 4))):
        end = base + timedelta(days=draw(st.integers(-60, 60)))
        offsets = draw(st.lists(st.sampled_from(["2 weeks", "6 weeks", "3 months", "6 months"]),
                                min_size=1, max_size=3, unique=True))
        clock = draw(st.sampled_from(["09:00", "14:00", "15:30"]))
        lines.append(f"  - {{name: Project {index}, team: [{', '.join(draw(people))}], end: {end}, "
                     f"aftercare: [{', '.join(offsets)}], at: \"{clock}\", "
                     f"duration: {draw(st.sampled_from(['30m', '1h', '2h']))}}}")
    lines.append("sessions:")
    for index in range(draw(st.integers(0, 4))):
        members = draw(people)
        weekday = draw(st.sampled_from(["thu", "thu", "fri", "mon", "wed"]))
        start = draw(st.sampled_from(["09:00", "10:00", "14:00", "14:00", "15:30"]))
        minutes = draw(st.sampled_from([30, 60, 120] if start != "15:30" else [30, 60]))
        if "kees" in members:
            if "sanne" in members:
                members.remove("kees")
            else:
                weekday = "wed"
        if "sanne" in members and not _fits_sanne(weekday, start, minutes):
            weekday, start = "thu", start if start != "15:30" else "14:00"
        lines.append(f"  - {{name: Series {index}, every: {draw(st.sampled_from(PERIODS))}, "
                     f"participants: [{', '.join(members)}], prefer: {{weekday: {weekday}, start: \"{start}\"}}, "
                     f"duration: {minutes}m}}")
    lines.append("meetings:")
    for index in range(draw(st.integers(0, 4))):
        day = base + timedelta(days=draw(st.integers(-30, 300)))
        if draw(st.booleans()):
            day += timedelta(days=(3 - day.weekday()) % 7)           # a Thursday
        clock = draw(st.sampled_from(["09:00", "13:30", "14:00", "14:00", "15:00"]))
        rep = draw(st.sampled_from(PEOPLE_IDS))
        extra = draw(st.sampled_from(["", ", prepare: 1 week before", ", prepare: 2 weeks before, "
                                          "report_back: 1 day after", ", report_back: 2 days after"]))
        length = draw(st.sampled_from(['1h', '2h', '3h']))
        # Sometimes a run of weekly meetings at one time: enough to take every preferred
        # weekday of a month from a session.
        for week in range(draw(st.sampled_from([1, 1, 1, 3, 6, 10]))):
            lines.append(f"  - {{name: Meeting {index}-{week}, at: \"{day + timedelta(weeks=week)} {clock}\", "
                         f"duration: {length}, representative: {rep}{extra}}}")
    lines.append("contacts:")
    for index in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["last", "next", "none"]))
        when = base + timedelta(days=draw(st.integers(-300, -1) if kind == "last" else st.integers(-200, 300)))
        extra = f", {kind}: {when}" if kind != "none" else ""
        lines.append(f"  - {{owner: {draw(st.sampled_from(PEOPLE_IDS))}, with: Contact {index}, "
                     f"every: {draw(st.sampled_from(['1 month', '3 months', '6 months']))}{extra}, "
                     f"duration: {draw(st.sampled_from(['30m', '1h']))}}}")
    body = "\n".join(line for i, line in enumerate(lines)
                     if not (line.endswith(":") and (i + 1 == len(lines) or lines[i + 1].endswith(":"))))
    return body + "\n", base


@st.composite
def busy_times(draw, base: date):
    """Some people's own calendars: a few afternoons or mornings taken."""
    busy = {}
    for person in draw(st.lists(st.sampled_from(PEOPLE_IDS), max_size=3, unique=True)):
        times = []
        for _ in range(draw(st.integers(1, 6))):
            day = base + timedelta(days=draw(st.integers(-30, 200)))
            start = datetime.combine(day, time(draw(st.sampled_from([9, 12, 13, 14]))), AMS)
            times.append((start, start + timedelta(hours=draw(st.sampled_from([1, 2, 4])))))
        busy[person] = times
    return busy


@st.composite
def scenarios(draw):
    config, base = draw(team_configs())
    busy = draw(busy_times(base)) if draw(st.booleans()) else None
    today = base + timedelta(days=draw(st.integers(-200, 300)))
    return config, busy, today


def _lookout(team, busy):
    """Plans from many `today`s, so that every placement of the team's years is seen once."""
    return [plan(team, date(2025, 1, 1) + timedelta(days=300 * k), busy) for k in range(9)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_nobody_is_ever_booked_twice_and_nothing_is_silently_lost(scenario):
    config, busy, today = scenario
    team = make_team(config)
    result = plan(team, today, busy)
    work = WorkCalendar(team)
    assert result.events == plan(team, today, busy).events                      # deterministic
    # For every person, no two timed events overlap, whatever their kinds.
    assert overlaps(result.events) == []
    for event in result.events:
        if event.kind in ("aftercare", "session", "contact") and not event.all_day:
            person = team.people[event.person]
            assert not work.is_holiday(event.day) and person.working_hours.is_working_day(event.day)
            assert person.working_hours.fits(event.day, event.start.time(), event.end - event.start)
            # Everyone's own busy times still count (only a meeting's fixed time does not move).
            for start, end in (busy or {}).get(event.person, ()):
                assert not (start < event.end and event.start < end), (event.key, start, end)
    assert all(s.what and s.reason for s in result.skipped)

    # Where aftercare, sessions and meetings land does not depend on `today` ...
    placed: dict[str, tuple] = {}
    for other in [result] + _lookout(team, busy):
        for event in other.events:
            if event.kind != "contact":
                where = (event.start, event.end)
                assert placed.setdefault(event.key, where) == where, event.key
    # ... and what the window holds is exactly what was placed in it.
    window = {e.key for e in result.events if e.kind != "contact"}
    assert window == {k for k, (start, _) in placed.items()
                      if result.today <= (start.date() if isinstance(start, datetime) else start) < result.until}

    # Everything not placed is in `skipped`, with a reason.
    skipped = {s.what for s in result.skipped}
    placed_groups = {key.rsplit("/", 1)[0] for key in placed}
    for project in team.projects:
        for offset in project.offsets:
            group = f"aftercare/{project.id}/{offset.count}-{offset.unit}"
            if group not in placed_groups:
                assert f"aftercare {project.name} +{offset}" in skipped, group
    for series in team.sessions:
        for period_start, _ in session_periods(series, result.today, result.until):
            group = f"session/{series.id}/{period_start:%Y-%m}"
            if group not in placed_groups:
                assert f"{series.name} {period_start:%Y-%m}" in skipped, group
    for meeting in team.meetings:
        if result.today <= meeting.at.date() < result.until:
            if f"meeting/{meeting.id}/meeting" not in placed_groups:
                assert f"network meeting {meeting.name} {meeting.at.date()}" in skipped, meeting.id
