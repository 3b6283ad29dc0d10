"""Config text -> validated `Team`. Every problem is collected and reported at once.

The schema lives in the `_KEYS` tables below (one place, like Radicale's config
schema), so unknown keys get a "did you mean" from the same list the reader uses.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from .errors import ConfigError, Problem
from . import yamltree
from .publicholidays import HolidayFacts
from .durations import Interval, parse_interval, parse_length
from .model import (WEEKDAYS, Aftercare, Calendar, ContactAgreement, FeedSettings, MailSettings,
                    NetworkMeeting, Person, ReminderSettings, SessionSeries, Team, WorkingHours)
from .yamltree import Mapping, Node, Rejected, Scalar, Sequence

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_WEEKDAY_NAMES = {
    **{d: i for i, d in enumerate(WEEKDAYS)},
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
    "ma": 0, "di": 1, "wo": 2, "do": 3, "vr": 4, "za": 5, "zo": 6,
    "maandag": 0, "dinsdag": 1, "woensdag": 2, "donderdag": 3, "vrijdag": 4, "zaterdag": 5, "zondag": 6,
}
_PERIODS = {"month": 12, "monthly": 12, "quarter": 4, "quarterly": 4, "half year": 2,
            "half-year": 2, "year": 1, "yearly": 1, "maand": 12, "kwartaal": 4, "jaar": 1}
_TIMES_A_YEAR_RE = re.compile(r"^(\d+)\s*(?:times|x|keer)\s*(?:a|per)\s*(?:year|jaar)$")

# key -> required?
_KEYS = {
    "top": {"version": True, "team": False, "timezone": True, "language": False, "horizon": False,
            "working_hours": False, "holidays": False, "reminders": False, "people": True,
            "calendars": True, "contacts": False, "projects": False, "sessions": False,
            "meetings": False, "mail": False, "feed": False},
    "mail": {"organizer": True, "organizer_name": False, "smtp_host": True, "smtp_port": False,
             "security": False, "username": False, "password_env": False, "keyring": False,
             "password": False, "invite": False},
    "feed": {"base_url": False, "listen": False, "refresh": False},
    "working_hours": {"days": True, "start": True, "end": True},
    "reminders": {"max_per_week": False, "overdue_every": False, "at": False, "ahead": False,
                  "alarm": False},
    "holidays": {"country": True, "subdivision": False},
    "person": {"name": True, "email": False, "calendar": True, "working_hours": False,
               "language": False},
    "calendar": {"ics": False, "caldav": False, "username": False, "password_env": False,
                 "keyring": False, "password": False},
    "contact": {"id": False, "owner": True, "with": True, "role": False, "organisation": False,
                "every": True, "last": False, "next": False, "medium": False, "duration": False,
                "question": False},
    "project": {"id": False, "name": True, "client": False, "team": True, "end": True,
                "aftercare": True, "duration": False, "at": False, "location": False},
    "session": {"id": False, "name": True, "every": True, "participants": True, "prefer": True,
                "duration": False, "location": False, "description": False},
    "prefer": {"weekday": True, "start": True},
    "log": {"who": True, "with": True, "on": True, "next": False, "note": False},
    "meeting": {"id": False, "name": True, "at": True, "duration": False, "location": False,
                "representative": True, "colleagues": False, "prepare": False, "report_back": False},
}
_MEDIA = ("phone", "video", "coffee", "lunch", "walk", "visit", "email", "drinks", "event",
          "bellen", "videobellen", "koffie", "wandeling", "bezoek", "borrel")

_MISSING = object()


def slug(text: str) -> str:
    """'Jan-Willem van den Brink' -> 'jan-willem-van-den-brink' (accents folded)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-") or "x"


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=1)
def _countries() -> dict[str, tuple[str, ...]]:
    import holidays
    return {code: tuple(subs) for code, subs in holidays.list_supported_countries().items()}


def suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Reader:
    """Typed access to the YAML tree that records a located Problem instead of raising."""

    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[Problem] = []

    def problem(self, line: int, path: str, message: str, value: object = _MISSING) -> None:
        self.problems.append(Problem(self.filename, line, path, message,
                                     None if value is _MISSING else value, value is not _MISSING))

    def bad(self, node: Node, path: str, message: str) -> None:
        if not isinstance(node, Rejected):   # a forbidden tag was reported already
            self.problem(node.line, path, message, yamltree.shown(node))

    # -- structure ---------------------------------------------------------
    def mapping(self, node: Node | None, path: str, schema: str) -> dict[str, tuple[int, Node]] | None:
        if node is None or isinstance(node, Rejected):
            return None
        if not isinstance(node, Mapping):
            if isinstance(node, Scalar) and node.is_null:
                self.problem(node.line, path, "is empty; expected a mapping of keys")
            else:
                self.bad(node, path, "expected a mapping of keys")
            return None
        allowed = _KEYS[schema]
        meant = set()
        for key, (line, _) in node.items.items():
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                hint = suggest(key, allowed)
                self.problem(line, where, "unknown key" + hint)
                meant.update(difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6))
        for key, required in allowed.items():
            # A misspelt key already got "did you mean"; "missing" on top would only confuse.
            if required and key not in node.items and key not in meant:
                self.problem(node.line, path or "(top level)", f"missing required key '{key}'")
        return {k: v for k, v in node.items.items() if k in allowed}

    def sequence(self, node: Node, path: str, allow_single: bool = False) -> list[Node] | None:
        if isinstance(node, Rejected):
            return None
        if isinstance(node, Sequence):
            return node.items
        if allow_single and isinstance(node, Scalar) and not node.is_null:
            return [node]
        self.bad(node, path, "expected a list")
        return None

    # -- scalars -----------------------------------------------------------
    def text(self, node: Node, path: str) -> str | None:
        if isinstance(node, Rejected):
            return None
        if not isinstance(node, Scalar):
            self.bad(node, path, "expected text")
            return None
        if node.is_null or not node.text.strip():
            self.problem(node.line, path, "must not be empty")
            return None
        return node.text.strip()

    def integer(self, node: Node, path: str, minimum: int, maximum: int) -> int | None:
        if not isinstance(node, Scalar) or not node.is_int:
            self.bad(node, path, "expected a whole number")
            return None
        try:
            value = int(node.text.replace("_", ""))
        except ValueError:  # YAML 1.1 spellings such as 0x1F
            value = int(node.text.replace("_", ""), 0)
        if not minimum <= value <= maximum:
            self.bad(node, path, f"must be between {minimum} and {maximum}")
            return None
        return value

    def date(self, node: Node, path: str) -> date | None:
        text = self.text(node, path)
        if text is None:
            return None
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            self.bad(node, path, "expected a date as YYYY-MM-DD")
            return None
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            self.bad(node, path, f"not a real date: {exc}")
            return None

    def time(self, node: Node, path: str) -> time | None:
        text = self.text(node, path)
        if text is None:
            return None
        match = _TIME_RE.match(text)
        if not match:
            self.bad(node, path, "expected a time as HH:MM (24-hour clock)")
            return None
        return time(int(match.group(1)), int(match.group(2)))

    def interval(self, node: Node, path: str) -> Interval | None:
        text = self.text(node, path)
        if text is None:
            return None
        try:
            return parse_interval(text)
        except ValueError as exc:
            self.bad(node, path, str(exc))
            return None

    def length(self, node: Node, path: str) -> timedelta | None:
        if isinstance(node, Scalar) and node.is_int:
            self.bad(node, path, "a bare number is ambiguous; write '30m' or '1h'")
            return None
        text = self.text(node, path)
        if text is None:
            return None
        try:
            return parse_length(text)
        except ValueError as exc:
            self.bad(node, path, str(exc))
            return None

    def weekday(self, node: Node, path: str) -> int | None:
        text = self.text(node, path)
        if text is None:
            return None
        if text.lower() not in _WEEKDAY_NAMES:
            self.bad(node, path, "unknown weekday; use mon, tue, wed, thu, fri, sat or sun"
                     + suggest(text.lower(), _WEEKDAY_NAMES))
            return None
        return _WEEKDAY_NAMES[text.lower()]

    def choice(self, node: Node, path: str, options: tuple[str, ...]) -> str | None:
        text = self.text(node, path)
        if text is None:
            return None
        if text.lower() not in options:
            self.bad(node, path, f"must be one of {', '.join(options)}" + suggest(text.lower(), options))
            return None
        return text.lower()

    def identifier(self, node: Node, path: str, what: str) -> str | None:
        text = self.text(node, path)
        if text is None:
            return None
        if not _ID_RE.match(text):
            self.bad(node, path, f"a {what} id must be lower-case letters, digits, '.', '_' or '-'")
            return None
        return text


def load_team(text: str, filename: str = "config.yaml", holidays: HolidayFacts | None = None) -> Team:
    """Parse and validate a team config. Raises ConfigError listing every problem.

    `holidays`: the public-holiday answers to use and add to (a fresh memo if not given);
    the team keeps it, so planning asks the same memo.
    """
    facts = holidays if holidays is not None else HolidayFacts()
    tree, problems = yamltree.parse(text, filename)
    reader = _Reader(filename)
    reader.problems.extend(problems)
    team = None
    if tree is not None:
        team = _read_team(reader, tree, facts)
    if reader.problems or team is None:
        raise ConfigError(reader.problems)
    return team


def _get(fields: dict, key: str):
    item = fields.get(key)
    return item[1] if item else None


