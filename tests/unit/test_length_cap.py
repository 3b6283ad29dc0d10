"""The longest interval is 100 years, whatever its unit; every date the tool reads lies in
1970-01-01 .. 2200-12-31. Together they keep every date the planner derives inside what a
Python `date` can hold."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, strategies as st

from kalender_sync.core.durations import (EARLIEST_DAY, LATEST_DAY, Interval, IntervalTooLong, check_supported,
                                          parse_interval)


@pytest.mark.parametrize("longest, too_long", [
    ("36525 days", "36526 days"),
    ("36525 dagen", "36526 dagen"),
    ("5217 weeks", "5218 weeks"),
    ("5217 weken", "5218 weken"),
    ("1200 months", "1201 months"),
    ("1200 maanden", "1201 maanden"),
    ("400 quarters", "401 quarters"),
    ("400 kwartalen", "401 kwartalen"),
    ("100 years", "101 years"),
    ("100 jaar", "101 jaar"),
])
def test_100_years_is_the_longest_interval_in_every_unit(longest, too_long):
    parse_interval(longest)
    with pytest.raises(IntervalTooLong, match="^an interval longer than 100 years cannot be planned$"):
        parse_interval(too_long)


@pytest.mark.parametrize("text", ["100000 months", "12000 months", "1000 years", "99999999999999999999 days"])
def test_far_too_long_is_refused_not_crashed_on(text):
    with pytest.raises(IntervalTooLong):
        parse_interval(text)


_UNITS = {"days": 36525, "weeks": 5217, "months": 1200, "years": 100}


@st.composite
def _intervals(draw):
    unit = draw(st.sampled_from(sorted(_UNITS)))
    return Interval(draw(st.integers(1, _UNITS[unit])), unit)


@given(st.dates(min_value=EARLIEST_DAY, max_value=LATEST_DAY), _intervals(), st.integers(1, 12))
def test_a_supported_date_moved_by_allowed_intervals_never_overflows(day, interval, times):
    """A date moved back once and forward `times` times (reminders ahead, follow-ups) stays a date."""
    assert interval.before(day) < day < interval.after(day, times)
    assert parse_interval(str(interval)) == interval


@pytest.mark.parametrize("day", [date(1, 1, 1), date(1969, 12, 31), date(2201, 1, 1), date(9999, 12, 31)])
def test_dates_outside_the_range_are_refused(day):
    with pytest.raises(ValueError, match="^out of the supported range 1970-01-01 to 2200-12-31$"):
        check_supported(day)


def test_the_ends_of_the_range_are_supported():
    assert check_supported(EARLIEST_DAY) == date(1970, 1, 1)
    assert check_supported(LATEST_DAY) == date(2200, 12, 31)
