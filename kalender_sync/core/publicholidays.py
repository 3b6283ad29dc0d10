"""Public holidays and subdivisions as the `holidays` library knows them, remembered per run.

Importing `holidays` loads every country it has, a large part of a no-op `sync`'s start-up.
A `HolidayFacts` remembers the library's answers and can be handed answers from an earlier
run (`seed`), so a run whose answers were stored before does not import the library at all.
It is an object the caller owns (the team carries it), not module state: two teams, two
tests or two threads never see each other's memo. Pure: no files. The status DB keeps the
answers (engine.holidaymemo), keyed by the library's version, since a new release can add or
move holidays.
"""
from __future__ import annotations

from datetime import date


class HolidayFacts:
    def __init__(self, known: dict | None = None):
        self._dates: dict[tuple[str, str | None, int], frozenset[date]] = {}
        self._subdivisions: dict[str, tuple[str, ...] | None] = {}
        if known:
            self.seed(known)

    def dates(self, country: str, subdivision: str | None, year: int) -> frozenset[date]:
        key = (country, subdivision, year)
        found = self._dates.get(key)
        if found is None:
            import holidays
            found = self._dates[key] = frozenset(holidays.country_holidays(country, subdiv=subdivision, years=[year]))
        return found

    def subdivisions(self, code: str) -> tuple[str, ...] | None:
        """The subdivisions of a supported country, None for an unknown code.

        Loads only that country: listing all of them (holidays.list_supported_countries) costs
        more, so that is left to the error message.
        """
        if code not in self._subdivisions:
            import holidays
            try:
                self._subdivisions[code] = tuple(type(holidays.country_holidays(code)).subdivisions)
            except NotImplementedError:
                self._subdivisions[code] = None
        return self._subdivisions[code]

    def known(self) -> dict:
        """Everything answered so far, as JSON-able data for `seed`."""
        return {"dates": sorted([c, s, y, sorted(d.isoformat() for d in days)]
                                for (c, s, y), days in self._dates.items()),
                "subdivisions": sorted([c, list(s) if s is not None else None]
                                       for c, s in self._subdivisions.items())}

    def seed(self, data: dict) -> None:
        """Take in answers from `known()` of an earlier run (same library version: the caller checks)."""
        for country, subdivision, year, days in data.get("dates", ()):
            self._dates.setdefault((country, subdivision, int(year)), frozenset(date.fromisoformat(d) for d in days))
        for country, subs in data.get("subdivisions", ()):
            self._subdivisions.setdefault(country, tuple(subs) if subs is not None else None)


def library_version() -> str | None:
    """The installed `holidays` version, read from its metadata without importing it."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("holidays")
    except PackageNotFoundError:
        return None