def _read_team(r: _Reader, tree: Node, facts: HolidayFacts) -> Team | None:
    top = r.mapping(tree, "", "top")
    if top is None:
        return None
    node = _get(top, "version")
    if node is not None and r.integer(node, "version", 1, 1) is None:
        pass
    tz = ZoneInfo("Europe/Amsterdam")
    if (node := _get(top, "timezone")) is not None:
        name = r.text(node, "timezone")
        if name is not None:
            if name in _timezones():
                tz = ZoneInfo(name)
            else:
                r.bad(node, "timezone", "unknown time zone" + suggest(name, _timezones()))
    language = "nl"
    if (node := _get(top, "language")) is not None:
        language = r.choice(node, "language", ("nl", "en")) or language
    horizon = Interval(12, "months")
    if (node := _get(top, "horizon")) is not None:
        horizon = r.interval(node, "horizon") or horizon
        if horizon.unit == "days" and horizon.count > 3660 or horizon.months > 120:
            r.bad(node, "horizon", "a horizon over 10 years cannot be planned")
    team_name = "Team"
    if (node := _get(top, "team")) is not None:
        team_name = r.text(node, "team") or team_name
    country, subdivision = _read_holidays(r, _get(top, "holidays"), facts)
    default_hours = _read_working_hours(r, _get(top, "working_hours"), "working_hours")
    reminders = _read_reminders(r, _get(top, "reminders"))

    calendars = _read_calendars(r, _get(top, "calendars"))
    people = _read_people(r, _get(top, "people"), calendars, default_hours, language)
    refs = _Refs(r, people)

    contacts = _read_list(r, top, "contacts", "contact", lambda f, p, n: _read_contact(r, f, p, n, refs))
    seen: dict[tuple[str, str], int] = {}
    for agreement, _, path in contacts.located:
        key = (agreement.owner, agreement.id)
        if key in seen:
            r.problem(agreement.line, path, f"duplicate contact agreement '{agreement.id}' for "
                      f"'{agreement.owner}'; the first is on line {seen[key]}", agreement.contact)
        else:
            seen[key] = agreement.line
    projects = _read_list(r, top, "projects", "project", lambda f, p, n: _read_project(r, f, p, n, refs))
    sessions = _read_list(r, top, "sessions", "session",
                          lambda f, p, n: _read_session(r, f, p, n, refs, people))
    meetings = _read_list(r, top, "meetings", "meeting",
                          lambda f, p, n: _read_meeting(r, f, p, n, refs, tz))
    for kind, items in (("projects", projects), ("sessions", sessions), ("meetings", meetings)):
        _check_unique_ids(r, kind, items)
    mail = _read_mail(r, _get(top, "mail"), team_name)
    feed = _read_feed(r, _get(top, "feed"), team_name)
    if r.problems:
        return None
    return Team(name=team_name, timezone=tz, language=language, horizon=horizon,
                holiday_country=country, holiday_subdivision=subdivision, reminders=reminders,
                people=people, calendars=calendars, contacts=tuple(contacts), projects=tuple(projects),
                sessions=tuple(sessions), meetings=tuple(meetings), source=r.filename, mail=mail, feed=feed,
                public_holidays=facts)


def _check_unique_ids(r: _Reader, kind: str, items) -> None:
    seen: dict[str, str] = {}
    for item, fields, path in items.located:
        if item.id in seen:
            if "id" in fields:
                r.problem(fields["id"][0], f"{path}.id",
                          f"duplicate {kind[:-1]} id; {seen[item.id]} has it already", item.id)
            else:
                r.problem(fields["name"][0], f"{path}.name",
                          f"duplicate {kind[:-1]} id '{item.id}' (made from the name); {seen[item.id]} "
                          "has it already; give one of them an 'id'", item.name)
        else:
            seen[item.id] = path


class _Located(list):
    """A list of parsed items that also remembers (item, line, path) for later checks."""

    def __init__(self):
        super().__init__()
        self.located: list[tuple[object, dict, str]] = []


def _read_list(r: _Reader, top: dict, key: str, schema: str, read_one) -> _Located:
    result = _Located()
    node = _get(top, key)
    if node is None or isinstance(node, Scalar) and node.is_null:
        return result
    items = r.sequence(node, key)
    for index, item in enumerate(items or ()):
        path = f"{key}[{index}]"
        fields = r.mapping(item, path, schema)
        if fields is None:
            continue
        parsed = read_one(fields, path, item)
        if parsed is not None:
            result.append(parsed)
            result.located.append((parsed, fields, path))
    return result


class _Refs:
    """Resolves person ids (and `all`) with a 'did you mean' for typos."""

    def __init__(self, r: _Reader, people: dict[str, Person]):
        self.r = r
        self.people = people

    def person(self, node: Node, path: str) -> str | None:
        text = self.r.text(node, path)
        if text is None:
            return None
        if text not in self.people:
            self.r.bad(node, path, "unknown person" + suggest(text, self.people))
            return None
        return text

    def group(self, node: Node, path: str, allow_all: bool = True) -> tuple[str, ...] | None:
        if allow_all and isinstance(node, Scalar) and node.text.strip().lower() in ("all", "iedereen"):
            return tuple(self.people)
        items = self.r.sequence(node, path)
        if items is None:
            return None
        if not items:
            self.r.problem(node.line, path, "must name at least one person")
            return None
        result: list[str] = []
        for index, item in enumerate(items):
            person = self.person(item, f"{path}[{index}]")
            if person is None:
                continue
            if person in result:
                self.r.bad(item, f"{path}[{index}]", "person listed twice")
                continue
            result.append(person)
        return tuple(result) if len(result) == len(items) else None


