"""Public holidays and subdivisions as the `holidays` library knows them, remembered per run.

Importing `holidays` loads every country it has, a large part of a no-op `sync`'s start-up.
A `HolidayFacts` remembers the library's answers and can be handed answers from an earlier
run (`seed`), so a run whose answers were stored before does not import the library at all.
It is an object the caller owns (the team carries it), not module state: two teams, two
tests or two threads never see each other's memo. Pure: no files. The status DB and a per-user
cache keep the answers (storage.status, storage.holidaycache), keyed by the library's version
(storage.holidaycache.library_version), since a new release can add or move holidays.
"""
from __future__ import annotations

from datetime import date


class HolidayFacts:
    def __init__(self, known: dict | None = None):
        self._dates: dict[tuple[str, str | None, int], frozenset[date]] = {}
        # English names, for the reasons a plan gives ("6 May is Ascension Day"); kept apart
        # from the dates so that a memo from before names were kept still seeds the dates.
        self._names: dict[tuple[str, str | None, int], dict[date, str]] = {}
        self._subdivisions: dict[str, tuple[str, ...] | None] = {}
        if known:
            self.seed(known)

    def dates(self, country: str, subdivision: str | None, year: int) -> frozenset[date]:
        key = (country, subdivision, year)
        found = self._dates.get(key)
        if found is None:
            found = self._dates[key] = frozenset(self._lookup(key))
        return found

    def names(self, country: str, subdivision: str | None, year: int) -> dict[date, str]:
        """The holidays' English names by date."""
        key = (country, subdivision, year)
        found = self._names.get(key)
        if found is None:
            found = self._lookup(key)
        return found

    def _lookup(self, key: tuple[str, str | None, int]) -> dict[date, str]:
        import holidays
        country, subdivision, year = key
        # en_US where the country has it; otherwise the library gives its own language.
        found = self._names[key] = dict(holidays.country_holidays(country, subdiv=subdivision, years=[year],
                                                                  language="en_US"))
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

    def known_anything(self) -> bool:
        return bool(self._dates or self._names or self._subdivisions)

    def known(self) -> dict:
        """Everything answered so far, as JSON-able data for `seed`."""
        return {"dates": sorted([c, s, y, sorted(d.isoformat() for d in days)]
                                for (c, s, y), days in self._dates.items()),
                "names": sorted([c, s, y, sorted([d.isoformat(), name] for d, name in names.items())]
                                for (c, s, y), names in self._names.items()),
                "subdivisions": sorted([c, list(s) if s is not None else None]
                                       for c, s in self._subdivisions.items())}

    def seed(self, data: dict) -> None:
        """Take in answers from `known()` of an earlier run (same library version: the caller checks)."""
        for country, subdivision, year, days in data.get("dates", ()):
            self._dates.setdefault((country, subdivision, int(year)), frozenset(date.fromisoformat(d) for d in days))
        for country, subdivision, year, names in data.get("names", ()):
            self._names.setdefault((country, subdivision, int(year)),
                                   {date.fromisoformat(d): name for d, name in names})
        for country, subs in data.get("subdivisions", ()):
            self._subdivisions.setdefault(country, tuple(subs) if subs is not None else None)


def memo_text(facts: HolidayFacts, version: str | None) -> str:
    """What `facts` knows, with the library `version` it came from, as the text a memo keeps."""
    import json
    return json.dumps({"version": version, **facts.known()}, sort_keys=True)


def seed_from_memo(facts: HolidayFacts, text: str | None, version: str | None) -> bool:
    """Take the answers of a memo into `facts` if it came from the installed library `version`
    (a new release can add or move holidays); an unreadable memo is ignored, asked anew."""
    if not text:
        return False
    import json
    try:
        memo = json.loads(text)
        if memo.get("version") != version:
            return False
        facts.seed(memo)
    except (ValueError, TypeError, AttributeError, KeyError):
        return False
    return True
