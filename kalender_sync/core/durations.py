"""Intervals ("4 months"), lengths ("1h30m") and calendar-aware date arithmetic."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType

# Dutch unit words next to English ones: the people who keep the YAML write both.
_UNITS = MappingProxyType({
    "day": "days", "days": "days", "dag": "days", "dagen": "days", "d": "days",
    "week": "weeks", "weeks": "weeks", "weken": "weeks", "w": "weeks",
    "month": "months", "months": "months", "maand": "months", "maanden": "months",
    "quarter": "quarters", "quarters": "quarters", "kwartaal": "quarters", "kwartalen": "quarters",
    "year": "years", "years": "years", "jaar": "years", "jaren": "years", "y": "years",
})
_WORD_INTERVALS = MappingProxyType({
    "daily": (1, "days"), "weekly": (1, "weeks"), "monthly": (1, "months"),
    "quarterly": (1, "quarters"), "yearly": (1, "years"), "annually": (1, "years"),
    "dagelijks": (1, "days"), "wekelijks": (1, "weeks"), "maandelijks": (1, "months"),
    "jaarlijks": (1, "years"), "per kwartaal": (1, "quarters"),
})
_INTERVAL_RE = re.compile(r"^\s*(-?\d+)?\s*([a-z]+)\s*$")

# The longest interval, whatever its unit. With every date the tool reads kept inside
# SUPPORTED_DAYS, a date moved by a few such intervals stays far inside what Python's
# `date` can hold (years 1-9999), so no sum of them can overflow.
LONGEST_YEARS = 100
_LONGEST = MappingProxyType({"days": LONGEST_YEARS * 36525 // 100, "weeks": LONGEST_YEARS * 36525 // 100 // 7,
                             "months": LONGEST_YEARS * 12, "years": LONGEST_YEARS})
# The days a date may be on: --today, every date in a config or contact log, an imported row.
EARLIEST_DAY = date(1970, 1, 1)
LATEST_DAY = date(2200, 12, 31)


class IntervalTooLong(ValueError):
    """An interval beyond LONGEST_YEARS: its message stands on its own, whatever key it is for."""


def check_supported(day: date) -> date:
    """`day`, or ValueError when it is outside EARLIEST_DAY .. LATEST_DAY."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"out of the supported range {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}")
    return day


@dataclass(frozen=True, order=True)
class Interval:
    """A calendar interval: whole days, weeks, months or years (quarters are 3 months)."""

    count: int
    unit: str  # days | weeks | months | years

    def __str__(self) -> str:
        unit = self.unit[:-1] if self.count == 1 else self.unit
        return f"{self.count} {unit}"

    @property
    def months(self) -> int:
        return {"months": 1, "years": 12}.get(self.unit, 0) * self.count

    def after(self, day: date, times: int = 1) -> date:
        """`day` moved forward by this interval `times` times (calendar-aware)."""
        n = self.count * times
        if self.unit == "days":
            return day + timedelta(days=n)
        if self.unit == "weeks":
            return day + timedelta(weeks=n)
        return add_months(day, n * (12 if self.unit == "years" else 1))

    def before(self, day: date) -> date:
        return Interval(-self.count, self.unit).after(day)


def parse_interval(text: object) -> Interval:
    """Parse '4 months', '6 weeks', '1 jaar', 'quarterly'. Raises ValueError with a reason."""
    if not isinstance(text, str):
        raise ValueError("expected an interval such as '4 months' or '6 weeks'")
    lowered = text.strip().lower()
    if lowered in _WORD_INTERVALS:
        count, unit = _WORD_INTERVALS[lowered]
    else:
        match = _INTERVAL_RE.match(lowered)
        if not match or match.group(2) not in _UNITS:
            raise ValueError("expected an interval such as '4 months', '6 weeks' or '1 year'")
        count = int(match.group(1)) if match.group(1) is not None else 1
        unit = _UNITS[match.group(2)]
    if count <= 0:
        raise ValueError("an interval must be positive")
    if unit == "quarters":
        count, unit = count * 3, "months"
    if count > _LONGEST[unit]:
        raise IntervalTooLong(f"an interval longer than {LONGEST_YEARS} years cannot be planned")
    return Interval(count, unit)


_LENGTH_RE = re.compile(
    r"^\s*(?:(\d+)\s*(?:h|hr|hrs|hour|hours|u|uur)\s*)?(?:(\d+)\s*(?:m|min|mins|minute|minutes|minuten)\s*)?$")


def parse_length(text: object) -> timedelta:
    """Parse an event length: '30m', '1h', '1h30m', '90 minutes', '1 uur'."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise ValueError("expected a length such as '30m', '1h' or '1h30m'")
    if isinstance(text, int):
        raise ValueError("a bare number is ambiguous: write '30m' or '1h'")
    match = _LENGTH_RE.match(text.strip().lower())
    if not match or not (match.group(1) or match.group(2)):
        raise ValueError("expected a length such as '30m', '1h' or '1h30m'")
    minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    if minutes <= 0:
        raise ValueError("a length must be positive")
    if minutes > 12 * 60:
        raise ValueError("a length over 12 hours does not fit in a working day")
    return timedelta(minutes=minutes)


def add_months(day: date, months: int) -> date:
    """Calendar-aware: Jan 31 + 1 month = Feb 28 (29 in a leap year)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def format_length(length: timedelta) -> str:
    minutes = int(length.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours}h{rest:02d}m"
    return f"{hours}h" if hours else f"{rest}m"