def _read_holidays(r: _Reader, node: Node | None, facts: HolidayFacts) -> tuple[str | None, str | None]:
    if node is None:
        return "NL", None
    if isinstance(node, Scalar):
        if node.is_null or node.is_bool and node.text.lower() in ("false", "no", "off") or (
                node.text.strip().lower() == "none"):
            return None, None
        code, subdivision = node.text.strip().upper(), None
        line = node.line
        path = "holidays"
    else:
        fields = r.mapping(node, "holidays", "holidays")
        if fields is None:
            return None, None
        code = (r.text(_get(fields, "country"), "holidays.country") or "").upper() if _get(fields, "country") else ""
        line = fields["country"][0] if "country" in fields else node.line
        path = "holidays.country"
        subdivision = None
        if (sub := _get(fields, "subdivision")) is not None:
            subdivision = r.text(sub, "holidays.subdivision")
        if not code:
            return None, None
    subdivisions = facts.subdivisions(code)
    if subdivisions is None:
        r.problem(line, path, "unknown country code for public holidays" + suggest(code, _countries()), code)
        return None, None
    if subdivision is not None and subdivision not in subdivisions:
        r.problem(line, "holidays.subdivision", f"unknown subdivision of {code}"
                  + suggest(subdivision, subdivisions), subdivision)
        return code, None
    return code, subdivision


def _read_working_hours(r: _Reader, node: Node | None, path: str,
                        default: WorkingHours | None = None) -> WorkingHours:
    fallback = default or WorkingHours(tuple(((time(9), time(17)),) if d < 5 else () for d in range(7)))
    if node is None:
        return fallback
    blocks_nodes = node.items if isinstance(node, Sequence) else [node]
    per_day: list[list[tuple[time, time, int, str]]] = [[] for _ in range(7)]
    ok = True
    for index, block in enumerate(blocks_nodes):
        block_path = f"{path}[{index}]" if isinstance(node, Sequence) else path
        fields = r.mapping(block, block_path, "working_hours")
        if fields is None:
            ok = False
            continue
        days_node, start_node, end_node = (_get(fields, k) for k in ("days", "start", "end"))
        start = r.time(start_node, f"{block_path}.start") if start_node else None
        end = r.time(end_node, f"{block_path}.end") if end_node else None
        days: list[int] = []
        if days_node is not None:
            for day_index, day_node in enumerate(r.sequence(days_node, f"{block_path}.days") or ()):
                day = r.weekday(day_node, f"{block_path}.days[{day_index}]")
                if day is not None:
                    if day in days:
                        r.bad(day_node, f"{block_path}.days[{day_index}]", "weekday listed twice")
                    days.append(day)
        if start is None or end is None or days_node is None:
            ok = False
            continue
        if end <= start:
            r.problem(end_node.line, f"{block_path}.end", f"working hours end before they start ({start:%H:%M})",
                      f"{end:%H:%M}")
            ok = False
            continue
        for day in days:
            per_day[day].append((start, end, block.line, block_path))
    for day, blocks in enumerate(per_day):
        blocks.sort()
        for (s1, e1, line1, p1), (s2, e2, line2, p2) in zip(blocks, blocks[1:]):
            if s2 < e1:
                later, earlier = sorted([(line1, p1, s1, e1), (line2, p2, s2, e2)], reverse=True)
                r.problem(later[0], later[1], f"working hours overlap on {WEEKDAYS[day]} with line {earlier[0]}",
                          f"{later[2]:%H:%M}-{later[3]:%H:%M}")
                ok = False
    if not ok:
        return fallback
    if not any(per_day):
        r.problem(node.line, path, "no working days at all; nothing could ever be planned")
        return fallback
    return WorkingHours(tuple(tuple((s, e) for s, e, _, _ in blocks) for blocks in per_day))


