"""The tricky dates: month ends, leap days, holidays, DST weeks, overdue contacts."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from helpers import make_team, planned
from kalender_sync.core.durations import Interval, add_months, parse_interval
from kalender_sync.core.render import render_calendar


# -- calendar-aware month arithmetic -----------------------------------------------

@pytest.mark.parametrize("start, months, expected", [
    (date(2027, 1, 31), 1, date(2027, 2, 28)),
    (date(2028, 1, 31), 1, date(2028, 2, 29)),     # leap year
    (date(2027, 3, 31), 1, date(2027, 4, 30)),
    (date(2027, 1, 31), 2, date(2027, 3, 31)),     # not Feb 28 + 1 month
    (date(2026, 12, 15), 1, date(2027, 1, 15)),
    (date(2027, 5, 31), -3, date(2027, 2, 28)),
])
def test_add_months_clamps_to_the_end_of_the_month(start, months, expected):
    assert add_months(start, months) == expected


def test_feb_29_plus_one_year_is_feb_28():
    assert Interval(1, "years").after(date(2028, 2, 29)) == date(2029, 2, 28)
    assert Interval(4, "years").after(date(2028, 2, 29)) == date(2032, 2, 29)


def test_interval_words():
    assert parse_interval("4 months") == Interval(4, "months")
    assert parse_interval("quarterly") == Interval(3, "months")
    assert parse_interval("1 jaar") == Interval(1, "years")
    assert parse_interval("6 weken") == Interval(6, "weeks")
    with pytest.raises(ValueError, match="positive"):
        parse_interval("0 months")


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)), st.integers(-240, 240))
def test_add_months_properties(day, months):
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == day.day or (result.day < day.day and (result + timedelta(days=1)).day == 1)


# -- aftercare on public holidays -------------------------------------------------

def _aftercare(end: str, offset: str, at: str = "10:00"):
    team = make_team(f"""
    projects:
      - {{name: ERP migratie, client: Gemeente Tilburg, team: [maarten, jw], end: {end},
         aftercare: [{offset}], duration: 1h, at: "{at}"}}
    """)
    return planned(team, date(2026, 12, 1), kind="aftercare")


def test_aftercare_on_koningsdag_moves_to_the_next_working_day():
    # 2027-03-16 + 6 weeks = Tue 27 April 2027, King's Day.
    events = _aftercare("2027-03-16", "6 weeks")
    assert {e.start for e in events} == {datetime(2027, 4, 28, 10, 0, tzinfo=events[0].start.tzinfo)}
    assert {e.person for e in events} == {"maarten", "jw"}


def test_aftercare_on_christmas_skips_both_christmas_days_and_the_weekend():
    # 2026-11-13 + 6 weeks = Fri 25 December 2026; 26th is Saturday and a holiday too.
    events = _aftercare("2026-11-13", "6 weeks")
    assert {e.start.date() for e in events} == {date(2026, 12, 28)}


def test_aftercare_after_a_month_end_uses_calendar_months():
    events = _aftercare("2026-08-31", "6 months")   # Feb 28 2027 is a Sunday -> Mon Mar 1
    assert {e.start.date() for e in events} == {date(2027, 3, 1)}


# -- sessions -------------------------------------------------------------------

def test_a_quarter_starting_on_a_holiday_takes_the_next_preferred_weekday():
    team = make_team("""
    sessions:
      - {name: Bel-uurtje, every: quarter, participants: all, prefer: {weekday: fri, start: "14:00"}}
    """)
    starts = sorted({e.start for e in planned(team, date(2026, 12, 1), kind="session")})
    # 1 January 2027 is a Friday and New Year's Day: the Q1 session is the next Friday.
    assert starts[0].date() == date(2027, 1, 8)
    assert starts[0].hour == 14
    # One per quarter, on the first Friday that is not a holiday.
    assert [s.date() for s in starts] == [date(2027, 1, 8), date(2027, 4, 2), date(2027, 7, 2), date(2027, 10, 1)]


def test_good_friday_is_skipped_for_a_session():
    team = make_team("""
    sessions:
      - {name: Borrel, every: month, participants: all, prefer: {weekday: fri, start: "15:00"}}
    """)
    starts = {e.start.date() for e in planned(team, date(2026, 3, 1), kind="session")}
    # April 2026: Good Friday is 3 April, so the April session is Friday 10 April.
    assert date(2026, 4, 10) in starts and date(2026, 4, 3) not in starts


def test_a_session_already_held_this_period_is_not_planned_again():
    team = make_team("""
    sessions:
      - {name: Bel-uurtje, every: quarter, participants: all, prefer: {weekday: thu, start: "14:00"}}
    """)
    # Q4 2026's session was on Thu 1 October; on 24 November the next one is Q1 2027.
    first = min(e.start for e in planned(team, date(2026, 11, 24), kind="session"))
    assert first.date() == date(2027, 1, 7)


# -- DST ------------------------------------------------------------------------------

@pytest.mark.parametrize("day, utc_hour", [
    (date(2026, 3, 27), 8),   # Friday before the last Sunday of March: CET, UTC+1
    (date(2026, 3, 30), 7),   # Monday after: CEST, UTC+2
    (date(2026, 10, 23), 7),  # Friday before the last Sunday of October: CEST
    (date(2026, 10, 26), 8),  # Monday after: CET
])
def test_wall_clock_times_survive_the_dst_change(day, utc_hour):
    team = make_team(f"""
    contacts:
      - {{owner: maarten, with: Piet de Vries, every: 4 months, next: {day.isoformat()}}}
    """)
    [event] = planned(team, day - timedelta(days=3), kind="contact")
    assert event.start.date() == day
    assert (event.start.hour, event.start.minute) == (9, 0)
    assert event.start.astimezone(timezone.utc).hour == utc_hour
    text = render_calendar([event], datetime(2026, 1, 1, tzinfo=timezone.utc), "t", "nl").decode()
    assert f"DTSTART;TZID=Europe/Amsterdam:{day:%Y%m%d}T090000" in text
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in text and "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in text


# -- contact agreements --------------------------------------------------------

def test_an_overdue_contact_is_reminded_on_the_two_weekly_grid_from_its_due_date():
    team = make_team("""
    contacts:
      - {owner: maarten, with: Piet de Vries, every: 4 months, last: 2026-05-01}
    """)
    # Due 2026-09-01; re-reminders every 2 weeks: ..., Nov 10, Nov 24 (today), Dec 8, ...
    [event] = planned(team, date(2026, 11, 24), kind="contact")
    assert event.start.date() == date(2026, 11, 24)
    assert event.key == "contact/maarten/piet-de-vries/2026-09-01/6"
    assert event.title.startswith("Nog even")
    assert "84 dagen" in event.description
    # A day later the next grid point is shown; the reminder does not drift day by day.
    [later] = planned(team, date(2026, 11, 25), kind="contact")
    assert later.start.date() == date(2026, 12, 8)
    [same] = planned(team, date(2026, 12, 1), kind="contact")
    assert same.uid == later.uid and same.start == later.start


def test_a_logged_contact_moves_the_next_reminder():
    body = """
    contacts:
      - {owner: maarten, with: Piet de Vries, every: 4 months, last: 2026-05-01}
    """
    team = make_team(body, log="- {who: maarten, with: piet de vries, on: 2026-11-20}\n")
    [event] = planned(team, date(2026, 11, 24), kind="contact")
    assert event.start.date() == date(2027, 3, 22)    # 20 March 2027 is a Saturday
    assert event.title == "Contact met Piet de Vries"


def test_an_agreed_next_date_wins_over_the_interval():
    body = """
    contacts:
      - {owner: maarten, with: Piet de Vries, every: 4 months, last: 2026-05-01}
    """
    team = make_team(body, log="- {who: maarten, with: Piet, on: 2026-11-20, next: 2027-01-14}\n")
    [event] = planned(team, date(2026, 11, 24), kind="contact")
    assert event.start.date() == date(2027, 1, 14)


def test_at_most_max_per_week_reminders_and_one_a_day():
    names = ["Anna", "Bert", "Carla", "Dirk", "Eva"]
    body = "contacts:\n" + "".join(
        f"  - {{owner: maarten, with: {n}, every: 6 months, next: 2027-01-04}}\n" for n in names)
    events = planned(make_team(body), date(2026, 12, 1), kind="contact")
    days = sorted(e.start.date() for e in events)
    assert days == [date(2027, 1, 4), date(2027, 1, 5), date(2027, 1, 11), date(2027, 1, 12), date(2027, 1, 18)]


def test_a_moved_project_end_date_keeps_the_same_uids():
    template = """
    projects:
      - {{name: ERP migratie, team: [maarten, jw], end: {end}, aftercare: [6 weeks, 6 months]}}
    """
    before = planned(make_team(template.format(end="2026-12-18")), date(2026, 12, 1), kind="aftercare")
    after = planned(make_team(template.format(end="2027-01-22")), date(2026, 12, 1), kind="aftercare")
    assert len(before) == len(after) == 4
    assert {e.uid for e in before} == {e.uid for e in after}
    moved = {e.uid: e.start.date() for e in after}
    assert all(moved[e.uid] > e.start.date() for e in before)


def test_network_meeting_prepare_moves_earlier_off_a_holiday():
    team = make_team("""
    meetings:
      - {name: SAM netwerk, at: "2027-05-11 15:00", representative: maarten, colleagues: all,
         prepare: 2 weeks before, report_back: 1 day after}
    """)
    events = planned(team, date(2027, 1, 1))
    by = {(e.person, e.kind): e for e in events}
    # 11 May - 2 weeks = Tue 27 April, King's Day: move back to Mon 26 April.
    assert by[("jw", "prepare")].start == date(2027, 4, 26)
    assert by[("jw", "prepare")].end == date(2027, 4, 27)          # exclusive all-day end
    assert by[("maarten", "prepare")].start == date(2027, 4, 26)
    assert by[("maarten", "meeting")].start.hour == 15
    assert by[("maarten", "report_back")].start == date(2027, 5, 12)
    assert ("jw", "meeting") not in by
