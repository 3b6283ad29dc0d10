"""Public holidays and subdivisions as the `holidays` library knows them, remembered.

Importing `holidays` loads every country it has: about 115 ms, a quarter of a no-op `sync`.
The answers are kept here and can be handed in from outside (`seed`), so a run whose
answers were stored earlier does not import the library at all. Pure: no files. The status
DB keeps them (state.State.holiday_memo), keyed by the library's version, since a new
release can add or move holidays.
"""
from __future__ import annotations

from datetime import date

_dates: dict[tuple[str, str | None, int], frozenset[date]] = {}
_subdivisions: dict[str, tuple[str, ...] | None] = {}


def holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    key = (country, subdivision, year)
    found = _dates.get(key)
    if found is None:
        import holidays
        found = _dates[key] = frozenset(holidays.country_holidays(country, subdiv=subdivision, years=[year]))
    return found


def subdivisions(code: str) -> tuple[str, ...] | None:
    """The subdivisions of a supported country, None for an unknown code.

    Loads only that country: listing all of them (holidays.list_supported_countries) costs
    another 50 ms, so that is left to the error message.
    """
    if code not in _subdivisions:
        import holidays
        try:
            _subdivisions[code] = tuple(type(holidays.country_holidays(code)).subdivisions)
        except NotImplementedError:
            _subdivisions[code] = None
    return _subdivisions[code]


def known() -> dict:
    """Everything answered so far, as JSON-able data for `seed`."""
    return {"dates": sorted([c, s, y, sorted(d.isoformat() for d in days)] for (c, s, y), days in _dates.items()),
            "subdivisions": sorted([c, list(s) if s is not None else None] for c, s in _subdivisions.items())}


def seed(data: dict) -> None:
    """Take in answers from `known()` of an earlier run (same library version: the caller checks)."""
    for country, subdivision, year, days in data.get("dates", ()):
        _dates.setdefault((country, subdivision, int(year)), frozenset(date.fromisoformat(d) for d in days))
    for country, subs in data.get("subdivisions", ()):
        _subdivisions.setdefault(country, tuple(subs) if subs is not None else None)


def library_version() -> str | None:
    """The installed `holidays` version, read from its metadata without importing it."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("holidays")
    except PackageNotFoundError:
        return None