def _read_reminders(r: _Reader, node: Node | None) -> ReminderSettings:
    defaults = ReminderSettings()
    if node is None:
        return defaults
    fields = r.mapping(node, "reminders", "reminders")
    if fields is None:
        return defaults
    values = {}
    if (n := _get(fields, "max_per_week")) is not None:
        values["max_per_week"] = r.integer(n, "reminders.max_per_week", 1, 7)
    if (n := _get(fields, "overdue_every")) is not None:
        values["overdue_every"] = r.interval(n, "reminders.overdue_every")
    if (n := _get(fields, "at")) is not None:
        values["at"] = r.time(n, "reminders.at")
    if (n := _get(fields, "ahead")) is not None:
        values["ahead"] = r.integer(n, "reminders.ahead", 1, 12)
    if (n := _get(fields, "alarm")) is not None:
        if isinstance(n, Scalar) and (n.is_null or n.text.strip().lower() in ("none", "off", "geen")
                                      or n.is_bool and n.text.lower() in ("false", "no", "off")):
            values["alarm"] = None
        else:
            alarm = r.length(n, "reminders.alarm")
            values["alarm"] = alarm if alarm is not None else defaults.alarm
    return ReminderSettings(**{k: (v if v is not None or k == "alarm" else getattr(defaults, k))
                               for k, v in {**defaults.__dict__, **values}.items()})


class _Calendars(dict):
    """Valid calendars by id; `defined` also holds the ids of calendars that had problems."""

    defined: set[str]


def _read_calendars(r: _Reader, node: Node | None) -> dict[str, Calendar]:
    result: dict[str, Calendar] = _Calendars()
    result.defined = set(node.items) if isinstance(node, Mapping) else set()
    if node is None:
        return result
    if not isinstance(node, Mapping):
        r.bad(node, "calendars", "expected a mapping of calendar ids")
        return result
    if not node.items:
        r.problem(node.line, "calendars", "define at least one calendar")
    for cal_id, (line, cal_node) in node.items.items():
        path = f"calendars.{cal_id}"
        if not _ID_RE.match(cal_id):
            r.problem(line, path, "a calendar id must be lower-case letters, digits, '.', '_' or '-'", cal_id)
            continue
        fields = r.mapping(cal_node, path, "calendar")
        if fields is None:
            continue
        if "password" in fields:
            # Never echo the value: it is a secret by definition.
            r.problem(fields["password"][0], f"{path}.password",
                      "a password must not be written in the config; use password_env (an "
                      "environment variable name) or keyring (a keyring service name)")
        has_ics, has_dav = "ics" in fields, "caldav" in fields
        if has_ics == has_dav:
            r.problem(cal_node.line, path, "a calendar needs exactly one of 'ics' (a file path) "
                      "or 'caldav' (a server URL)")
            continue
        if has_ics:
            for extra in ("username", "password_env", "keyring"):
                if extra in fields:
                    r.problem(fields[extra][0], f"{path}.{extra}", "only used with 'caldav'")
            ics = r.text(_get(fields, "ics"), f"{path}.ics")
            if ics is not None:
                if not ics.endswith(".ics"):
                    r.bad(_get(fields, "ics"), f"{path}.ics", "the file name must end in .ics")
                elif "{person}" not in ics:
                    r.bad(_get(fields, "ics"), f"{path}.ics",
                          "must contain {person}, so that every person gets a file of their own")
                else:
                    result[cal_id] = Calendar(cal_id, "ics", ics_path=ics)
            continue
        url = r.text(_get(fields, "caldav"), f"{path}.caldav")
        if url is not None and not re.match(r"^https?://[^/\s]+", url):
            r.bad(_get(fields, "caldav"), f"{path}.caldav", "expected an http:// or https:// URL")
            url = None
        if url is not None and re.match(r"^https?://[^/@\s]*:[^/@\s]*@", url):
            r.problem(fields["caldav"][0], f"{path}.caldav",
                      "the URL contains a password; use password_env or keyring instead")
            url = None
        username = r.text(_get(fields, "username"), f"{path}.username") if "username" in fields else None
        password_env = keyring = None
        if "password_env" in fields:
            password_env = r.text(_get(fields, "password_env"), f"{path}.password_env")
            if password_env and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", password_env):
                # Not echoed: what does not look like a variable name may be the password itself.
                r.problem(fields["password_env"][0], f"{path}.password_env",
                          "expected the name of an environment variable, not a password")
                password_env = None
        if "keyring" in fields:
            keyring = r.text(_get(fields, "keyring"), f"{path}.keyring")
        if "password_env" in fields and "keyring" in fields:
            r.problem(cal_node.line, path, "use either password_env or keyring, not both")
        if url is not None:
            result[cal_id] = Calendar(cal_id, "caldav", url=url, username=username,
                                      password_env=password_env, keyring=keyring)
    return result


def _read_people(r: _Reader, node: Node | None, calendars: dict[str, Calendar],
                 default_hours: WorkingHours, language: str) -> dict[str, Person]:
    result: dict[str, Person] = {}
    if node is None:
        return result
    if not isinstance(node, Mapping) or not node.items:
        r.bad(node, "people", "expected a mapping of person ids to their details")
        return result
    emails: dict[str, str] = {}
    for person_id, (line, person_node) in node.items.items():
        path = f"people.{person_id}"
        if not _ID_RE.match(person_id):
            r.problem(line, path, "a person id must be lower-case letters, digits, '.', '_' or '-'",
                      person_id)
            continue
        fields = r.mapping(person_node, path, "person")
        if fields is None:
            continue
        name = r.text(_get(fields, "name"), f"{path}.name") if "name" in fields else None
        email = None
        if "email" in fields:
            email = r.text(_get(fields, "email"), f"{path}.email")
            if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                r.bad(_get(fields, "email"), f"{path}.email", "not an e-mail address")
                email = None
            elif email:
                if email.lower() in emails:
                    r.bad(_get(fields, "email"), f"{path}.email",
                          f"the same e-mail address as person '{emails[email.lower()]}'")
                emails[email.lower()] = person_id
        calendar = None
        if "calendar" in fields:
            calendar = r.text(_get(fields, "calendar"), f"{path}.calendar")
            if calendar is not None and calendar not in calendars:
                if calendar not in getattr(calendars, "defined", ()):  # else its own problem was reported
                    r.bad(_get(fields, "calendar"), f"{path}.calendar",
                          "unknown calendar" + suggest(calendar, calendars))
                calendar = None
        hours = _read_working_hours(r, _get(fields, "working_hours"), f"{path}.working_hours", default_hours)
        person_language = language
        if "language" in fields:
            person_language = r.choice(_get(fields, "language"), f"{path}.language", ("nl", "en")) or language
        if name and calendar:
            result[person_id] = Person(person_id, name, email, calendar, hours, person_language)
    return result


def _optional_text(r: _Reader, fields: dict, key: str, path: str) -> str | None:
    return r.text(_get(fields, key), f"{path}.{key}") if key in fields else None


def _read_contact(r: _Reader, fields: dict, path: str, node: Node, refs: _Refs) -> ContactAgreement | None:
    owner = refs.person(_get(fields, "owner"), f"{path}.owner") if "owner" in fields else None
    contact = r.text(_get(fields, "with"), f"{path}.with") if "with" in fields else None
    every = r.interval(_get(fields, "every"), f"{path}.every") if "every" in fields else None
    ident = None
    if "id" in fields:
        ident = r.identifier(_get(fields, "id"), f"{path}.id", "contact")
    elif contact:
        ident = slug(contact)
    last = r.date(_get(fields, "last"), f"{path}.last") if "last" in fields else None
    next_date = r.date(_get(fields, "next"), f"{path}.next") if "next" in fields else None
    if last and next_date and next_date <= last:
        r.problem(fields["next"][0], f"{path}.next", f"the next contact must come after the last ({last})",
                  str(next_date))
        next_date = None
    medium = None
    if "medium" in fields:
        medium = r.text(_get(fields, "medium"), f"{path}.medium")
        if medium and medium.lower() not in _MEDIA:
            r.bad(_get(fields, "medium"), f"{path}.medium",
                  f"unknown medium; use one of {', '.join(_MEDIA[:9])}" + suggest(medium.lower(), _MEDIA))
            medium = None
    duration = timedelta(minutes=30)
    if "duration" in fields:
        duration = r.length(_get(fields, "duration"), f"{path}.duration") or duration
    if not (owner and contact and every and ident):
        return None
    return ContactAgreement(
        id=ident, owner=owner, contact=contact, every=every,
        role=_optional_text(r, fields, "role", path),
        organisation=_optional_text(r, fields, "organisation", path),
        last=last, next=next_date, medium=medium.lower() if medium else None, duration=duration,
        question=_optional_text(r, fields, "question", path), line=node.line)


def _read_project(r: _Reader, fields: dict, path: str, node: Node, refs: _Refs) -> Aftercare | None:
    name = r.text(_get(fields, "name"), f"{path}.name") if "name" in fields else None
    ident = r.identifier(_get(fields, "id"), f"{path}.id", "project") if "id" in fields else (
        slug(name) if name else None)
    team = refs.group(_get(fields, "team"), f"{path}.team") if "team" in fields else None
    end = r.date(_get(fields, "end"), f"{path}.end") if "end" in fields else None
    offsets: list[Interval] = []
    if "aftercare" in fields:
        items = r.sequence(_get(fields, "aftercare"), f"{path}.aftercare", allow_single=True) or []
        if not items:
            r.problem(fields["aftercare"][0], f"{path}.aftercare", "name at least one follow-up, e.g. [6 weeks]")
        for index, item in enumerate(items):
            offset = r.interval(item, f"{path}.aftercare[{index}]")
            if offset is not None:
                if offset in offsets:
                    r.bad(item, f"{path}.aftercare[{index}]", "the same follow-up is listed twice")
                else:
                    offsets.append(offset)
    duration = timedelta(hours=1)
    if "duration" in fields:
        duration = r.length(_get(fields, "duration"), f"{path}.duration") or duration
    start = time(10, 0)
    if "at" in fields:
        start = r.time(_get(fields, "at"), f"{path}.at") or start
    if not (name and ident and team and end and offsets):
        return None
    return Aftercare(ident, name, _optional_text(r, fields, "client", path), team, end,
                     tuple(offsets), duration, start, _optional_text(r, fields, "location", path))


def _read_session(r: _Reader, fields: dict, path: str, node: Node, refs: _Refs,
                  people: dict[str, Person]) -> SessionSeries | None:
    name = r.text(_get(fields, "name"), f"{path}.name") if "name" in fields else None
    ident = r.identifier(_get(fields, "id"), f"{path}.id", "session") if "id" in fields else (
        slug(name) if name else None)
    periods = None
    if "every" in fields:
        every_node = _get(fields, "every")
        text = r.text(every_node, f"{path}.every")
        if text is not None:
            lowered = " ".join(text.lower().split())
            match = _TIMES_A_YEAR_RE.match(lowered)
            if lowered in _PERIODS:
                periods = _PERIODS[lowered]
            elif match and int(match.group(1)) in (1, 2, 3, 4, 6, 12):
                periods = int(match.group(1))
            else:
                r.bad(every_node, f"{path}.every", "expected month, quarter, half year, year or "
                      "'N times a year' with N one of 1, 2, 3, 4, 6, 12")
    participants = refs.group(_get(fields, "participants"), f"{path}.participants") if "participants" in fields else None
    weekday = start = None
    prefer = r.mapping(_get(fields, "prefer"), f"{path}.prefer", "prefer") if "prefer" in fields else None
    if prefer is not None:
        if "weekday" in prefer:
            weekday = r.weekday(_get(prefer, "weekday"), f"{path}.prefer.weekday")
        if "start" in prefer:
            start = r.time(_get(prefer, "start"), f"{path}.prefer.start")
    duration = timedelta(hours=1)
    if "duration" in fields:
        duration = r.length(_get(fields, "duration"), f"{path}.duration") or duration
    if None in (name, ident, periods, participants, weekday, start):
        return None
    # The preferred slot must be possible for every participant, or no date could ever be found.
    blocked = [p for p in participants if not _slot_possible(people[p].working_hours, weekday, start, duration)]
    if blocked:
        r.problem(prefer["start"][0], f"{path}.prefer",
                  f"{WEEKDAYS[weekday]} {start:%H:%M} for {int(duration.total_seconds() // 60)} minutes "
                  f"is outside the working hours of {', '.join(blocked)}",
                  f"{WEEKDAYS[weekday]} {start:%H:%M}")
        return None
    return SessionSeries(ident, name, periods, participants, weekday, start, duration,
                         _optional_text(r, fields, "location", path),
                         _optional_text(r, fields, "description", path))


def _slot_possible(hours: WorkingHours, weekday: int, start: time, duration: timedelta) -> bool:
    monday = date(2024, 1, 1)  # a Monday: any week will do to test the weekly pattern
    return hours.fits(monday + timedelta(days=weekday), start, duration)


def _read_meeting(r: _Reader, fields: dict, path: str, node: Node, refs: _Refs, tz: ZoneInfo) -> NetworkMeeting | None:
    name = r.text(_get(fields, "name"), f"{path}.name") if "name" in fields else None
    ident = r.identifier(_get(fields, "id"), f"{path}.id", "meeting") if "id" in fields else (
        slug(name) if name else None)
    at = None
    if "at" in fields:
        at_node = _get(fields, "at")
        text = r.text(at_node, f"{path}.at")
        if text is not None:
            match = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})", text)
            if not match:
                r.bad(at_node, f"{path}.at", "expected a date and time as 'YYYY-MM-DD HH:MM'")
            else:
                try:
                    day = date.fromisoformat(match.group(1))
                except ValueError as exc:
                    r.bad(at_node, f"{path}.at", f"not a real date: {exc}")
                else:
                    clock = _TIME_RE.match(match.group(2))
                    if not clock:
                        r.bad(at_node, f"{path}.at", "not a real time of day")
                    else:
                        at = datetime.combine(day, time(int(clock.group(1)), int(clock.group(2))), tz)
    duration = timedelta(hours=2)
    if "duration" in fields:
        duration = r.length(_get(fields, "duration"), f"{path}.duration") or duration
    representative = refs.person(_get(fields, "representative"), f"{path}.representative") if "representative" in fields else None
    colleagues: tuple[str, ...] | None = tuple(refs.people)
    if "colleagues" in fields:
        colleagues = refs.group(_get(fields, "colleagues"), f"{path}.colleagues")
    prepare = _relative(r, fields, "prepare", path, "before")
    report_back = _relative(r, fields, "report_back", path, "after")
    if None in (name, ident, at, representative, colleagues) or prepare is False or report_back is False:
        return None
    return NetworkMeeting(ident, name, at, duration, representative,
                          tuple(c for c in colleagues if c != representative),
                          prepare or None, report_back or None, _optional_text(r, fields, "location", path))


def _relative(r: _Reader, fields: dict, key: str, path: str, word: str):
    """'2 weeks before' / '1 day after' -> Interval; None if absent; False if wrong."""
    if key not in fields:
        return None
    node = _get(fields, key)
    text = r.text(node, f"{path}.{key}")
    if text is None:
        return False
    words = {"before": ("before", "voor", "vooraf", "ervoor"), "after": ("after", "na", "erna", "achteraf")}[word]
    parts = text.strip().lower().rsplit(None, 1)
    body = parts[0] if len(parts) == 2 and parts[1] in words else text
    if len(parts) == 2 and parts[1] in {w for ws in (("before", "voor"), ("after", "na")) for w in ws} - set(words):
        r.bad(node, f"{path}.{key}", f"must be {word} the meeting, e.g. '2 weeks {word}'")
        return False
    try:
        return parse_interval(body)
    except ValueError as exc:
        r.bad(node, f"{path}.{key}", f"{exc} {word} the meeting")
        return False


def _read_mail(r: _Reader, node: Node | None, team_name: str) -> MailSettings | None:
    if node is None:
        return None
    fields = r.mapping(node, "mail", "mail")
    if fields is None:
        return None
    if "password" in fields:
        r.problem(fields["password"][0], "mail.password",
                  "a password must not be written in the config; use password_env or keyring")
    organizer = r.text(_get(fields, "organizer"), "mail.organizer") if "organizer" in fields else None
    if organizer and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", organizer):
        r.bad(_get(fields, "organizer"), "mail.organizer", "not an e-mail address")
        organizer = None
    host = r.text(_get(fields, "smtp_host"), "mail.smtp_host") if "smtp_host" in fields else None
    security = "starttls"
    if "security" in fields:
        security = r.choice(_get(fields, "security"), "mail.security", ("starttls", "ssl", "none")) or security
    port = {"starttls": 587, "ssl": 465, "none": 25}[security]
    if "smtp_port" in fields:
        port = r.integer(_get(fields, "smtp_port"), "mail.smtp_port", 1, 65535) or port
    password_env = None
    if "password_env" in fields:
        password_env = r.text(_get(fields, "password_env"), "mail.password_env")
        if password_env and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", password_env):
            r.problem(fields["password_env"][0], "mail.password_env",
                      "expected the name of an environment variable, not a password")
            password_env = None
    kinds = ("session", "aftercare", "meeting")
    if "invite" in fields:
        items = r.sequence(_get(fields, "invite"), "mail.invite") or []
        chosen = []
        for index, item in enumerate(items):
            kind = r.choice(item, f"mail.invite[{index}]", kinds)
            if kind:
                chosen.append(kind)
        kinds = tuple(chosen)
    if not (organizer and host):
        return None
    return MailSettings(organizer, _optional_text(r, fields, "organizer_name", "mail") or team_name, host, port,
                        security, _optional_text(r, fields, "username", "mail"), password_env,
                        _optional_text(r, fields, "keyring", "mail"), kinds)


def _read_feed(r: _Reader, node: Node | None, team_name: str) -> FeedSettings:
    if node is None:
        return FeedSettings(name=team_name)
    fields = r.mapping(node, "feed", "feed")
    if fields is None:
        return FeedSettings(name=team_name)
    base_url = None
    if "base_url" in fields:
        base_url = r.text(_get(fields, "base_url"), "feed.base_url")
        if base_url and not re.match(r"^https?://[^/\s@]+", base_url):
            r.bad(_get(fields, "base_url"), "feed.base_url", "expected an https:// URL")
            base_url = None
    host, port = "127.0.0.1", 8080
    if "listen" in fields:
        text = r.text(_get(fields, "listen"), "feed.listen")
        match = re.fullmatch(r"(?:(\[[0-9a-fA-F:]+\]|[0-9.]+|[A-Za-z0-9.-]+):)?(\d{1,5})", text or "")
        if text and (not match or not 0 < int(match.group(2)) < 65536):
            r.bad(_get(fields, "listen"), "feed.listen", "expected HOST:PORT, e.g. 127.0.0.1:8080")
        elif match:
            host, port = (match.group(1) or host).strip("[]"), int(match.group(2))
    refresh = timedelta(hours=12)
    if "refresh" in fields:
        node = _get(fields, "refresh")
        text = r.text(node, "feed.refresh")
        if text is not None:
            try:
                refresh = parse_length(text)              # '6h', '30m'
            except ValueError:
                try:
                    interval = parse_interval(text)       # '1 day', '1 week'
                except ValueError:
                    interval = None
                if interval is None or interval.unit not in ("days", "weeks"):
                    r.bad(node, "feed.refresh", "expected a refresh interval such as '12h', '1 day' or '1 week'")
                else:
                    refresh = timedelta(days=interval.count * (7 if interval.unit == "weeks" else 1))
    return FeedSettings(base_url.rstrip("/") if base_url else None, host, port, refresh, team_name)
